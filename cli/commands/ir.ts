// `moec ir FILE`: the entry's IR after lowering, verified, in its text form (compiler/ir/print.ts)
// or as the IrProgram JSON. For seeing what the compiler hands the runtime, and for bug reports.
import type { CommandSpec } from "../args.js";
import { parseArgs, parseSets } from "../args.js";
import type { CliIO } from "../output.js";
import { lowerEntry } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { irJson, printIr } from "../../compiler/ir/print.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import { commandProgramInput } from "../checkpoint-input.js";

export const irSpec: CommandSpec = {
  name: "ir",
  summary: "print the IR of a layer or graph: ops, weights, pools and routers",
  usage: "moec ir FILE|DIR|CONFIG [--entry NAME] [--set NAME=VALUE ...] [--json]",
  positionals: { name: "a .moe file (or checkpoint directory / config.json)", min: 1, max: 1 },
  flags: [
    { name: "entry", type: "string", value: "NAME", help: "the layer/graph (optional when the file has exactly one entry point)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry, e.g. --set D=64 N=8" },
    { name: "json", type: "boolean", help: "print the IrProgram as JSON ({ entry, values, inputs, outputs, weights, ops }), or the diagnostics" },
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "load a router plugin (repeatable; also from moec.config.json)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: [
    "One op per line in SSA style (`%2: f32[T, 64] \"moe(r, E)\" = moe %0 router=r pool=E`), each followed by",
    "its router (stages in order) and pool, indented; weights first, outputs last. The IR is verified before",
    "it is printed; a malformed IR is an internal error (exit 70). Exit status: 0 ok, 1 errors in the input.",
  ].join("\n"),
};

export async function runIr(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, irSpec);
  const json = Boolean(args.flags.json);
  const set = parseSets(args.flags.set as string[] | undefined);
  const pl = await cliPlugins(io.cwd, args.flags.plugin);
  if (hasErrors(pl.diagnostics)) {
    printDiagnostics(pl.diagnostics, undefined, io, json, (d) => ({ diagnostics: d }));
    return 1;
  }
  const input = await commandProgramInput("ir", args.positionals, io);
  if (!input) return 1;
  const lowered = lowerEntry(input.files, { entry: args.flags.entry as string | undefined, set, registry: pl.registry, verifyIr: true, host: input.host });
  const diagnostics = [...pl.diagnostics, ...lowered.diagnostics];
  if (!hasErrors(diagnostics) && lowered.decodingGraph) {
    const g = lowered.decodingGraph;
    io.err(`moec ir: \`${g.name}\` is a decoding graph (LANGUAGE.md §11.2) with no IR of its own; each agent is a model compiled alone: ${[...new Set(g.agents.map((a) => a.model))].map((m) => `--entry ${m}`).join(", ")}`);
    return 1;
  }
  if (hasErrors(diagnostics) || !lowered.program) {
    printDiagnostics(diagnostics, undefined, io, json, (d) => ({ diagnostics: d }));
    return 1;
  }
  printDiagnostics(diagnostics, undefined, io, false);
  if (lowered.unsupported.length) {
    for (const u of lowered.unsupported) io.err(`${displayPath(u.file, io.cwd)}: cannot lower to IR yet: ${u.message}`);
    return 1;
  }
  io.out(json ? irJson(lowered.program) : printIr(lowered.program).trimEnd());
  return 0;
}
