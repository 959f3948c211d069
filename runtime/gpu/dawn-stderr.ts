// Keeps Dawn's two adapter-discovery warnings off stderr.
//
// When Dawn first enumerates a Vulkan device whose driver reports huge dynamic-buffer limits (lavapipe
// reports 1000000), its NormalizeLimits prints "Warning: maxDynamic{Uniform,Storage}BuffersPerPipeline
// Layout artificially reduced from … to 16 …" from C++ straight to fd 2. The warning is unconditional
// (no toggle, instance flag or requested limit silences it) and says nothing a user can act on, so
// around that one synchronous call fd 2 is pointed at a temporary file and everything Dawn wrote there,
// except exactly those lines, is copied back to the real stderr afterwards.
//
// Node has no dup(), so the real stderr is reopened through /proc/self/fd. That is faithful for pipes,
// FIFOs and character devices (terminals, /dev/null), and for a regular file opened for appending
// (`2>>log`). A file opened with `2>log` has one offset shared with the shell and with stdout under
// `2>&1`, which a reopened stderr would not share (later writes would overwrite each other): there,
// and on sockets or without /proc, the warnings are left alone.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isMainThread } from "node:worker_threads";

/** The exact lines dropped; anything else Dawn or the Vulkan loader writes is passed through. */
export const DAWN_LIMIT_WARNING = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

const STDERR_FD = 2;

/** Runs `call` (synchronous native work) with Dawn's limit warnings filtered from fd 2. */
export function withoutDawnLimitWarnings<T>(call: () => T): T {
  const restore = redirectStderr();
  if (!restore) return call();
  try {
    return call();
  } finally {
    restore();
  }
}

/** Points fd 2 at a temporary file; the returned function puts the real stderr back and forwards
 *  what was captured, minus the known warnings. Undefined when fd 2 cannot be swapped faithfully. */
function redirectStderr(): (() => void) | undefined {
  // fd 2 is the process's: only the main thread swaps it (two threads swapping at once could lose stderr).
  if (process.platform !== "linux" || !isMainThread) return undefined;
  let kind: fs.Stats;
  try {
    kind = fs.fstatSync(STDERR_FD);
  } catch {
    return undefined;
  }
  const file = kind.isFile();
  if (!kind.isFIFO() && !kind.isCharacterDevice() && !(file && opensForAppend(STDERR_FD))) return undefined;
  const reopenFlags = fs.constants.O_WRONLY | fs.constants.O_NOCTTY | (file ? fs.constants.O_APPEND : 0);
  // Queued asynchronous writes are bound to the descriptor being replaced: leave those alone.
  if (process.stderr.writableLength > 0) return undefined;

  let saved: number;
  try {
    saved = fs.openSync(`/proc/self/fd/${STDERR_FD}`, reopenFlags);
  } catch {
    return undefined;
  }
  const capturePath = path.join(os.tmpdir(), `moec-dawn-${process.pid}-${Date.now()}.log`);
  let reader: number | undefined;
  let sinkAtStderr = false;
  try {
    fs.closeSync(STDERR_FD);
    // open() returns the lowest free descriptor: 2, since 0 and 1 are open.
    const sink = fs.openSync(capturePath, "w+", 0o600);
    if (sink !== STDERR_FD) {
      fs.closeSync(sink);
      throw new Error("fd 2 was not reused");
    }
    sinkAtStderr = true;
    reader = fs.openSync(capturePath, "r");
    fs.unlinkSync(capturePath);
  } catch {
    if (sinkAtStderr) fs.closeSync(STDERR_FD);
    reopenStderr(saved, reopenFlags);
    if (reader !== undefined) fs.closeSync(reader);
    fs.rmSync(capturePath, { force: true });
    return undefined;
  }
  const captured = reader;
  return () => {
    fs.closeSync(STDERR_FD);
    reopenStderr(saved, reopenFlags);
    const text = fs.readFileSync(captured, "utf8");
    fs.closeSync(captured);
    const kept = text.split("\n").filter((line, i, all) => !DAWN_LIMIT_WARNING.test(line) && !(i === all.length - 1 && line === ""));
    if (kept.length) fs.writeSync(STDERR_FD, kept.join("\n") + "\n");
  };
}

/** Reopens the saved stderr at fd 2 (fd 2 must be free) and closes the saved descriptor. */
function reopenStderr(saved: number, flags: number): void {
  const fd = fs.openSync(`/proc/self/fd/${saved}`, flags);
  fs.closeSync(saved);
  if (fd !== STDERR_FD) {
    // Not expected (fd 2 was just closed); keep the descriptor rather than lose stderr entirely.
    throw new Error(`stderr could not be restored at fd 2 (got ${fd})`);
  }
}

/** Whether the descriptor's open file was opened with O_APPEND (Linux's /proc/self/fdinfo, octal flags). */
function opensForAppend(fd: number): boolean {
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    return flags !== null && (parseInt(flags[1]!, 8) & fs.constants.O_APPEND) !== 0;
  } catch {
    return false;
  }
}
