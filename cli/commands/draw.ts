// `moec draw FILE [--entry NAME] [-o OUT.svg]`: an SVG of a layer's or model's structure —
// blocks, routers with their pipelines, pools with their sizes, shared experts, data flow, and
// repeat stacks drawn once with ×N; a decoding graph as its agents and their token flow. A
// checkpoint directory or config.json is imported on the fly.
import * as path from "node:path";
import { OutputWriteError, outputPathProblem, writeOutputFile } from "../output-files.js";
import type { CommandSpec } from "../args.js";
import { parseArgs, parseSets } from "../args.js";
import type { CliIO } from "../output.js";
import { entryInfo } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { entrySvg } from "../../compiler/report/draw/entry-svg.js";
import { commandProgramInput } from "../checkpoint-input.js";

export const drawSpec: CommandSpec = {
  name: "draw",
  summary: "draw a layer's, model's or graph's structure as SVG",
  usage: "moec draw FILE|DIR|CONFIG [--entry NAME] [--set NAME=VALUE ...] [-o OUT.svg]",
  positionals: { name: "a .moe file (or checkpoint directory / config.json)", min: 1, max: 1 },
  flags: [
    { name: "entry", type: "string", value: "NAME", help: "the layer/model/graph (optional when the file has exactly one entry point)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry" },
    { name: "output", short: "o", type: "string", value: "OUT.svg", help: "where to write the SVG (default: FILE's name with .svg, next to it; for a checkpoint, MODEL_TYPE.svg here; `-` for stdout)" },
    { name: "plugin", type: "multi", value: "PATH", help: "load a router plugin (repeatable)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
};

export async function runDraw(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, drawSpec);
  const input = await commandProgramInput("draw", args.positionals, io);
  if (!input) return 1;
  const file = input.files[0]!;
  const entry = args.flags.entry as string | undefined;
  // A checkpoint's SVG goes to the working directory, not into the checkpoint.
  const stem = input.imported ? path.join(io.cwd, input.imported.modelType) : file.replace(/\.moe$/, "");
  const out = (args.flags.output as string | undefined) ?? stem + (entry ? `.${entry}` : "") + ".svg";
  // Checked before any work, so a bad -o is reported first.
  const problem = out === "-" ? undefined : outputPathProblem(path.resolve(io.cwd, out), args.flags.output !== undefined ? "-o" : "the SVG", io.cwd);
  if (problem) {
    io.err(`moec draw: ${problem}`);
    return 1;
  }
  const res = entryInfo([file], { entry, set: parseSets(args.flags.set as string[] | undefined), host: input.host });
  if (!res.info || hasErrors(res.diagnostics)) {
    printDiagnostics(res.diagnostics, res.compilation, io, false);
    return 1;
  }
  printDiagnostics(res.diagnostics, res.compilation, io, false);
  const svg = entrySvg(res.compilation, res.info, file, entry, path.relative(io.cwd, res.info.file) || res.info.file);
  if (out === "-") io.out(svg);
  else {
    const target = path.resolve(io.cwd, out);
    try {
      writeOutputFile(target, svg, io.cwd);
    } catch (e) {
      if (!(e instanceof OutputWriteError)) throw e;
      io.err(`moec draw: ${e.message}`);
      return 1;
    }
    io.err(`wrote ${path.relative(io.cwd, target) || target}`);
  }
  return 0;
}
