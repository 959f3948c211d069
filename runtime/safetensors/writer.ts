// Writes safetensors files with a deterministic layout: tensors sorted by name, data contiguous in
// that order, and the JSON header padded with spaces so the data section starts 8-byte aligned.
// The layout is computed from dtypes and shapes alone and files are written a tensor (or a chunk)
// at a time, so their size is bounded by the disk, not by a buffer.

import { closeSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { DTYPE_SIZE, DTYPES, encodeFloats, encodeInts, isDtype, type Dtype } from "./dtype.js";
import { SafetensorsError } from "./errors.js";

export interface TensorData {
  dtype: Dtype;
  shape: readonly number[];
  /** Values: f32 values for float dtypes (rounded to nearest even for F16/BF16), integers for I32/I64. */
  data?: ArrayLike<number> | BigInt64Array;
  /** Raw little-endian bytes instead of `data`. */
  bytes?: Uint8Array;
}

export type TensorEntries = ReadonlyMap<string, TensorData> | Readonly<Record<string, TensorData>>;

/** One tensor of a streamed file: its dtype and shape, and its little-endian bytes in order as
 *  chunks (each at most a buffer's size; a `{ zeros }` chunk is that many zero bytes, left as a hole
 *  of a sparse file rather than written). */
export interface TensorStream {
  dtype: Dtype;
  shape: readonly number[];
  chunks(): Iterable<Uint8Array | { zeros: number }>;
}

/** Where each tensor's bytes go: the encoded header and, per tensor, its data offsets. */
export interface SafetensorsLayout {
  /** The 8-byte length prefix and the space-padded JSON header. */
  header: Uint8Array;
  /** Tensors in file order (sorted by name) with their byte range within the data section. */
  tensors: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[];
  /** Bytes of the whole file. */
  fileBytes: number;
}

/** The header and offsets of a file holding `tensors` (sorted by name), computed from dtypes and
 *  shapes alone, so a file of any size is laid out without its data in memory. */
export function safetensorsLayout(tensors: Iterable<readonly [string, { dtype: Dtype; shape: readonly number[] }]>, metadata?: Record<string, string>, label = "<bytes>"): SafetensorsLayout {
  const list = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  function fail(msg: string, tensor?: string): never {
    throw new SafetensorsError(label, `${label}: ${msg}`, tensor);
  }
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      const v = metadata[k];
      if (typeof v !== "string") fail(`__metadata__ entry ${JSON.stringify(k)} must be a string.`);
      Object.defineProperty(sorted, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    header["__metadata__"] = sorted;
  }
  const laid: SafetensorsLayout["tensors"] = [];
  let offset = 0;
  for (let i = 0; i < list.length; i++) {
    const [name, t] = list[i]!;
    const at = `tensor ${JSON.stringify(name)}`;
    if (name === "__metadata__") fail(`a tensor may not be named __metadata__.`, name);
    if (i > 0 && list[i - 1]![0] === name) fail(`${at} is given twice.`, name);
    if (!isDtype(t.dtype)) fail(`${at}: unsupported dtype ${String(t.dtype)}; expected one of ${DTYPES.join(", ")}.`, name);
    let numel = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) fail(`${at}: shape must be non-negative integers; found [${t.shape.join(", ")}].`, name);
      numel *= d;
    }
    const bytes = numel * DTYPE_SIZE[t.dtype];
    if (!Number.isSafeInteger(offset + bytes)) fail(`${at}: the file would exceed 2^53 bytes.`, name);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    laid.push({ name, dtype: t.dtype, shape: [...t.shape], begin: offset, end: offset + bytes });
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil((8 + json.byteLength) / 8) * 8 - 8; // pad so the data starts 8-byte aligned
  const head = new Uint8Array(8 + headerLen);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.byteLength); // trailing spaces are valid JSON whitespace
  return { header: head, tensors: laid, fileBytes: head.byteLength + offset };
}

