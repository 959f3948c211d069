// Reads safetensors files from disk (Node): whole (readSafetensors) or header first with each
// tensor read by file offset when asked for (openSafetensors). The parsing and every check are
// parse.ts's.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { SafetensorsError } from "./errors.js";
import type { Dtype } from "./dtype.js";
import { type ByteSource, type SafetensorsFile, parseHeader, parseSafetensors } from "./parse.js";

export { MAX_HEADER_BYTES, type SafetensorsFile, type SafetensorsTensor } from "./parse.js";

/** Parses safetensors bytes (or reads the file at `path`). `label` names the file in messages. */
export function readSafetensors(source: string | Uint8Array, label?: string): SafetensorsFile {
  const file = label ?? (typeof source === "string" ? source : "<bytes>");
  if (typeof source !== "string") return parseSafetensors({ size: source.byteLength, read: (o, n) => source.subarray(o, o + n) }, file);
  return withFile(source, file, (src) => parseSafetensors(src, file));
}

/** A tensor of a file opened lazily: its header entry, and its bytes read on demand. */
export interface LazySafetensorsTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  byteLength: number;
  /** The file it is in (path or label), for messages. */
  file: string;
  /** Reads the tensor's bytes from the file now (positional reads; nothing is cached). */
  read(): Uint8Array;
}

export interface LazySafetensorsFile {
  label: string;
  tensors: Map<string, LazySafetensorsTensor>;
  metadata: Record<string, string>;
}

/**
 * Reads only the header of the safetensors file at `path`, validated exactly as readSafetensors
 * does (offsets inside the file, sizes matching dtype and shape, no overlaps); each tensor's
 * bytes are read when asked for, by file offset, so a checkpoint never sits in memory whole.
 */
export function openSafetensors(path: string, label = path): LazySafetensorsFile {
  const header = withFile(path, label, (src) => parseHeader(src, label));
  const tensors = new Map<string, LazySafetensorsTensor>();
  for (const r of header.ranges) {
    const at = header.dataStart + r.begin, length = r.end - r.begin;
    tensors.set(r.name, {
      name: r.name, dtype: r.dtype, shape: r.shape, byteLength: length, file: label,
      read: () => withFile(path, label, (src) => {
        // The file may have changed since its header was read: a shorter file is a truncated one.
        if (at + length > src.size) throw new SafetensorsError(label, `${label}: tensor ${JSON.stringify(r.name)} ends at byte ${at + length} but the file now has ${src.size} bytes (truncated since it was opened?).`, r.name);
        return src.read(at, length);
      }),
    });
  }
  return { label, tensors, metadata: header.metadata };
}

/** Opens `path`, hands `body` a positional reader over it, and always closes it. */
function withFile<T>(path: string, file: string, body: (src: ByteSource) => T): T {
  const ioError = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new SafetensorsError(file, `${file}: cannot read the safetensors file (${why}).`);
  };
  let fd: number, size: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return ioError(e);
  }
  try {
    try {
      const st = fstatSync(fd);
      size = st.isDirectory() ? -1 : st.size;
    } catch (e) {
      return ioError(e);
    }
    if (size < 0) ioError({ code: "EISDIR" });
    return body({
      size,
      read(offset, length) {
        const buf = new Uint8Array(length);
        try {
          for (let done = 0; done < length;) {
            const n = readSync(fd, buf, done, length - done, offset + done);
            if (n === 0) throw new Error(`unexpected end of file at byte ${offset + done}`);
            done += n;
          }
        } catch (e) {
          return ioError(e);
        }
        return buf;
      },
    });
  } finally {
    closeSync(fd);
  }
}

