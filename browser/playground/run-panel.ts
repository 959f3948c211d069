// The #run panel: the entry compiled, random weights and inputs drawn from the seed (the numbers
// of `moec run --random-weights --tokens T --seed S`), run on this browser's WebGPU adapter with
// statistics on; the outputs summarised (shape, min/max/mean, first values) and each router's
// expert load drawn by heatmap.ts.
import { moec } from "./moec-module.js";
import type { SourceInput } from "./source-input.js";
import { showHeatmap } from "./heatmap.js";

export interface RouterStatsLike {
  experts: number;
  tokens: number;
  load: number[];
  importance: number[];
  active_k: { mean: number; histogram: number[] };
  entropy: number;
  maxvio: number;
  drop_rate: number;
  [k: string]: unknown;
}

export interface RunRecord {
  outputs: Record<string, number[]>;
  tokens: number;
  seed: number;
  /** The hyper-parameters set for the run (toolbar's and the Run panel's). */
  set: Record<string, string>;
  stats?: Record<string, RouterStatsLike>;
  /** The compiler's warnings about the run's bindings (a Set name the entry does not have, …). */
  warnings: string[];
}

/** Random weights are drawn on the page's CPU; beyond this many the tab would stall for minutes. */
const MAX_RANDOM_PARAMETERS = 64 * 1024 * 1024;
const MAX_TOKENS = 4096;

type Runtime = Awaited<ReturnType<typeof moec.createRuntime>>;
let runtime: Promise<Runtime> | undefined;

/** One runtime per page (the Run and Model panels share it); a failure to get one is remembered only until the next try. */
export function getRuntime(): Promise<Runtime> {
  runtime ??= moec.createRuntime().catch((e) => {
    runtime = undefined;
    throw e;
  });
  return runtime;
}

/** Why the page cannot run here (no WebGPU), or undefined. */
export function webgpuProblem(): string | undefined {
  return (navigator as { gpu?: unknown }).gpu ? undefined : "this browser has no WebGPU (navigator.gpu is undefined), so the Run panel cannot run: use a recent Chrome or Edge, or serve the page from localhost or https";
}

export class RunProblem extends Error {}

function integerField(input: HTMLInputElement, name: string, min: number, max: number): number {
  const v = Number(input.value);
  if (!/^\s*\d+\s*$/.test(input.value) || !Number.isSafeInteger(v) || v < min || v > max) throw new RunProblem(`${name} takes a whole number from ${min} to ${max}, found \`${input.value}\``);
  return v;
}

export async function runEntry(input: SourceInput, tokensInput: HTMLInputElement, seedInput: HTMLInputElement): Promise<RunRecord> {
  const tokens = integerField(tokensInput, "Tokens", 1, MAX_TOKENS);
  const seed = integerField(seedInput, "Seed", 0, 2 ** 32 - 1);
  const c = moec.compile(input);
  if (c.decodingGraph) throw new RunProblem("a decoding graph generates token by token; run it in Node with `moec generate` (the page runs layers and models)");
  if (!c.ok || !c.program) {
    // The run's own bindings can break an entry that checks at the toolbar's: say which error.
    const error = c.diagnostics.find((d) => d.severity === "error");
    const why = c.unsupported.length ? c.unsupported.map((u) => u.message).join("; ") : error ? `${error.code}: ${error.message}` : "the entry has errors (see the diagnostics)";
    throw new RunProblem(`cannot run: ${why}`);
  }
  const total = c.info?.counts?.total;
  if (typeof total === "number" && total > MAX_RANDOM_PARAMETERS) {
    const names = Object.keys(c.info?.hyper ?? {});
    throw new RunProblem(`this entry has ${total.toLocaleString("en-US")} parameters; the page draws random weights on the CPU and runs at most ${MAX_RANDOM_PARAMETERS.toLocaleString("en-US")}: make it smaller with the Run panel's Set${names.length ? ` (its hyper-parameters: ${names.join(", ")})` : ""}`);
  }
  const warnings = c.diagnostics.filter((d) => d.severity === "warning").map((d) => `${d.code}: ${d.message}`);
  const rt = await getRuntime();
  const layer = await rt.load(c.program, { randomSeed: seed, stats: true });
  try {
    const out = await layer.run(moec.randomInputs(c.program, tokens, seed), tokens);
    const outputs = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v)]));
    const stats = layer.lastStats && layer.lastStats.size ? (Object.fromEntries(layer.lastStats) as unknown as Record<string, RouterStatsLike>) : undefined;
    return { outputs, tokens, seed, set: input.set ?? {}, warnings, ...(stats ? { stats } : {}) };
  } finally {
    layer.dispose();
  }
}

function summaryRow(name: string, values: number[], tokens: number): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.dataset.output = name;
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(5) : String(v));
  const cells = [name, `[${tokens}, ${values.length / tokens}]`, fmt(min), fmt(max), fmt(sum / values.length), values.slice(0, 6).map(fmt).join(", ") + (values.length > 6 ? ", …" : "")];
  for (const c of cells) tr.insertCell().textContent = c;
  return tr;
}

/** A failed run leaves no output of an earlier one behind. */
export function clearRun(output: HTMLElement, heatmap: HTMLElement): void {
  output.replaceChildren();
  heatmap.replaceChildren();
}

export function showRun(output: HTMLElement, heatmap: HTMLElement, run: RunRecord, ms: number, adapter: string): void {
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const h of ["output", "shape", "min", "max", "mean", "first values"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const [name, values] of Object.entries(run.outputs)) body.append(summaryRow(name, values, run.tokens));
  const note = document.createElement("p");
  note.className = "note";
  const set = Object.entries(run.set).map(([k, v]) => `${k}=${v}`).join(" ");
  note.textContent = `${run.tokens} tokens, seed ${run.seed}, random weights${set ? `, ${set}` : ""} · ${ms.toFixed(0)} ms including compile and upload · ${adapter}`;
  const warnings = run.warnings.map((w) => {
    const p = document.createElement("p");
    p.className = "note run-warning";
    p.textContent = `warning ${w}`;
    return p;
  });
  output.replaceChildren(table, note, ...warnings);
  showHeatmap(heatmap, run.stats);
}

export async function adapterDescription(): Promise<string> {
  const rt = await getRuntime();
  const info = rt.gpu.adapterInfo as { vendor?: string; architecture?: string; description?: string; device?: string } | undefined;
  return [info?.vendor, info?.architecture, info?.description || info?.device].filter(Boolean).join(" ") || "WebGPU adapter";
}
