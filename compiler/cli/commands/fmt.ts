// `moec fmt`: format .moe files through the Prettier plugin. Files are replaced atomically and
// only when they change; a file that does not parse is reported and left untouched.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { parseSource } from "../../syntax/parse.js";
import { printDiagnostics } from "./print-diagnostics.js";

export const fmtSpec: CommandSpec = {
  name: "fmt",
  summary: "format .moe files",
  usage: "moec fmt [--check | --stdout] FILE...",
  positionals: { name: "at least one .moe file", min: 1, max: Infinity },
  flags: [
    { name: "check", type: "boolean", help: "change nothing; list files that are not formatted and exit 1 if any" },
    { name: "stdout", type: "boolean", help: "print the formatted text instead of writing the files" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "Uses the same printer as `prettier --plugin=prettier-plugin-moe`.",
};

export async function runFmt(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, fmtSpec);
  const { formatMoe } = await import("../../format/format-moe.js");
  let failed = false;
  let unformatted = 0;
  for (const rel of args.positionals) {
    const file = path.resolve(io.cwd, rel);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      io.err(`moec fmt: cannot read \`${rel}\``);
      failed = true;
      continue;
    }
    const parsed = parseSource(text, file);
    if (parsed.diagnostics.some((d) => d.severity === "error")) {
      printDiagnostics(parsed.diagnostics, undefined, io, false);
      io.err(`moec fmt: \`${rel}\` has syntax errors; left unchanged`);
      failed = true;
      continue;
    }
    const formatted = await formatMoe(text, { filepath: file });
    if (args.flags.stdout) {
      io.out(formatted.endsWith("\n") ? formatted.slice(0, -1) : formatted);
    } else if (formatted !== text) {
      if (args.flags.check) {
        io.out(rel);
        unformatted++;
      } else {
        const tmp = `${file}.moec-fmt-${process.pid}.tmp`;
        fs.writeFileSync(tmp, formatted);
        fs.renameSync(tmp, file);
        io.err(`formatted ${rel}`);
      }
    }
  }
  if (failed) return 1;
  if (args.flags.check && unformatted) {
    io.err(`${unformatted} file${unformatted === 1 ? " is" : "s are"} not formatted (run \`moec fmt\` on ${unformatted === 1 ? "it" : "them"})`);
    return 1;
  }
  return 0;
}
