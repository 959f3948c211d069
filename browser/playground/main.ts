// The playground page's wiring (docs/playground.md): the editor, diagnostics as you type (a 20 ms
// debounce; `diagnosticsAt` records when they were applied), the info and diagram panels a little
// later, the run panel, the examples menu and the program in the URL. window.moecPlayground is
// the page's interface for scripts and the browser tests.
import type { EditorView } from "@codemirror/view";
import { moec, type JsonDiagnostic } from "./moec-module.js";
import { createEditor, replaceText } from "./editor.js";
import { showDiagnostics } from "./diagnostics.js";
import { showInfo } from "./info-panel.js";
import { showDiagram } from "./diagram-panel.js";
import { RunProblem, adapterDescription, clearRun, runEntry, showRun, webgpuProblem, type RunRecord } from "./run-panel.js";
import { exampleSources, fillExamplesMenu } from "./examples-menu.js";
import { suggestedRun } from "./run-hint.js";
import { decodeState, encodeState } from "./url-state.js";
import { parseSetText, type SourceInput } from "./source-input.js";
import { clearStatus, setStatus } from "./status.js";
import { fillEntryList } from "./entry-names.js";
import { ModelProblem, generate, loadCheckpoint, stopGenerating, type GenerationRecord, type LoadedCheckpoint } from "./model-panel.js";

const DIAGNOSTICS_DEBOUNCE_MS = 20;
const PANELS_DEBOUNCE_MS = 150;
const URL_DEBOUNCE_MS = 400;
const DEFAULT_EXAMPLE = "/examples/mixtral.moe";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Playground {
  ready: Promise<void>;
  setSource(text: string): void;
  getSource(): string;
  lastDiagnostics: JsonDiagnostic[];
  lastInfo: Record<string, unknown> | undefined;
  lastRun: RunRecord | undefined;
  run(): Promise<void>;
  diagnosticsAt: number;
  /** The Model panel: load a checkpoint directory's files, then generate from a prompt. */
  loadCheckpoint(files: ArrayLike<File>): Promise<void>;
  generate(prompt: string, maxNewTokens?: number): Promise<void>;
  lastCheckpoint: LoadedCheckpoint | undefined;
  lastGeneration: GenerationRecord | undefined;
}

const state = {
  file: DEFAULT_EXAMPLE,
  lastDiagnostics: [] as JsonDiagnostic[],
  lastInfo: undefined as Record<string, unknown> | undefined,
  lastRun: undefined as RunRecord | undefined,
  diagnosticsAt: 0,
  lastCheckpoint: undefined as LoadedCheckpoint | undefined,
  lastGeneration: undefined as GenerationRecord | undefined,
};
let view: EditorView;
const statusEl = $("status");

/** The toolbar's Set and Entry, or the problem with them (shown in the status line). */
function toolbarInput(): SourceInput | { error: string } {
  const parsed = parseSetText($<HTMLInputElement>("set").value);
  if ("error" in parsed) return parsed;
  const entry = $<HTMLInputElement>("entry").value.trim() || undefined;
  return { source: view.state.doc.toString(), file: state.file, files: exampleSources, entry, set: parsed.set };
}

function currentInput(): SourceInput {
  const t = toolbarInput();
  return "error" in t ? { source: view.state.doc.toString(), file: state.file, files: exampleSources } : t;
}

function applyDiagnostics(ds: JsonDiagnostic[]): void {
  state.lastDiagnostics = ds;
  showDiagnostics(view, $("diagnostics"), $("diagnostics-count"), ds, state.file);
  state.diagnosticsAt = performance.now();
}

const key = (d: JsonDiagnostic) => `${d.file}:${d.line}:${d.column}:${d.code}`;

/** Diagnostics of the text as it is now (`moec check`). */
function updateDiagnostics(): void {
  const input = currentInput();
  applyDiagnostics(moec.check(input).diagnostics);
}

/** Info and diagram of the entry at the toolbar's bindings; their own diagnostics (an entry
 *  that does not check at the bindings, an unknown Set name) join the list. */
function updatePanels(): void {
  fillEntryList($<HTMLDataListElement>("entries"), view.state.doc.toString());
  const t = toolbarInput();
  if ("error" in t) {
    setStatus(statusEl, t.error, "error", "toolbar");
    return;
  }
  clearStatus(statusEl, "toolbar", "format");
  // One elaboration for both panels.
  const info = moec.describe(t);
  if (info.ok) {
    state.lastInfo = info.json;
    showInfo($("info-table"), $("info-note"), info.json, info.text);
    showDiagram($("diagram-svg"), info.svg);
  } else {
    state.lastInfo = undefined;
    showInfo($("info-table"), $("info-note"), undefined, undefined);
    showDiagram($("diagram-svg"), undefined);
    const seen = new Set(state.lastDiagnostics.map(key));
    const extra = info.diagnostics.filter((d) => !seen.has(key(d)));
    if (extra.length) applyDiagnostics([...state.lastDiagnostics, ...extra]);
  }
}

