// The compiler's pipeline, without a file system: load (through the caller's SourceHost) →
// check → pick the entry → elaborate at its bindings → count / lower to IR. Node's callers use
// driver.ts, which reads sources from disk; the browser module passes sources in memory.
import type * as A from "./syntax/ast.js";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { hasErrors } from "./diagnostics/diagnostic.js";
import type { Registry } from "../stdlib/registry.js";
import { createStdRegistry } from "../stdlib/index.js";
import type { SourceHost, Unit } from "./semantic/module-loader.js";
import { baseName, resolvePath } from "./semantic/source-paths.js";
import { loadUnit } from "./semantic/module-loader.js";
import { checkUnit, dedupe, sortDiagnostics } from "./semantic/check.js";
import { Elaborator } from "./semantic/elaborate/elaborator.js";
import type { Value } from "./semantic/values.js";
import type { Instance } from "./semantic/instance.js";
import type { Counts, WeightEntry } from "./semantic/count.js";
import { countInstance, listWeights } from "./semantic/count.js";
import { didYouMean } from "./semantic/suggest.js";
import { IrBuilder } from "./ir/ir-builder.js";
import { attachPluginStages } from "./plugins/program-stages.js";
import type { IrProgram } from "./ir/ir.js";
import type { DecodingGraph } from "./ir/decoding-graph.js";
import type { Unsupported } from "./ir/ir-builder.js";
import { assertValidIr, irDebugEnabled } from "./ir/verify.js";
import { runtimeStage } from "../stdlib/stage-table.js";

export interface CompileOptions {
  /** Entry declaration; optional when the file declares exactly one that no other uses (§8). */
  entry?: string;
  /** `--set NAME=VALUE` overrides of the entry's hyper-parameters. */
  set?: Record<string, string | number | boolean>;
  registry?: Registry;
  /** Where sources are read from (driver.ts: the disk by default). */
  host?: SourceHost;
  /** Verify the lowered IR (compiler/ir/verify.ts) and throw an IrVerifyError if it is malformed;
   *  default: in debug builds (MOEC_DEBUG set) and tests. */
  verifyIr?: boolean;
}

export interface EntryInfo {
  name: string;
  kind: "layer" | "model" | "graph";
  file: string;
  hyper: Record<string, number | boolean | string>;
  counts: Counts;
  weights: WeightEntry[];
  instance: Instance;
  /** A graph over token ids: its decoding graph (§11.2), each agent's program compiled. */
  decoding?: DecodingGraph;
}

export interface Compilation {
  unit: Unit;
  registry: Registry;
  elaborator: Elaborator;
  diagnostics: Diagnostic[];
}

/** The pipeline's options: the sources come from `host`. */
export type PipelineOptions = CompileOptions & { host: SourceHost };

/** Loads and checks files (and their imports). */
export function checkFiles(files: string[], opts: PipelineOptions): Compilation {
  const registry = opts.registry ?? createStdRegistry();
  const unit = loadUnit(files, opts.host, registry);
  const elaborator = new Elaborator(unit, registry);
  const diagnostics = checkUnit(unit, registry, elaborator);
  return { unit, registry, elaborator, diagnostics };
}

type EntryDecl = A.LayerDecl | A.GraphDecl;

/** Finds the entry declaration of `file` (§8), or reports why there is none. */
export function selectEntry(c: Compilation, file: string, entry?: string): { decl?: EntryDecl; file: string; diagnostics: Diagnostic[] } {
  const abs = resolvePath(file);
  const scope = c.unit.scopes.get(abs);
  const diags: Diagnostic[] = [];
  const at = { start: 0, end: 0 };
  if (!scope) return { file: abs, diagnostics: diags };
  const own = scope.file.program.decls.filter((d): d is EntryDecl => d.kind === "Layer" || d.kind === "Model" || d.kind === "Graph");
  if (entry !== undefined) {
    const found = scope.names.get(entry);
    if (!found || found.decl.kind === "Const") {
      diags.push(mkError("E0400", `no layer, model or graph named \`${entry}\` in ${baseName(abs)}`, abs, at, didYouMean(entry, own.map((d) => d.name.name)) ?? listOf(own)));
      return { file: abs, diagnostics: diags };
    }
    return { decl: found.decl, file: found.file, diagnostics: diags };
  }
  const used = usedNames(scope.file.program);
  const candidates = own.filter((d) => !used.has(d.name.name));
  if (candidates.length === 1) return { decl: candidates[0], file: abs, diagnostics: diags };
  diags.push(mkError("E0401", own.length === 0
    ? `${baseName(abs)} declares no layer, model or graph to run`
    : `${baseName(abs)} has ${candidates.length} possible entry points; choose one with --entry NAME`, abs, at, listOf(candidates.length ? candidates : own)));
  return { file: abs, diagnostics: diags };
}

