// `moec info FILE`: total and active parameters, FLOPs per token and every weight (§9, §7), with
// the model report (breakdown, attention FLOPs, KV cache, weight memory); `--compare` puts
// several entries side by side; `--weights-as hf` lists Hugging Face checkpoint names. FILE may
// be a checkpoint directory or config.json, imported on the fly (its family then names the weights);
// a .gguf file gets its tensors' formats and memory (gguf-info.ts).
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { UsageError, parseArgs, parseSets } from "../args.js";
import type { CliIO } from "../output.js";
import { entryInfo } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import { parseWeightsAs } from "./weights-as.js";
import type { Registry } from "../../stdlib/registry.js";
import type { ModelReport, ReportOptions } from "../../compiler/report/model-report.js";
import { DEFAULT_REPORT_OPTIONS, buildReport, reportJson } from "../../compiler/report/model-report.js";
import { DTYPE_BYTES } from "../../compiler/report/memory.js";
import { compareText } from "../../compiler/report/compare.js";
import { infoJson } from "../../compiler/report/info-json.js";
import { infoDocument, infoText } from "../../compiler/report/info-document.js";
import { graphCost } from "../../compiler/report/graph-cost.js";
import type { HfMap } from "../../compiler/hf/map.js";
import { HfMapError, detectFamily, hfMap, resolveFamily } from "../../compiler/hf/map.js";
import { HF_FAMILIES } from "../../compiler/hf/families.js";
import { commandProgramInput } from "../checkpoint-input.js";
import { isGgufPath } from "../../runtime/weights/gguf/load-gguf.js";
import { isCheckpointDir } from "../../runtime/weights/checkpoint-dir.js";
import { runGgufInfo } from "./gguf-info.js";

export const infoSpec: CommandSpec = {
  name: "info",
  summary: "parameters, FLOPs, KV cache, memory and weights of a layer, model or graph",
  usage: "moec info FILE|DIR|CONFIG|FILE.gguf [--entry NAME] [--set NAME=VALUE ...] [--context N] [--kv-dtype T] [--json] [--weights] [--weights-as hf[:FAMILY]]\n       moec info --compare A.moe[:ENTRY] B.moe[:ENTRY] ... [--context N] [--kv-dtype T] [--json]",
  positionals: { name: "a .moe file (or checkpoint directory / config.json)", min: 0, max: 1 },
  flags: [
    { name: "entry", type: "string", value: "NAME", help: "the layer/model/graph (optional when the file has exactly one entry point)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry, e.g. --set D=32 N=16" },
    { name: "context", type: "string", value: "N", help: `context length for attention FLOPs and the KV cache (default ${DEFAULT_REPORT_OPTIONS.context})` },
    { name: "kv-dtype", type: "string", value: "T", help: `KV-cache element type: ${Object.keys(DTYPE_BYTES).join(", ")} (default ${DEFAULT_REPORT_OPTIONS.kvDtype})` },
    { name: "compare", type: "multi", value: "FILE[:ENTRY]", help: "print several entries side by side" },
    { name: "json", type: "boolean", help: "print { entry, params: { total, active }, flops_per_token, weights, breakdown, attention_flops_per_token, kv_cache, weight_memory_bytes, block_memory_bytes, … } as JSON; a graph adds agents, and a decoding graph decoding_cost" },
    { name: "weights", type: "boolean", help: "list every weight tensor even when there are many" },
    { name: "weights-as", type: "string", value: "hf[:FAMILY]", help: `list weights under Hugging Face checkpoint names (families: ${Object.keys(HF_FAMILIES).join(", ")}; detected when omitted)` },
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "load a router plugin (repeatable; also from moec.config.json)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: [
    "Active parameters count everything outside expert pools plus the experts each router selects per token;",
    "upper bounds (top-p, threshold, mixed pools) and expectations (expert choice) are labelled.",
    "FLOPs per token count the weights' matrix products; attention's score and value products are reported",
    "separately, for one token attending to --context positions: 2·H·d_qk·N and 2·H·d_v·N per layer.",
    "KV cache per token and layer: 2·kv_heads·head_dim elements (MLA: kv_rank + rope_dim).",
    "A graph lists its agents (index, model, parameters, FLOPs per token); a decoding graph adds its form's forward passes",
    "and FLOPs per generated token (best and worst case) and per prompt token (docs/topologies.md \"Cost per generated token\").",
    "A .gguf file lists its tensors with their block format and the memory each needs stored and dequantized.",
  ].join("\n"),
};