function debounced(ms: number, f: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(f, ms);
  };
}

const scheduleDiagnostics = debounced(DIAGNOSTICS_DEBOUNCE_MS, updateDiagnostics);
const schedulePanels = debounced(PANELS_DEBOUNCE_MS, updatePanels);
const scheduleUrl = debounced(URL_DEBOUNCE_MS, () => void saveUrl());

async function saveUrl(): Promise<void> {
  const hash = await encodeState(view.state.doc.toString(), state.file);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function onChange(): void {
  $("run").classList.add("stale");
  clearStatus(statusEl, "link");
  scheduleDiagnostics();
  schedulePanels();
  scheduleUrl();
}

/** Everything at once (a new text or file, a changed toolbar field). */
function refreshNow(): void {
  updateDiagnostics();
  updatePanels();
}

function setSource(text: string): void {
  replaceText(view, text);
  $("run").classList.add("stale");
  refreshNow();
}

function chooseExample(file: string): void {
  const text = exampleSources[file];
  if (text === undefined) return;
  state.file = file;
  const hint = suggestedRun(text);
  $<HTMLInputElement>("run-set").value = hint.set ?? "";
  if (hint.tokens) $<HTMLInputElement>("run-tokens").value = String(hint.tokens);
  setSource(text);
  void saveUrl();
}

async function formatSource(): Promise<void> {
  const r = await moec.format({ source: view.state.doc.toString(), file: state.file });
  if (r.ok) {
    if (r.text !== view.state.doc.toString()) setSource(r.text);
  } else {
    applyDiagnostics(r.diagnostics);
    setStatus(statusEl, "cannot format: the text does not parse (see the diagnostics)", "error", "format");
  }
}

async function run(): Promise<void> {
  const button = $<HTMLButtonElement>("run-button");
  const t = toolbarInput();
  if ("error" in t) {
    setStatus(statusEl, t.error, "error", "toolbar");
    return;
  }
  const extra = parseSetText($<HTMLInputElement>("run-set").value);
  if ("error" in extra) {
    setStatus(statusEl, `Run: ${extra.error}`, "error", "run");
    return;
  }
  const noGpu = webgpuProblem();
  if (noGpu) {
    setStatus(statusEl, noGpu, "error", "gpu");
    return;
  }
  button.disabled = true;
  setStatus(statusEl, "running…", "note", "run");
  const started = performance.now();
  try {
    const record = await runEntry({ ...t, set: { ...t.set, ...extra.set } }, $("run-tokens"), $("run-seed"));
    state.lastRun = record;
    $("run").classList.remove("stale");
    showRun($("run-output"), $("heatmap"), record, performance.now() - started, await adapterDescription());
    clearStatus(statusEl, "run", "gpu");
  } catch (e) {
    // Every failure is the user's to read: no WebGPU, limits too small, an entry that cannot run.
    state.lastRun = undefined;
    clearRun($("run-output"), $("heatmap"));
    const prefix = e instanceof RunProblem || e instanceof moec.GpuUnavailableError ? "" : e instanceof moec.DeviceMemoryError ? "the adapter's limits are too small for this run: " : "the run failed: ";
    setStatus(statusEl, prefix + ((e as Error)?.message ?? String(e)), "error", "run");
  } finally {
    button.disabled = false;
  }
}

/** A failure of the Model panel, in words: no WebGPU, a directory that is not a checkpoint, bad weights. */
function modelError(e: unknown): void {
  const m = (e as Error)?.message ?? String(e);
  const known = e instanceof ModelProblem || e instanceof moec.CheckpointFilesError || e instanceof moec.WeightsError || e instanceof moec.TextError || e instanceof moec.GpuUnavailableError;
  setStatus(statusEl, known ? m : e instanceof moec.DeviceMemoryError ? `the adapter's limits are too small for this model: ${m}` : `the model failed: ${m}`, "error", "model");
}

async function loadModel(files: ArrayLike<File>): Promise<void> {
  const noGpu = webgpuProblem();
  if (noGpu) {
    setStatus(statusEl, noGpu, "error", "gpu");
    return;
  }
  const parsed = parseSetText($<HTMLInputElement>("model-set").value);
  if ("error" in parsed) {
    setStatus(statusEl, `Model: ${parsed.error}`, "error", "model");
    return;
  }
  const button = $<HTMLButtonElement>("model-load");
  button.disabled = true;
  $<HTMLButtonElement>("generate-button").disabled = true;
  state.lastCheckpoint = undefined;
  try {
    const loaded = await loadCheckpoint(files, parsed.set, (line) => setStatus(statusEl, line, "note", "model"));
    state.lastCheckpoint = loaded;
    // The imported program is the model: its diagnostics, info and diagram fill the other panels.
    state.file = loaded.file;
    $<HTMLSelectElement>("examples").value = "";
    $<HTMLInputElement>("set").value = $<HTMLInputElement>("model-set").value;
    setSource(loaded.source);
    $("model-info").textContent = `${loaded.label}: weights named ${loaded.convention}; ${loaded.tokenizer ? "tokenizer.json read" : "no tokenizer (prompts are token ids)"}; stops at ${loaded.eos.length ? `id ${loaded.eos.join(", ")}` : "the length"}; context ${loaded.context.toLocaleString("en-US")}`;
    $<HTMLButtonElement>("generate-button").disabled = false;
    clearStatus(statusEl, "model");
  } catch (e) {
    $("model-info").textContent = "";
    modelError(e);
  } finally {
    button.disabled = false;
  }
}

async function generateText(prompt: string, maxNewTokens: number): Promise<void> {
  const button = $<HTMLButtonElement>("generate-button");
  const stop = $<HTMLButtonElement>("stop-button");
  button.disabled = true;
  stop.disabled = false;
  state.lastGeneration = undefined;
  try {
    const r = await generate(prompt, maxNewTokens, Number($<HTMLInputElement>("temperature").value), $("generated"));
    state.lastGeneration = r;
    $("generate-note").textContent = `${r.ids.length} tokens (stop: ${r.stop ?? "stopped"})${r.tokensPerSecond ? ` · ${r.tokensPerSecond.toFixed(1)} tokens/s after the first` : ""}`;
    clearStatus(statusEl, "model");
  } catch (e) {
    modelError(e);
  } finally {
    button.disabled = false;
    stop.disabled = true;
  }
}

async function start(): Promise<void> {
  $("version").textContent = `moec ${moec.VERSION}`;
  const menu = $<HTMLSelectElement>("examples");
  fillExamplesMenu(menu);
  const fromUrl = await decodeState(location.hash);
  let text = exampleSources[DEFAULT_EXAMPLE] ?? "";
  if (fromUrl && "error" in fromUrl) setStatus(statusEl, fromUrl.error, "error", "link");
  else if (fromUrl) {
    text = fromUrl.source;
    state.file = fromUrl.file ?? "/inline.moe";
  }
  menu.value = exampleSources[state.file] !== undefined ? state.file : "";
  if (menu.value) {
    const hint = suggestedRun(exampleSources[state.file]!);
    $<HTMLInputElement>("run-set").value = hint.set ?? "";
    if (hint.tokens) $<HTMLInputElement>("run-tokens").value = String(hint.tokens);
  }
  view = createEditor($("editor"), text, { onChange, onFormat: () => void formatSource(), currentInput });
  menu.addEventListener("change", () => chooseExample(menu.value));
  for (const id of ["set", "entry"]) $(id).addEventListener("input", debounced(PANELS_DEBOUNCE_MS, refreshNow));
  $("format-button").addEventListener("click", () => void formatSource());
  $("run-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run();
  });
  $("model-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void loadModel($<HTMLInputElement>("model-dir").files ?? []);
  });
  $("generate-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void generateText($<HTMLTextAreaElement>("prompt").value, Number($<HTMLInputElement>("max-new-tokens").value));
  });
  $("stop-button").addEventListener("click", () => stopGenerating());
  window.addEventListener("hashchange", async () => {
    const s = await decodeState(location.hash);
    if (!s || "error" in s) return;
    if (s.source === view.state.doc.toString()) return;
    state.file = s.file ?? "/inline.moe";
    menu.value = exampleSources[state.file] !== undefined ? state.file : "";
    setSource(s.source);
  });
  refreshNow();
  const noGpu = webgpuProblem();
  if (noGpu) setStatus(statusEl, noGpu, "note", "gpu");
  else {
    // Ask for the adapter early, so a page without one says so before anyone presses Run.
    adapterDescription().then(
      (d) => ($("run-button").title = `runs on ${d}`),
      (e) => setStatus(statusEl, (e as Error).message, "error", "gpu"),
    );
  }
}

const ready = start();
ready.catch((e) => setStatus(statusEl, `the playground failed to start: ${(e as Error)?.message ?? e}`, "error", "link"));

const api: Playground = {
  ready,
  setSource: (text) => setSource(text),
  getSource: () => view.state.doc.toString(),
  get lastDiagnostics() { return state.lastDiagnostics; },
  get lastInfo() { return state.lastInfo; },
  get lastRun() { return state.lastRun; },
  run,
  get diagnosticsAt() { return state.diagnosticsAt; },
  loadCheckpoint: (files) => loadModel(files),
  generate: (prompt, maxNewTokens = 32) => generateText(prompt, maxNewTokens),
  get lastCheckpoint() { return state.lastCheckpoint; },
  get lastGeneration() { return state.lastGeneration; },
};
(window as unknown as { moecPlayground: Playground }).moecPlayground = api;
