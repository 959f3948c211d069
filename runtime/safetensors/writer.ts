// Writes safetensors files with a deterministic layout: tensors sorted by name, data contiguous in
// that order, and the JSON header padded with spaces so the data section starts 8-byte aligned.

import { renameSync, rmSync, writeFileSync } from "node:fs";
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

/** Encodes tensors (and optional string metadata) as safetensors bytes. */
export function encodeSafetensors(entries: TensorEntries, metadata?: Record<string, string>, label = "<bytes>"): Uint8Array {
  const list: [string, TensorData][] = entries instanceof Map ? [...(entries as ReadonlyMap<string, TensorData>).entries()] : Object.entries(entries as Record<string, TensorData>);
  list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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

  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    const at = `tensor ${JSON.stringify(name)}`;
    if (name === "__metadata__") fail(`a tensor may not be named __metadata__.`, name);
    if (!isDtype(t.dtype)) fail(`${at}: unsupported dtype ${String(t.dtype)}; expected one of ${DTYPES.join(", ")}.`, name);
    let numel = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) fail(`${at}: shape must be non-negative integers; found [${t.shape.join(", ")}].`, name);
      numel *= d;
    }
    let bytes: Uint8Array;
    if (t.bytes) {
      bytes = t.bytes;
      if (bytes.byteLength !== numel * DTYPE_SIZE[t.dtype]) {
        fail(`${at}: ${t.dtype} shape [${t.shape.join(", ")}] needs ${numel * DTYPE_SIZE[t.dtype]} bytes; ${bytes.byteLength} given.`, name);
      }
    } else {
      const data = t.data;
      if (!data) return fail(`${at}: neither data nor bytes given.`, name);
      if (data.length !== numel) fail(`${at}: shape [${t.shape.join(", ")}] has ${numel} elements; ${data.length} values given.`, name);
      if (t.dtype === "I32" || t.dtype === "I64") {
        const enc = encodeInts(t.dtype, data);
        if (!(enc instanceof Uint8Array)) return fail(`${at}: value ${String(data[enc.badIndex])} at index ${enc.badIndex} is not an integer that fits in ${t.dtype}.`, name);
        bytes = enc;
      } else if (t.dtype === "F8_E4M3") {
        return fail(`${at}: F8_E4M3 is written from raw bytes (give bytes, not data).`, name);
      } else {
        if (data instanceof BigInt64Array) return fail(`${at}: ${t.dtype} needs number values, not BigInt64Array.`, name);
        bytes = encodeFloats(t.dtype, data);
      }
    }
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil((8 + json.byteLength) / 8) * 8 - 8; // pad so the data starts 8-byte aligned
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen); // trailing spaces are valid JSON whitespace
  let at = 8 + headerLen;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Writes tensors to `path` (see encodeSafetensors): atomically, through a temporary file in
 *  the same directory renamed over it, so a failed write never leaves a partial file at `path`. */
export function writeSafetensors(path: string, entries: TensorEntries, metadata?: Record<string, string>): void {
  const bytes = encodeSafetensors(entries, metadata, path);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new SafetensorsError(path, `${path}: cannot write the safetensors file (${(e as Error).message}).`);
  }
}