function listOf(decls: EntryDecl[]): string | undefined {
  return decls.length ? `entry points: ${decls.map((d) => d.name.name).join(", ")}` : undefined;
}

/** Names of declarations that other declarations of the same file use (calls and agents). */
function usedNames(p: A.Program): Set<string> {
  const used = new Set<string>();
  const expr = (e: A.Expr | undefined): void => {
    if (!e) return;
    switch (e.kind) {
      case "Call": used.add(e.callee.name); e.args?.forEach((a) => expr(a.value)); break;
      case "Binary": expr(e.left); expr(e.right); break;
      case "Unary": expr(e.operand); break;
      case "List": e.items.forEach(expr); break;
      case "Record": e.fields.forEach((f) => expr(f.value)); break;
    }
  };
  const stmts = (ss: A.Stmt[]): void => {
    for (const s of ss) {
      switch (s.kind) {
        case "Let": case "Assign": expr(s.value); break;
        case "Return": expr(s.value); break;
        case "Iterate": case "Repeat": stmts(s.body); break;
      }
    }
  };
  for (const d of p.decls) {
    if (d.kind === "Layer" || d.kind === "Model") stmts(d.body);
    if (d.kind === "Graph") expr(d.topology);
  }
  return used;
}

/** Parses `--set` values: integers (with `_`), floats, booleans, else strings. */
export function parseSetValue(raw: string | number | boolean): Value {
  if (typeof raw === "number") return Number.isInteger(raw) ? { t: "int", v: raw } : { t: "float", v: raw };
  if (typeof raw === "boolean") return { t: "bool", v: raw };
  const s = raw.trim();
  if (/^-?\d(_?\d)*$/.test(s)) return { t: "int", v: Number(s.replace(/_/g, "")) };
  if (/^-?(\d(_?\d)*)?\.?\d+([eE][+-]?\d+)?$/.test(s) && !Number.isNaN(Number(s))) return { t: "float", v: Number(s) };
  if (s === "true" || s === "false") return { t: "bool", v: s === "true" };
  return { t: "string", v: s };
}

function entryBindings(decl: EntryDecl, file: string, set: CompileOptions["set"], diags: Diagnostic[]): Map<string, Value> {
  const bindings = new Map<string, Value>();
  const hyper = new Set(decl.params.filter((p) => p.kind === "HyperParam").map((p) => p.name.name));
  for (const [k, raw] of Object.entries(set ?? {})) {
    if (!hyper.has(k)) {
      diags.push({ code: "W0010", severity: "warning", message: `--set ${k}=${raw} is ignored: \`${decl.name.name}\` has no hyper-parameter \`${k}\``, file, span: decl.name.span, secondary: [], help: didYouMean(k, hyper) });
      continue;
    }
    bindings.set(k, parseSetValue(raw));
  }
  for (const p of decl.params) {
    if (p.kind === "HyperParam" && !p.default && !bindings.has(p.name.name)) {
      diags.push(mkError("E0402", `hyper-parameter \`${p.name.name}\` of \`${decl.name.name}\` has no default; give it with --set ${p.name.name}=VALUE`, file, p.name.span));
    }
  }
  return bindings;
}

