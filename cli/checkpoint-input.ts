// A command's program argument may be a .moe file, a Hugging Face checkpoint directory, or its
// config.json: the latter two are imported on the fly (compiler/hf/import) into an in-memory .moe
// file that the compiler reads through a SourceHost. `moec info|draw|check|ir` use this, and
// `moec run DIR` can: `programInput(arg, cwd)` → { file, host } for `lowerEntry([file], { host })`.
import * as fs from "node:fs";
import * as path from "node:path";
import type { SourceHost } from "../compiler/semantic/module-loader.js";
import { fsHost } from "../compiler/driver.js";
import type { ImportedProgram } from "../compiler/hf/import/import-config.js";
import { HfConfigError, importHfConfig } from "../compiler/hf/import/import-config.js";

/** A checkpoint argument that cannot be read or imported; the message names the path or field. */
export class CheckpointInputError extends Error {}

export interface ProgramInput {
  /** The .moe file to compile: the argument itself, or the imported program's in-memory path. */
  file: string;
  /** Reads the in-memory program (and everything else from disk); undefined for a plain .moe file. */
  host?: SourceHost;
  /** Set when the argument was a checkpoint directory or config.json. */
  imported?: ImportedProgram & { configFile: string };
}

/** Whether the argument names a checkpoint (a directory, or a .json file) rather than a .moe file. */
export function isCheckpointArg(arg: string, cwd: string): boolean {
  const abs = path.resolve(cwd, arg);
  if (/\.json$/i.test(arg)) return true;
  try {
    return fs.statSync(abs).isDirectory();
  } catch {
    return false;
  }
}

/** The config.json of a checkpoint argument: `DIR/config.json`, or the file itself. */
export function configPath(arg: string, cwd: string): string {
  const abs = path.resolve(cwd, arg);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new CheckpointInputError(`\`${arg}\` does not exist`);
  }
  if (!stat.isDirectory()) return abs;
  const cfg = path.join(abs, "config.json");
  if (!fs.existsSync(cfg)) throw new CheckpointInputError(`\`${arg}\` is a directory without a config.json (a Hugging Face checkpoint directory has one)`);
  return cfg;
}

/** Imports a checkpoint directory or config.json; errors are CheckpointInputError naming the field. */
export async function importCheckpoint(arg: string, cwd: string): Promise<ImportedProgram & { configFile: string }> {
  const configFile = configPath(arg, cwd);
  const shown = path.relative(cwd, configFile) || configFile;
  let text: string;
  try {
    text = fs.readFileSync(configFile, "utf8");
  } catch (e) {
    throw new CheckpointInputError(`cannot read \`${shown}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return { ...(await importHfConfig(text, shown)), configFile };
  } catch (e) {
    if (e instanceof HfConfigError) throw new CheckpointInputError(e.message);
    throw e;
  }
}

/** The program a command should compile for its argument (see the file comment). */
export async function programInput(arg: string, cwd: string): Promise<ProgramInput> {
  if (!isCheckpointArg(arg, cwd)) return { file: path.resolve(cwd, arg) };
  const imported = await importCheckpoint(arg, cwd);
  // Beside the config, so diagnostics read `DIR/mixtral.imported.moe:12:3`; never written to disk.
  const file = path.join(path.dirname(imported.configFile), `${imported.modelType}.imported.moe`);
  const host: SourceHost = { readFile: (f) => (path.resolve(f) === file ? imported.text : fsHost.readFile(f)), problem: (f) => fsHost.problem?.(f) };
  return { file, host, imported };
}

/** Several arguments at once (`moec check A.moe DIR`): their files and one host that reads them all. */
export async function programInputs(args: string[], cwd: string): Promise<{ files: string[]; host?: SourceHost }> {
  const inputs = await Promise.all(args.map((a) => programInput(a, cwd)));
  const hosts = inputs.filter((i) => i.host);
  if (!hosts.length) return { files: inputs.map((i) => i.file) };
  const texts = new Map(hosts.map((i) => [i.file, i.imported!.text]));
  return { files: inputs.map((i) => i.file), host: { readFile: (f) => texts.get(path.resolve(f)) ?? fsHost.readFile(f), problem: (f) => fsHost.problem?.(f) } };
}

/** `programInput` for a command: a CheckpointInputError is reported as `moec COMMAND: …` and gives undefined (exit 1). */
export async function commandProgramInput(command: string, args: string[], io: { err(t: string): void; cwd: string }): Promise<{ files: string[]; host?: SourceHost; imported?: ProgramInput["imported"] } | undefined> {
  try {
    if (args.length === 1) {
      const one = await programInput(args[0]!, io.cwd);
      return { files: [one.file], host: one.host, imported: one.imported };
    }
    return await programInputs(args, io.cwd);
  } catch (e) {
    if (!(e instanceof CheckpointInputError)) throw e;
    io.err(`moec ${command}: ${e.message}`);
    return undefined;
  }
}