/** One tensor's bytes from values or raw bytes, checked against its dtype and shape. */
function tensorBytes(name: string, t: TensorData, label: string): Uint8Array {
  const at = `tensor ${JSON.stringify(name)}`;
  const fail = (msg: string): never => {
    throw new SafetensorsError(label, `${label}: ${msg}`, name);
  };
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (t.bytes) {
    if (t.bytes.byteLength !== numel * DTYPE_SIZE[t.dtype]) {
      fail(`${at}: ${t.dtype} shape [${t.shape.join(", ")}] needs ${numel * DTYPE_SIZE[t.dtype]} bytes; ${t.bytes.byteLength} given.`);
    }
    return t.bytes;
  }
  const data = t.data;
  if (!data) return fail(`${at}: neither data nor bytes given.`);
  if (data.length !== numel) fail(`${at}: shape [${t.shape.join(", ")}] has ${numel} elements; ${data.length} values given.`);
  if (t.dtype === "I32" || t.dtype === "I64") {
    const enc = encodeInts(t.dtype, data);
    if (!(enc instanceof Uint8Array)) return fail(`${at}: value ${String(data[enc.badIndex])} at index ${enc.badIndex} is not an integer that fits in ${t.dtype}.`);
    return enc;
  }
  if (t.dtype === "F8_E4M3") return fail(`${at}: F8_E4M3 is written from raw bytes (give bytes, not data).`);
  if (data instanceof BigInt64Array) return fail(`${at}: ${t.dtype} needs number values, not BigInt64Array.`);
  return encodeFloats(t.dtype, data);
}

function entryList(entries: TensorEntries): [string, TensorData][] {
  return entries instanceof Map ? [...(entries as ReadonlyMap<string, TensorData>).entries()] : Object.entries(entries as Record<string, TensorData>);
}

/** Encodes tensors (and optional string metadata) as safetensors bytes. */
export function encodeSafetensors(entries: TensorEntries, metadata?: Record<string, string>, label = "<bytes>"): Uint8Array {
  const list = entryList(entries);
  const layout = safetensorsLayout(list, metadata, label);
  const byName = new Map(list);
  const out = new Uint8Array(layout.fileBytes);
  out.set(layout.header, 0);
  for (const t of layout.tensors) out.set(tensorBytes(t.name, byName.get(t.name)!, label), layout.header.byteLength + t.begin);
  return out;
}

/** Writes tensors to `path` (see encodeSafetensors): atomically, through a temporary file in
 *  the same directory renamed over it, so a failed write never leaves a partial file at `path`.
 *  Each tensor is encoded and written on its own, so the file is never held in memory whole. */
export function writeSafetensors(path: string, entries: TensorEntries, metadata?: Record<string, string>): void {
  const list = entryList(entries);
  const streams = new Map<string, TensorStream>(list.map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, chunks: () => [tensorBytes(name, t, path)] }]));
  writeSafetensorsStream(path, streams, metadata);
}

/** Writes a safetensors file of any size from tensors given as byte chunks, atomically (a
 *  temporary file renamed into place, removed on any failure). Positions are plain numbers, so
 *  files past 2 GiB and 4 GiB are written like small ones; memory use is one chunk at a time. */
export function writeSafetensorsStream(path: string, tensors: ReadonlyMap<string, TensorStream>, metadata?: Record<string, string>): void {
  const layout = safetensorsLayout(tensors, metadata, path);
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
    writeAll(fd, layout.header, 0);
    const dataStart = layout.header.byteLength;
    for (const t of layout.tensors) {
      let at = dataStart + t.begin;
      const end = dataStart + t.end;
      for (const chunk of tensors.get(t.name)!.chunks()) {
        const n = chunk instanceof Uint8Array ? chunk.byteLength : chunk.zeros;
        if (!Number.isSafeInteger(n) || n < 0 || at + n > end) {
          throw new SafetensorsError(path, `${path}: tensor ${JSON.stringify(t.name)}: its chunks hold more than the ${t.end - t.begin} bytes its ${t.dtype} shape [${t.shape.join(", ")}] needs.`, t.name);
        }
        if (chunk instanceof Uint8Array) writeAll(fd, chunk, at);
        at += n;
      }
      if (at !== end) {
        throw new SafetensorsError(path, `${path}: tensor ${JSON.stringify(t.name)}: its chunks hold ${at - dataStart - t.begin} bytes; its ${t.dtype} shape [${t.shape.join(", ")}] needs ${t.end - t.begin}.`, t.name);
      }
    }
    // Zero chunks at the end are holes: the file's length must still cover them.
    ftruncateSync(fd, layout.fileBytes);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError(path, `${path}: cannot write the safetensors file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
}

/** write(2) may write less than asked (and at most ~2 GiB at once): loop until all is written. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30), position + done);
    if (n <= 0) throw new Error("write returned no progress");
    done += n;
  }
}