function reportOptions(flags: Record<string, unknown>): ReportOptions {
  const raw = flags.context as string | undefined;
  let context = DEFAULT_REPORT_OPTIONS.context;
  if (raw !== undefined) {
    if (!/^\d[\d_]*$/.test(raw) || Number(raw.replace(/_/g, "")) < 1) throw new UsageError(`--context takes a positive integer, found \`${raw}\``);
    context = Number(raw.replace(/_/g, ""));
  }
  const kvDtype = ((flags["kv-dtype"] as string | undefined) ?? DEFAULT_REPORT_OPTIONS.kvDtype).toLowerCase();
  if (DTYPE_BYTES[kvDtype] === undefined) throw new UsageError(`--kv-dtype takes one of ${Object.keys(DTYPE_BYTES).join(", ")}, found \`${kvDtype}\``);
  return { context, kvDtype };
}

export async function runInfo(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, infoSpec);
  const json = Boolean(args.flags.json);
  const opts = reportOptions(args.flags);
  const pl = await cliPlugins(io.cwd, args.flags.plugin);
  if (hasErrors(pl.diagnostics)) {
    printDiagnostics(pl.diagnostics, undefined, io, json, (d) => ({ diagnostics: d }));
    return 1;
  }
  const registry = pl.registry;
  const compare = args.flags.compare as string[] | undefined;
  if (compare) {
    if (args.positionals.length) compare.unshift(args.positionals[0]!);
    if (args.flags.set || args.flags.entry || args.flags["weights-as"]) throw new UsageError("--compare takes FILE[:ENTRY] arguments and does not combine with --entry, --set or --weights-as");
    if (compare.length < 2) throw new UsageError("--compare needs at least two FILE[:ENTRY] arguments");
    return runCompare(compare, opts, io, json, registry);
  }
  if (args.positionals.length === 0) throw new UsageError("`moec info` needs a .moe file");
  const ggufFile = path.resolve(io.cwd, args.positionals[0]!);
  if (isGgufPath(ggufFile) && !isCheckpointDir(ggufFile)) {
    if (args.flags.set || args.flags.entry || args.flags["weights-as"]) throw new UsageError("a .gguf file is a checkpoint, not a program: --entry, --set and --weights-as do not apply");
    return runGgufInfo(ggufFile, io, { json, allWeights: Boolean(args.flags.weights) });
  }
  const input = await commandProgramInput("info", args.positionals, io);
  if (!input) return 1;
  const set = parseSets(args.flags.set as string[] | undefined);
  const res = entryInfo(input.files, { entry: args.flags.entry as string | undefined, set, registry, host: input.host });
  if (!res.info || hasErrors(res.diagnostics)) {
    printDiagnostics(res.diagnostics, res.compilation, io, json, (d) => ({ diagnostics: d }));
    return 1;
  }
  printDiagnostics(res.diagnostics, res.compilation, io, false);
  let hf: HfMap | undefined;
  const as = parseWeightsAs(args.flags["weights-as"]);
  if (as !== undefined) {
    try {
      hf = hfMap(res.info.instance, resolveFamily(as.family ?? input.imported?.family ?? detectFamily(res.info.instance, res.info.name)));
    } catch (e) {
      if (!(e instanceof HfMapError)) throw e;
      io.err(`moec info: ${e.message}`);
      return 1;
    }
  }
  const report = buildReport(res.info, opts);
  // A graph's agents and, for a decoding graph, what its form costs per generated token.
  const cost = res.info.kind === "graph" ? graphCost(res.info.instance, res.info.decoding) : undefined;
  if (json) io.out(JSON.stringify(infoDocument(res.info, report, cost, hf), null, 2));
  else io.out(infoText(res.info, path.relative(io.cwd, res.info.file) || res.info.file, Boolean(args.flags.weights), report, hf, cost));
  return 0;
}

/** `path/to/file.moe:entry` → file and entry; the entry may be left out. */
export function parseCompareSpec(spec: string): { file: string; entry?: string } {
  const m = /^(.*\.moe):([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
  return m ? { file: m[1]!, entry: m[2]! } : { file: spec };
}

async function runCompare(specs: string[], opts: ReportOptions, io: CliIO, json: boolean, registry?: Registry): Promise<number> {
  const reports: ModelReport[] = [];
  let failed = false;
  for (const spec of specs) {
    const { file, entry } = parseCompareSpec(spec);
    const res = entryInfo([path.resolve(io.cwd, file)], { entry, registry });
    if (!res.info || hasErrors(res.diagnostics)) {
      printDiagnostics(res.diagnostics, res.compilation, io, false);
      failed = true;
      continue;
    }
    reports.push(buildReport(res.info, opts));
  }
  if (failed) return 1;
  if (json) io.out(JSON.stringify({ context: opts.context, kv_dtype: opts.kvDtype, models: reports.map((r) => ({ ...infoJson(r.info, false), ...reportJson(r) })) }, null, 2));
  else io.out(compareText(reports, opts.context, opts.kvDtype));
  return 0;
}
