// `moec fmt`: format .moe files (and directories of them) through the Prettier plugin. Files are
// replaced atomically and only when they change; a file that does not parse is reported with code
// frames and left untouched.
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { readSourceFile } from "../../compiler/semantic/source-file.js";
import { escapeControl } from "../../compiler/diagnostics/escape.js";
import { parseSource } from "../../compiler/syntax/parse.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { displayPath } from "../../compiler/diagnostics/render.js";

export const fmtSpec: CommandSpec = {
  name: "fmt",
  summary: "format .moe files",
  usage: "moec fmt [--check | --stdout] FILE|DIR...",
  positionals: { name: "at least one .moe file or directory", min: 1, max: Infinity },
  flags: [
    { name: "check", type: "boolean", help: "change nothing; list files that are not formatted and exit 1 if any" },
    { name: "stdout", type: "boolean", help: "print the formatted text instead of writing the files" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "Uses the same printer as `prettier --plugin=prettier-plugin-moe` (and a .prettierrc beside the files).",
};

export async function runFmt(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, fmtSpec);
  const { formatFiles } = await import("../../compiler/format/format-files.js");
  const files = args.positionals.map((f) => path.resolve(io.cwd, f));
  const { results } = await formatFiles({
    files, check: Boolean(args.flags.check), stdout: Boolean(args.flags.stdout),
    out: { write: (t: string) => io.out(t.endsWith("\n") ? t.slice(0, -1) : t) },
  });
  let failed = 0, unformatted = 0;
  for (const r of results) {
    const shown = displayPath(r.file, io.cwd);
    if (r.status === "error") {
      failed++;
      const read = readSourceFile(r.file); // regular .moe files only: never blocks on a FIFO or device
      const text = "text" in read ? read.text : undefined;
      const diags = text === undefined ? [] : parseSource(text, r.file).diagnostics.filter((d) => d.severity === "error");
      if (diags.length) printDiagnostics(diags, undefined, io, false);
      io.err(text === undefined ? `moec fmt: cannot read \`${escapeControl(shown)}\`: ${"problem" in read ? read.problem : ""}` : `moec fmt: \`${shown}\` ${diags.length ? "has syntax errors" : `could not be formatted (${r.error})`}; left unchanged`);
    } else if (r.status === "would-change") {
      unformatted++;
      io.out(shown);
    } else if (r.status === "formatted") io.err(`formatted ${shown}`);
  }
  if (failed) return 1;
  if (unformatted) {
    io.err(`${unformatted} file${unformatted === 1 ? " is" : "s are"} not formatted (run \`moec fmt\` on ${unformatted === 1 ? "it" : "them"})`);
    return 1;
  }
  return 0;
}
