// A command's output files as one unit: every path is checked writable before any work starts, each
// file is written under a temporary name beside its target, and all are renamed into place only when
// the command has written every one of them, so a command that fails leaves none of its outputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { displayPath } from "../compiler/diagnostics/render.js";

/** The output's parent directory missing or not a directory (`what`: the flag and path, for the message). */
function parentProblem(parent: string, what: string, cwd: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(parent);
  } catch {
    return `${what}: the directory ${shownPath(parent, cwd)} does not exist`;
  }
  return st.isDirectory() ? undefined : `${what}: ${shownPath(parent, cwd)} is not a directory`;
}

/** The output's parent directory not writable (files are created there, then renamed). */
function parentUnwritable(parent: string, what: string, cwd: string): string | undefined {
  try {
    fs.accessSync(parent, fs.constants.W_OK | fs.constants.X_OK);
    return undefined;
  } catch {
    return `${what}: the directory ${shownPath(parent, cwd)} is not writable`;
  }
}

/** Why `file` cannot be written (a missing or unwritable directory, a directory at the path, a
 *  read-only file), or undefined when it can. `flag` names the option it came from. */
export function outputPathProblem(file: string, flag: string, cwd: string): string | undefined {
  const shown = shownPath(file, cwd);
  const parent = path.dirname(file);
  const inParent = parentProblem(parent, `${flag} ${shown}`, cwd);
  if (inParent) return inParent;
  let target: fs.Stats | undefined;
  try {
    target = fs.statSync(file);
  } catch {
    target = undefined;
  }
  if (target?.isDirectory()) return `${flag} ${shown}: is a directory; give the file to write`;
  // The temporary file is created in the directory, so the directory must be writable too.
  const unwritable = parentUnwritable(parent, `${flag} ${shown}`, cwd);
  if (unwritable) return unwritable;
  if (target) {
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch {
      return `${flag} ${shown}: the file exists and is not writable`;
    }
  }
  return undefined;
}

/** Why the directory `dir` cannot be written as a command's output (a checkpoint, a package), or
 *  undefined: its parent must be a writable directory, and an existing `dir` an empty directory
 *  unless `force` (it is then replaced whole). */
export function outputDirProblem(dir: string, flag: string, cwd: string, force: boolean): string | undefined {
  const shown = shownPath(dir, cwd);
  const parent = path.dirname(dir);
  const inParent = parentProblem(parent, `${flag} ${shown}`, cwd) ?? parentUnwritable(parent, `${flag} ${shown}`, cwd);
  if (inParent) return inParent;
  let target: fs.Stats;
  try {
    target = fs.statSync(dir);
  } catch {
    return undefined;
  }
  if (!target.isDirectory()) return `${flag} ${shown}: exists and is not a directory`;
  if (!force && fs.readdirSync(dir).length > 0) return `${flag} ${shown}: exists and is not empty; give --force to replace it`;
  return undefined;
}

/** Thrown when an output cannot be written after all (disk full, the directory removed meanwhile). */
export class OutputWriteError extends Error {
  override name = "OutputWriteError";
}

/** Output files staged under temporary names and committed together. */
export class StagedOutputs {
  private readonly staged: { target: string; temp: string }[] = [];

  constructor(private readonly cwd: string) {}

  /** Writes one output through `write(tempPath)`; it reaches `target` only at `commit()`. */
  write(target: string, write: (tempPath: string) => void): void {
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${this.staged.length}.tmp`);
    this.staged.push({ target, temp });
    try {
      write(temp);
    } catch (e) {
      throw new OutputWriteError(`cannot write ${displayPath(target, this.cwd)}: ${writeFailure(e)}`);
    }
  }

  /** Renames every staged file into place. */
  commit(): void {
    try {
      for (const s of this.staged) fs.renameSync(s.temp, s.target);
    } catch (e) {
      this.discard();
      throw new OutputWriteError(`cannot write the outputs: ${writeFailure(e)}`);
    }
    this.staged.length = 0;
  }

  /** Removes every staged file not yet renamed (a failed command: nothing is left behind). */
  discard(): void {
    for (const s of this.staged) fs.rmSync(s.temp, { force: true });
    this.staged.length = 0;
  }
}

/** A path as the messages show it: relative to the working directory, which itself is `.`. */
function shownPath(file: string, cwd: string): string {
  return displayPath(file, cwd) || ".";
}

/** Writes one output file atomically (a temporary file renamed into place); OutputWriteError if it cannot. */
export function writeOutputFile(target: string, data: string | Uint8Array, cwd: string): void {
  const staged = new StagedOutputs(cwd);
  try {
    staged.write(target, (temp) => fs.writeFileSync(temp, data));
    staged.commit();
  } finally {
    staged.discard();
  }
}

function writeFailure(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === "ENOSPC" ? "no space left on the device" : err.code ?? err.message;
}
