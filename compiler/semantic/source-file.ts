// Reading a `.moe` source from disk safely: only regular files named `*.moe`, at most
// MAX_SOURCE_BYTES, UTF-8 (a UTF-16/32 byte-order mark or NUL-heavy content is an encoding error).
// A device, FIFO, socket or directory is refused before it is opened, so `/dev/zero` or a FIFO can
// neither exhaust memory nor hang a command or the language server.
import * as fs from "node:fs";
import { MAX_SOURCE_BYTES, encodingProblem, isMoePath } from "./source-text.js";

export { MAX_SOURCE_BYTES, encodingProblem, isMoePath } from "./source-text.js";

export type SourceRead = { text: string } | { problem: string };

/** What a path is when it is not a regular file, in words. */
function kindOf(stat: fs.Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}

/** Reads a `.moe` source, or says in words why it cannot (never throws, never blocks on a device). */
export function readSourceFile(file: string): SourceRead {
  if (!isMoePath(file)) return { problem: "it is not a `.moe` file (only `.moe` sources are read)" };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === "ENOENT" || code === "ENOTDIR" ? "no such file" : `it cannot be read (${code ?? (e as Error).message})` };
  }
  const kind = kindOf(stat);
  if (kind) return { problem: `it is ${kind}, not a regular file` };
  if (stat.size > MAX_SOURCE_BYTES) return { problem: `it is ${stat.size} bytes; a .moe source is at most ${MAX_SOURCE_BYTES} bytes` };
  let bytes: Buffer;
  try {
    bytes = readBounded(file);
  } catch (e) {
    return { problem: `it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (bytes.length > MAX_SOURCE_BYTES) return { problem: `it is more than ${MAX_SOURCE_BYTES} bytes; a .moe source is at most that` };
  const encoding = encodingProblem(bytes);
  if (encoding) return { problem: encoding };
  return { text: bytes.toString("utf8") };
}

/** Reads at most MAX_SOURCE_BYTES + 1 bytes (a file may grow, or report size 0 like /proc files). */
function readBounded(file: string): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const buf = Buffer.alloc(MAX_SOURCE_BYTES + 1);
    let length = 0;
    while (length < buf.length) {
      const n = fs.readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buf.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/** The `.moe` files below a directory, sorted, skipping dot-folders and node_modules (as `moec fmt DIR`). */
export function moeFilesIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const full = `${d}/${e.name}`;
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && isMoePath(e.name)) out.push(full);
    }
  };
  walk(dir);
  return out;
}