/** `moec info`: counts and weights of the entry at its bindings. */
export function entryInfo(files: string[], opts: PipelineOptions): { diagnostics: Diagnostic[]; info?: EntryInfo; compilation: Compilation } {
  const c = checkFiles(files, opts);
  const diags = [...c.diagnostics];
  if (hasErrors(diags)) return { diagnostics: diags, compilation: c };
  const sel = selectEntry(c, files[0]!, opts.entry);
  diags.push(...sel.diagnostics);
  if (!sel.decl) return { diagnostics: diags, compilation: c };
  const bindings = entryBindings(sel.decl, sel.file, opts.set, diags);
  if (hasErrors(diags)) return { diagnostics: diags, compilation: c };
  const r = c.elaborator.elaborate(sel.decl, sel.file, bindings, { entry: true });
  const fresh = r.diagnostics.filter((d) => d.severity === "error").map((d) => (opts.set && Object.keys(opts.set).length ? { ...d, message: `with --set ${Object.entries(opts.set).map(([k, v]) => `${k}=${v}`).join(" ")}: ${d.message}` } : d));
  diags.push(...fresh);
  const all = sortDiagnostics(dedupe(diags));
  if (hasErrors(all)) return { diagnostics: all, compilation: c };
  const hyper: Record<string, number | boolean | string> = {};
  for (const [k, v] of r.hyper) if (v.t === "int" || v.t === "float" || v.t === "bool" || v.t === "string") hyper[k] = v.v;
  return {
    diagnostics: all,
    compilation: c,
    info: {
      name: sel.decl.name.name,
      kind: sel.decl.kind === "Graph" ? "graph" : sel.decl.kind === "Model" ? "model" : "layer",
      file: sel.file,
      hyper,
      counts: countInstance(r.instance),
      weights: listWeights(r.instance),
      instance: r.instance,
      ...(r.output.decoding ? { decoding: r.output.decoding } : {}),
    },
  };
}

export interface LoweredProgram {
  diagnostics: Diagnostic[];
  program?: IrProgram;
  /** Constructs that check but cannot run yet; the program is unusable when non-empty. */
  unsupported: Unsupported[];
  info?: EntryInfo;
  /** The entry is a decoding graph (§11.2): no program of its own, one per agent. */
  decodingGraph?: DecodingGraph;
}

/** Lowers the entry to IR (for `moec run`, `moec bench` and the library API). */
export function lowerEntry(files: string[], opts: PipelineOptions): LoweredProgram {
  const res = entryInfo(files, opts);
  if (!res.info) return { diagnostics: res.diagnostics, unsupported: [] };
  const c = res.compilation;
  if (res.info.decoding) {
    if (opts.verifyIr ?? irDebugEnabled()) {
      for (const a of res.info.decoding.agents) {
        attachPluginStages(a.program, c.registry);
        assertValidIr(a.program, `of agent ${a.index} (\`${a.model}\`) of \`${res.info.name}\` after lowering`, { stage: (n) => c.registry.stages.get(n)?.spec ?? runtimeStage(n)?.spec });
      }
    } else for (const a of res.info.decoding.agents) attachPluginStages(a.program, c.registry);
    return { diagnostics: res.diagnostics, unsupported: [], info: res.info, decodingGraph: res.info.decoding };
  }
  const sel = selectEntry(c, files[0]!, opts.entry);
  const diags: Diagnostic[] = [];
  const bindings = entryBindings(sel.decl!, sel.file, opts.set, diags);
  const builder = new IrBuilder();
  const r = c.elaborator.elaborate(sel.decl!, sel.file, bindings, { emit: builder, entry: true });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) return { diagnostics: [...res.diagnostics, ...errors], unsupported: builder.unsupported, info: res.info };
  const program = builder.build(res.info.name, res.info.kind === "model");
  attachPluginStages(program, c.registry);
  // A program with unsupported constructs is incomplete by design; there is nothing to verify.
  if (builder.unsupported.length === 0 && (opts.verifyIr ?? irDebugEnabled())) {
    // Stages as the checker defined them (std stages are stdlib's).
    assertValidIr(program, `of \`${program.entry}\` after lowering`, { stage: (n) => c.registry.stages.get(n)?.spec ?? runtimeStage(n)?.spec });
  }
  return { diagnostics: res.diagnostics, program, unsupported: builder.unsupported, info: res.info };
}

function mkError(code: string, message: string, file: string, span: A.Span, help?: string): Diagnostic {
  const fileLevel = span.start === 0 && span.end === 0 ? { fileLevel: true } : {};
  return { code, severity: "error", message, file, span, secondary: [], help, ...fileLevel };
}
