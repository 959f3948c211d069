// `moec check FILE…`: report every problem in the files and their imports. A checkpoint directory
// or config.json is imported first (cli/checkpoint-input.ts) and its program checked.
import * as fs from "node:fs";
import * as path from "node:path";
import { moeFilesIn } from "../../compiler/semantic/source-file.js";
import { escapeControl } from "../../compiler/diagnostics/escape.js";
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
  details: "A directory with a config.json is a Hugging Face checkpoint (its program is imported and checked); any other directory stands for every .moe file below it, as for `moec fmt`.\nExit status: 0 when there are no errors, 1 when there are, 2 for usage errors.",
};

/** A directory that is not a Hugging Face checkpoint (it has no config.json). */
function isSourceDirectory(abs: string): boolean {
  try {
    return fs.statSync(abs).isDirectory() && !fs.existsSync(path.join(abs, "config.json"));
  } catch {
    return false;
  }
}

export async function runCheck(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, checkSpec);
  const positionals: string[] = [];
  for (const arg of args.positionals) {
    const abs = path.resolve(io.cwd, arg);
    if (!isSourceDirectory(abs)) {
      positionals.push(arg);
      continue;
    }
    const found = moeFilesIn(abs);
    if (!found.length) {
      io.err(`moec check: \`${escapeControl(arg)}\` is a directory with no .moe files (and no config.json, so it is not a checkpoint)`);
      return 1;
    }
    positionals.push(...found);
  }
  const input = await commandProgramInput("check", positionals, io);
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
