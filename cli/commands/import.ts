// `moec import DIR_OR_CONFIG [-o FILE]`: the .moe program of a Hugging Face checkpoint's
// config.json, formatted and commented with the fields it came from (compiler/hf/import). Written
// to stdout, or atomically to FILE (a temporary file renamed into place, so an error leaves none).
import * as fs from "node:fs";
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { CheckpointInputError, importCheckpoint } from "../checkpoint-input.js";
import { IMPORT_MODEL_TYPES } from "../../compiler/hf/import/import-config.js";

export const importSpec: CommandSpec = {
  name: "import",
  summary: "write the .moe program of a Hugging Face checkpoint's config.json",
  usage: "moec import DIR_OR_CONFIG [-o FILE]",
  positionals: { name: "a checkpoint directory or its config.json", min: 1, max: 1 },
  flags: [
    { name: "output", short: "o", type: "string", value: "FILE", help: "write the program to FILE (replaced atomically) instead of stdout" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: [
    `Families (config.json's model_type): ${IMPORT_MODEL_TYPES.join(", ")}.`,
    "Every field that changes the computation becomes part of the program or is refused by name;",
    "fields it does not recognise are listed in the program's header and in a warning.",
    "`moec info|draw|check|ir` accept DIR_OR_CONFIG in place of a .moe file and import it on the fly.",
    "Exit status: 0 ok, 1 a config that cannot be read or imported (the message names the field), 2 usage errors.",
  ].join("\n"),
};

export async function runImport(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, importSpec);
  let imported;
  try {
    imported = await importCheckpoint(args.positionals[0]!, io.cwd);
  } catch (e) {
    if (!(e instanceof CheckpointInputError)) throw e;
    io.err(`moec import: ${e.message}`);
    return 1;
  }
  if (imported.unrecognised.length) io.err(`moec import: warning: fields not recognised, not read: ${imported.unrecognised.join(", ")}`);
  const out = args.flags.output as string | undefined;
  if (out === undefined || out === "-") {
    io.out(imported.text.replace(/\n$/, ""));
    return 0;
  }
  const target = path.resolve(io.cwd, out);
  const shown = path.relative(io.cwd, target) || target;
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, imported.text);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    io.err(`moec import: cannot write \`${shown}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return 1;
  }
  io.err(`wrote ${shown} (model_type ${imported.modelType})`);
  return 0;
}
