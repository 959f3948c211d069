// `moec check FILE…`: report every problem in the files and their imports. A checkpoint directory
// or config.json is imported first (cli/checkpoint-input.ts) and its program checked.
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { checkFiles } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import { commandProgramInput } from "../checkpoint-input.js";

export const checkSpec: CommandSpec = {
  name: "check",
  summary: "check .moe files for errors",
  usage: "moec check FILE|DIR|CONFIG... [--json]",
  positionals: { name: "at least one .moe file (or checkpoint directory / config.json)", min: 1, max: Infinity },
  flags: [
    { name: "json", type: "boolean", help: "print diagnostics as JSON: { files, diagnostics: [...] }" },
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "load a router plugin (repeatable; also from moec.config.json)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "Exit status: 0 when there are no errors, 1 when there are, 2 for usage errors.",
};

export async function runCheck(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, checkSpec);
  const input = await commandProgramInput("check", args.positionals, io);
  if (!input) return 1;
  const files = input.files;
  const pl = await cliPlugins(io.cwd, args.flags.plugin);
  const c = checkFiles(files, { registry: pl.registry, host: input.host });
  const diagnostics = [...pl.diagnostics, ...c.diagnostics];
  printDiagnostics(diagnostics, c, io, Boolean(args.flags.json), (json) => ({ files: files.map((f) => path.relative(io.cwd, f)), diagnostics: json }));
  if (!args.flags.json && !hasErrors(diagnostics)) {
    io.err(`checked ${files.length} file${files.length === 1 ? "" : "s"}${c.unit.files.size > files.length ? ` (and ${c.unit.files.size - files.length} imported)` : ""}: no errors`);
  }
  return hasErrors(diagnostics) ? 1 : 0;
}
