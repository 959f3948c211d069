// The library API: `import { compile } from "moec"`.
//
//   const c = compile({ file: "examples/mixtral.moe", set: { D: 64, I: 96 } });
//   if (!c.ok) throw new Error(c.formatDiagnostics());
//   c.info.counts.total; c.program  // the IR, for createRuntime() from "moec/runtime"
import * as path from "node:path";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { hasErrors } from "./diagnostics/diagnostic.js";
import type { SourceHost } from "./semantic/module-loader.js";
import { type CompileInput, type CompileResult, compileWithHost } from "./compile-api.js";
import type { Registry } from "../stdlib/registry.js";
import { fsHost, checkFiles } from "./driver.js";
import type { CheckpointNames } from "./ir/checkpoint-names.js";
import { hfCheckpointNames as hfNamesOf } from "./hf/checkpoint-names.js";
import type { Plugin } from "@moec/plugin-api";
import { loadPlugins as loadPluginSet, pluginSetFromObjects, type PluginLike } from "./plugins/loader.js";

function hostFor(input: CompileInput): { host: SourceHost; file: string } {
  const file = path.resolve(input.file ?? "inline.moe");
  if (input.source === undefined) return { host: fsHost, file };
  return { file, host: { readFile: (f) => (path.resolve(f) === file ? input.source : fsHost.readFile(f)), problem: (f) => fsHost.problem?.(f) } };
}

export function compile(input: CompileInput): CompileResult {
  if (input.file === undefined && input.source === undefined) throw new TypeError("compile() needs `file` or `source`");
  const { host, file } = hostFor(input);
  const pl = input.plugins?.length ? pluginSetFromObjects(input.plugins) : undefined;
  return compileWithHost(input, file, host, pl?.registry ?? input.registry, pl?.diagnostics);
}

/**
 * The Hugging Face name maps of a compiled model, for `rt.load(program, { weights: DIR,
 * checkpointNames })`: `family` forces one (`mixtral`, `qwen2_moe`, …; then pass
 * `forceCheckpointNames: true`), else every family that can place the model, `modelType`
 * (config.json's) or the detected family first. Throws HfMapError when a forced family cannot
 * place the model.
 */
export function hfCheckpointNames(c: Pick<CompileResult, "info">, opts: { family?: string; modelType?: string } = {}): CheckpointNames[] {
  if (!c.info) throw new TypeError("hfCheckpointNames() needs a compile result whose entry checks");
  if (c.info.kind !== "model") return [];
  return hfNamesOf(c.info.instance, c.info.name, opts);
}

/** Checks files (and their imports) without choosing an entry point. */
export function check(files: string[], opts: { registry?: Registry; plugins?: PluginLike[] } = {}): { ok: boolean; diagnostics: Diagnostic[] } {
  const pl = opts.plugins?.length ? pluginSetFromObjects(opts.plugins) : undefined;
  const c = checkFiles(files.map((f) => path.resolve(f)), { registry: pl?.registry ?? opts.registry });
  const diagnostics = [...(pl?.diagnostics ?? []), ...c.diagnostics];
  return { ok: !hasErrors(diagnostics), diagnostics };
}

/**
 * Imports router plugins by path or package name (relative to `baseDir`, default the working
 * directory): `const { plugins, diagnostics } = await loadPlugins(["./my-router.mjs"])`.
 */
export async function loadPlugins(specifiers: string[], baseDir = process.cwd()): Promise<{ plugins: Plugin[]; diagnostics: Diagnostic[] }> {
  const set = await loadPluginSet(specifiers.map((specifier) => ({ specifier, baseDir: path.resolve(baseDir), requestedBy: "loadPlugins" })));
  return { plugins: set.plugins.map((p) => p.plugin), diagnostics: set.diagnostics };
}

export type { Diagnostic } from "./diagnostics/diagnostic.js";
export type { CompileInput, CompileResult } from "./compile-api.js";
export type { IrProgram, IrOp, IrPool, IrRouter, IrStage, IrWeight } from "./ir/ir.js";
export type { CheckpointNames, CheckpointTensorName } from "./ir/checkpoint-names.js";
export { HfMapError } from "./hf/map.js";
export type { EntryInfo } from "./driver.js";
export type { Counts, WeightEntry } from "./semantic/count.js";
export { createStdRegistry } from "../stdlib/index.js";
export type { Registry, StageDef, ExpertKindDef, ParamSpec } from "../stdlib/registry.js";
export { parseSource } from "./syntax/parse.js";
export { VERSION } from "./version.js";
export type { Plugin, StageSpec, WgslContract } from "@moec/plugin-api";
export { API_VERSION } from "@moec/plugin-api";
export { canonicalizeRouter, printStages } from "./ir/passes/canonicalize-router.js";
