// Parses safetensors bytes: an 8-byte little-endian header length N, N bytes of JSON header,
// then the data section. Everything in the header is validated before any tensor is touched, and
// every problem becomes a SafetensorsError naming the file, the tensor and what was expected.
// No file system: reader.ts reads files through it, read-blob.ts a browser's Blob.

import { firstDuplicateKey } from "./duplicate-keys.js";
import { DTYPE_SIZE, DTYPES, decodeFloats, decodeI32, decodeI64, i64ToI32, isDtype, type Dtype } from "./dtype.js";
import { SafetensorsError } from "./errors.js";

/** Headers larger than this are rejected before allocation (the format's own reference uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** The tensor's raw little-endian bytes: a view into the file, not a copy. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** Path or label used in messages. */
  label: string;
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
  /** The tensor as f32 values (F32, F16 or BF16). */
  getF32(name: string): Float32Array;
  /** The tensor as i32 values (I32, or I64 when every value fits). */
  getI32(name: string): Int32Array;
}

const describe = (v: unknown): string => {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
};

/** Where the bytes come from: memory, or an open file read piecewise (files may exceed 2 GiB). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

export interface HeaderRange { name: string; begin: number; end: number; dtype: Dtype; shape: number[]; order: number }

/** Validates the header; returns the tensors' ranges in header order. */
export function parseHeader(src: ByteSource, file: string): { metadata: Record<string, string>; ranges: HeaderRange[]; dataStart: number } {
  function fail(msg: string, tensor?: string): never {
    throw new SafetensorsError(file, `${file}: ${msg}`, tensor);
  }
  if (src.size < 8) fail(`file is ${src.size} bytes; expected at least 8 (the header length).`);
  const first = src.read(0, 8);
  const dv = new DataView(first.buffer, first.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo; // exact: < 2^53 since hi < 2^32
  if (headerLen > MAX_HEADER_BYTES) fail(`header length is ${headerLen} bytes; expected at most ${MAX_HEADER_BYTES}.`);
  if (headerLen < 2) fail(`header length is ${headerLen} bytes; expected at least 2 (a JSON object).`);
  if (8 + headerLen > src.size) {
    fail(`header length is ${headerLen} bytes but the file has only ${src.size - 8} bytes after the length field (truncated file?).`);
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(src.read(8, headerLen));
  } catch {
    return fail("header is not valid UTF-8.");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}).`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    return fail(`header must be a JSON object; found ${describe(header)}.`);
  }
  const twice = firstDuplicateKey(text);
  if (twice !== undefined) {
    return fail(`header names ${twice === "__metadata__" ? "__metadata__" : `tensor ${JSON.stringify(twice)}`} twice (a JSON reader would keep only the last).`, twice === "__metadata__" ? undefined : twice);
  }

  const dataStart = 8 + headerLen;
  const dataLen = src.size - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: HeaderRange[] = [];

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(`__metadata__ must be an object of strings; found ${describe(raw)}.`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ entry ${JSON.stringify(k)} must be a string; found ${describe(v)}.`);
        // defineProperty, so a key named "__proto__" stays an ordinary entry.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const at = `tensor ${JSON.stringify(name)}`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(`${at}: entry must be an object with dtype, shape and data_offsets; found ${describe(raw)}.`, name);
    const entry = raw as Record<string, unknown>;

    const dtype = entry["dtype"];
    if (typeof dtype !== "string") fail(`${at}: dtype must be a string; found ${describe(dtype)}.`, name);
    if (!isDtype(dtype)) fail(`${at}: unsupported dtype ${String(dtype)}; expected one of ${DTYPES.join(", ")}.`, name);
    const dt = dtype as Dtype;

    const shape = entry["shape"];
    if (!Array.isArray(shape)) fail(`${at}: shape must be an array of non-negative integers; found ${describe(shape)}.`, name);
    let numel = 1;
    for (const d of shape as unknown[]) {
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) fail(`${at}: shape must be an array of non-negative integers; found ${JSON.stringify(shape)}.`, name);
      numel *= d as number;
      if (!Number.isSafeInteger(numel)) fail(`${at}: shape ${JSON.stringify(shape)} has more elements than can be addressed.`, name);
    }

    const offs = entry["data_offsets"];
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)) {
      fail(`${at}: data_offsets must be [begin, end] with non-negative integers; found ${JSON.stringify(offs) ?? "nothing"}.`, name);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) fail(`${at}: data_offsets [${begin}, ${end}] has begin after end.`, name);
    if (end > dataLen) fail(`${at}: data_offsets [${begin}, ${end}] ends beyond the data section of ${dataLen} bytes (truncated file?).`, name);
    const expected = numel * DTYPE_SIZE[dt];
    if (end - begin !== expected) {
      fail(`${at}: ${dt} shape [${(shape as number[]).join(", ")}] needs ${expected} bytes; data_offsets [${begin}, ${end}] give ${end - begin}.`, name);
    }
    ranges.push({ name, begin, end, dtype: dt, shape: (shape as number[]).slice(), order: ranges.length });
  }

  // Overlap check: sorted by begin, every non-empty range must start at or after the previous end.
  const byBegin = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: { name: string; end: number } | undefined;
  for (const r of byBegin) {
    if (r.begin === r.end) continue; // an empty tensor occupies nothing
    if (prev && r.begin < prev.end) {
      fail(`tensors ${JSON.stringify(prev.name)} and ${JSON.stringify(r.name)} overlap in the data section (the first ends at ${prev.end}, the second begins at ${r.begin}).`, r.name);
    }
    if (!prev || r.end > prev.end) prev = r;
  }
  return { metadata, ranges, dataStart };
}

export function parseSafetensors(src: ByteSource, file: string): SafetensorsFile {
  function fail(msg: string, tensor?: string): never {
    throw new SafetensorsError(file, `${file}: ${msg}`, tensor);
  }
  const { metadata, ranges, dataStart } = parseHeader(src, file);
  const tensors = new Map<string, SafetensorsTensor>();
  // Only now, with every range checked, touch the data (in header order, as the file lists them).
  for (const r of ranges) {
    tensors.set(r.name, { name: r.name, dtype: r.dtype, shape: r.shape, bytes: src.read(dataStart + r.begin, r.end - r.begin) });
  }

  const get = (name: string): SafetensorsTensor => {
    const t = tensors.get(name);
    if (!t) return fail(`has no tensor ${JSON.stringify(name)}.`, name);
    return t;
  };
  return {
    label: file,
    tensors,
    metadata,
    getF32(name) {
      const t = get(name);
      if (t.dtype === "I32" || t.dtype === "I64" || t.dtype === "F8_E4M3") return fail(`tensor ${JSON.stringify(name)} has dtype ${t.dtype}; expected a float dtype (F32, F16 or BF16).`, name);
      return decodeFloats(t.dtype, t.bytes);
    },
    getI32(name) {
      const t = get(name);
      if (t.dtype === "I32") return decodeI32(t.bytes);
      if (t.dtype !== "I64") return fail(`tensor ${JSON.stringify(name)} has dtype ${t.dtype}; expected an integer dtype (I32 or I64).`, name);
      const wide = decodeI64(t.bytes);
      const out = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = i64ToI32(wide[i]!);
        if (v === null) return fail(`tensor ${JSON.stringify(name)}: I64 value ${wide[i]} at index ${i} does not fit in I32.`, name);
        out[i] = v;
      }
      return out;
    },
  };
}
