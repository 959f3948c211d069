// moec in a browser — `import * as moec from "./moec.js"` (dist/browser/moec.js, one
// self-contained ES module built by scripts/build-browser.mjs; no Node built-ins). The same
// compiler and runtime as Node's, with sources passed as text and weights as bytes, Blobs or URLs:
//
//   const c = moec.compile({ source, set: { D: 64 } });
//   const rt = await moec.createRuntime();                       // navigator.gpu
//   const layer = await rt.load(c.program, { randomSeed: 1 });
//   const { y } = await layer.run({ x }, T);
//   const ckpt = await moec.openCheckpointFiles(input.files);    // <input type=file webkitdirectory>
//   const model = await rt.loadCheckpoint(ckpt);
//   for await (const step of model.generate("Hello", { maxNewTokens: 20 })) show(step.text);
import { memoryHost, type SourceHost } from "../compiler/semantic/source-host.js";
import { resolvePath } from "../compiler/semantic/source-paths.js";
import { checkFiles, entryInfo, type EntryInfo } from "../compiler/compile-pipeline.js";
import { type CompileInput, type CompileResult, compileWithHost } from "../compiler/compile-api.js";
import { SourceCache, diagnosticToJson, type JsonDiagnostic } from "../compiler/diagnostics/render.js";
import type { Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import { hasErrors } from "../compiler/diagnostics/diagnostic.js";
import { formatMoe } from "../compiler/format/format-moe.js";
import { DEFAULT_REPORT_OPTIONS, buildReport } from "../compiler/report/model-report.js";
import { DTYPE_BYTES } from "../compiler/report/memory.js";
import { infoDocument, infoText } from "../compiler/report/info-document.js";
import { graphCost } from "../compiler/report/graph-cost.js";
import { entrySvg } from "../compiler/report/draw/entry-svg.js";
import { analyze, toPosition } from "../compiler/lsp/analysis.js";
import { hover as lspHover } from "../compiler/lsp/features/hover.js";
import { highlightTokens, type HighlightToken } from "../compiler/syntax/highlight-tokens.js";
import { VERSION } from "../compiler/version.js";
import type { IrProgram } from "../compiler/ir/ir.js";
import { randomInputs as seededInputs } from "../runtime/run-inputs.js";

export { VERSION };
export type { CompileResult, JsonDiagnostic, HighlightToken };
export { createRuntime, readSafetensorsFrom, type BrowserRuntime, type BrowserLoadOptions, type WeightsSource } from "./runtime.js";
export { openCheckpointFiles, CheckpointFilesError, type BrowserCheckpoint, type BrowserModel } from "./checkpoint.js";
export { TextError } from "../runtime/text/text-error.js";
export { GpuUnavailableError } from "../runtime/gpu/device.js";
export { WeightsError } from "../runtime/weights/weights-error.js";
export { DeviceMemoryError } from "../runtime/executor/device-fit.js";
export { memoryHost, type SourceHost };

/** A program as text. Imports resolve against `file` among `files` (absolute paths → texts). */
export interface SourceInput {
  source: string;
  /** Its path, for imports and messages (default `/inline.moe`). */
  file?: string;
  /** Other `.moe` sources it may import, by path. */
  files?: Record<string, string>;
  entry?: string;
  set?: Record<string, string | number | boolean>;
}

const DEFAULT_FILE = "/inline.moe";

function unitOf(input: SourceInput): { file: string; host: SourceHost } {
  const file = resolvePath("/", input.file ?? DEFAULT_FILE);
  const files: Record<string, string> = {};
  for (const [p, text] of Object.entries(input.files ?? {})) files[resolvePath("/", p)] = text;
  files[file] = input.source;
  return { file, host: memoryHost(files) };
}

/** Diagnostics as `moec check --json` gives them (1-based lines and columns). */
function toJson(diags: Diagnostic[], host: SourceHost): JsonDiagnostic[] {
  const sources = new SourceCache((f) => host.readFile(f));
  return diags.map((d) => diagnosticToJson(d, sources, "/"));
}

/** Compiles the source: the result of Node's `compile()` of "moec" for the same text. */
export function compile(input: SourceInput): CompileResult {
  const { file, host } = unitOf(input);
  return compileWithHost(input as CompileInput, file, host, undefined);
}

/** Checks the source and its imports, as `moec check --json`. */
export function check(input: SourceInput): { ok: boolean; diagnostics: JsonDiagnostic[] } {
  const { file, host } = unitOf(input);
  const c = checkFiles([file], { host });
  return { ok: !hasErrors(c.diagnostics), diagnostics: toJson(c.diagnostics, host) };
}

export type Failed = { ok: false; diagnostics: JsonDiagnostic[] };

/** `moec info`: the JSON document `--json` prints and the text table. */
export function info(input: SourceInput & { context?: number; kvDtype?: string }): { ok: true; json: Record<string, unknown>; text: string } | Failed {
  const { file, host } = unitOf(input);
  const res = entryInfo([file], { host, entry: input.entry, set: input.set });
  if (!res.info || hasErrors(res.diagnostics)) return { ok: false, diagnostics: toJson(res.diagnostics, host) };
  return { ok: true, ...infoOf(res.info, file, input) };
}

/** info() and draw() from one elaboration of the entry (what a page refreshing both panels wants). */
export function describe(input: SourceInput & { context?: number; kvDtype?: string }): { ok: true; json: Record<string, unknown>; text: string; svg: string } | Failed {
  const { file, host } = unitOf(input);
  const res = entryInfo([file], { host, entry: input.entry, set: input.set });
  if (!res.info || hasErrors(res.diagnostics)) return { ok: false, diagnostics: toJson(res.diagnostics, host) };
  const doc = infoOf(res.info, file, input);
  return { ok: true, ...doc, svg: entrySvg(res.compilation, res.info, file, input.entry, displayName(file)) };
}

/** `moec draw`: the entry's structure as SVG. */
export function draw(input: SourceInput): { ok: true; svg: string } | Failed {
  const { file, host } = unitOf(input);
  const res = entryInfo([file], { host, entry: input.entry, set: input.set });
  if (!res.info || hasErrors(res.diagnostics)) return { ok: false, diagnostics: toJson(res.diagnostics, host) };
  return { ok: true, svg: entrySvg(res.compilation, res.info, file, input.entry, displayName(file)) };
}

/** `moec fmt`: the formatted text, or the errors of a source that does not parse. */
export async function format(input: { source: string; file?: string }): Promise<{ ok: true; text: string } | Failed> {
  try {
    return { ok: true, text: await formatMoe(input.source, { filepath: input.file ?? DEFAULT_FILE }) };
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    const errors = check({ source: input.source, file: input.file }).diagnostics.filter((d) => d.severity === "error");
    const file = displayName(resolvePath("/", input.file ?? DEFAULT_FILE));
    return { ok: false, diagnostics: errors.length ? errors : [{ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: "error", code: "E0001", message: e.message, secondary: [] }] };
  }
}

/** The language server's hover at `offset` (markdown), or undefined where there is nothing to say. */
export function hover(input: SourceInput & { offset: number }): string | undefined {
  const { file, host } = unitOf(input);
  const a = analyze(file, host);
  const h = lspHover(a, toPosition(a.lines(file), input.offset));
  if (!h) return undefined;
  const c = h.contents;
  return typeof c === "string" ? c : "value" in c ? c.value : c.map((m) => (typeof m === "string" ? m : m.value)).join("\n\n");
}

/** Seeded inputs of `tokens` tokens: the values `moec run --tokens T --seed S` uses in Node. */
export function randomInputs(program: IrProgram, tokens: number, seed: number): Map<string, Float32Array | Int32Array> {
  return seededInputs(program, tokens, seed).values;
}

/** Token classes for highlighting, from moec's own lexer. */
export function lex(source: string): HighlightToken[] {
  return highlightTokens(source);
}

function infoOf(info: EntryInfo, file: string, input: { context?: number; kvDtype?: string }): { json: Record<string, unknown>; text: string } {
  const kvDtype = (input.kvDtype ?? DEFAULT_REPORT_OPTIONS.kvDtype).toLowerCase();
  if (DTYPE_BYTES[kvDtype] === undefined) throw new TypeError(`kvDtype takes one of ${Object.keys(DTYPE_BYTES).join(", ")}, found \`${kvDtype}\``);
  const context = input.context ?? DEFAULT_REPORT_OPTIONS.context;
  if (!Number.isInteger(context) || context < 1) throw new TypeError(`context takes a positive integer, found ${context}`);
  const report = buildReport(info, { context, kvDtype });
  const cost = info.kind === "graph" ? graphCost(info.instance, info.decoding) : undefined;
  return { json: infoDocument(info, report, cost), text: infoText(info, displayName(file), false, report, undefined, cost) };
}

function displayName(file: string): string {
  return file.startsWith("/") ? file.slice(1) : file;
}
