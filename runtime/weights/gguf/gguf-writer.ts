// Writes a GGUF file (version 3, little-endian) as ggml's gguf.c reads it: magic "GGUF", version,
// tensor count and KV count (u64); the KV pairs (string key, u32 value type, value); each
// tensor's info (name, n_dims, ne[] fastest axis first, ggml type, data offset); zero padding to
// `general.alignment`; then each tensor's data, each starting at an aligned offset.
// Tensors are encoded one at a time as the data section is written (a model is never held
// whole), to a temporary file renamed over the target, so a failure leaves no partial file.

import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { ggmlBytes, ggmlType } from "../quant/ggml-types.js";
import { GgufError } from "./gguf-error.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value types (gguf.h `enum gguf_type`). */
export const GGUF_VALUE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;

export type GgufValue =
  | { type: "u32" | "i32" | "f32" | "u64"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: string[] }
  | { type: "i32[]" | "f32[]"; value: number[] };

export interface GgufTensorToWrite {
  name: string;
  /** Row-major shape, slowest axis first (as safetensors); written reversed as ne[]. */
  shape: number[];
  /** ggml type id (quant/ggml-types.ts). */
  type: number;
  /** The tensor's bytes in that type, made when the data section reaches it. */
  encode(): Uint8Array;
}

class ByteWriter {
  private chunks: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array) {
    this.chunks.push(b);
    this.length += b.byteLength;
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  i32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.push(b);
  }
  f32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }
  u64(v: number | bigint) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  str(s: string) {
    const bytes = new TextEncoder().encode(s);
    this.u64(bytes.byteLength);
    this.push(bytes);
  }
  u8(v: number) {
    this.push(Uint8Array.of(v));
  }
  zeros(n: number) {
    this.push(new Uint8Array(n));
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

const pad = (n: number, align: number) => (align - (n % align)) % align;

function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case "u32": w.u32(GGUF_VALUE.UINT32); w.u32(v.value); break;
    case "i32": w.u32(GGUF_VALUE.INT32); w.i32(v.value); break;
    case "f32": w.u32(GGUF_VALUE.FLOAT32); w.f32(v.value); break;
    case "u64": w.u32(GGUF_VALUE.UINT64); w.u64(v.value); break;
    case "bool": w.u32(GGUF_VALUE.BOOL); w.u8(v.value ? 1 : 0); break;
    case "string": w.u32(GGUF_VALUE.STRING); w.str(v.value); break;
    case "string[]": w.u32(GGUF_VALUE.ARRAY); w.u32(GGUF_VALUE.STRING); w.u64(v.value.length); for (const s of v.value) w.str(s); break;
    case "i32[]": w.u32(GGUF_VALUE.ARRAY); w.u32(GGUF_VALUE.INT32); w.u64(v.value.length); for (const x of v.value) w.i32(x); break;
    case "f32[]": w.u32(GGUF_VALUE.ARRAY); w.u32(GGUF_VALUE.FLOAT32); w.u64(v.value.length); for (const x of v.value) w.f32(x); break;
  }
}

/** The header bytes (through the padding before the data) and each tensor's data offset. */
export function encodeGgufHeader(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly Omit<GgufTensorToWrite, "encode">[], file = "<gguf>"): { header: Uint8Array; offsets: number[]; alignment: number } {
  const alignValue = metadata.get("general.alignment");
  const alignment = alignValue?.type === "u32" ? alignValue.value : GGUF_DEFAULT_ALIGNMENT;
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.size);
  for (const [k, v] of metadata) {
    w.str(k);
    writeValue(w, v);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const type = ggmlType(t.type);
    if (!type) throw new GgufError(file, `${file}: tensor ${t.name}: ggml type ${t.type} cannot be written.`, t.name);
    const ne = [...t.shape].reverse();
    if (ne[0]! % type.blockSize !== 0) throw new GgufError(file, `${file}: tensor ${t.name}: its rows of ${ne[0]} values are not whole ${type.name} blocks of ${type.blockSize}.`, t.name);
    w.str(t.name);
    w.u32(ne.length);
    for (const d of ne) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offsets.push(offset);
    offset += ggmlBytes(type, t.shape.reduce((a, d) => a * d, 1));
    offset += pad(offset, alignment);
  }
  w.zeros(pad(w.length, alignment));
  return { header: w.bytes(), offsets, alignment };
}

/** Writes the GGUF file at `path` atomically (temporary file in the same directory, then rename). */
export function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorToWrite[]): void {
  const { header, offsets, alignment } = encodeGgufHeader(metadata, tensors, path);
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
    writeSync(fd, header);
    let at = 0;
    tensors.forEach((t, i) => {
      const bytes = t.encode();
      const want = ggmlBytes(ggmlType(t.type)!, t.shape.reduce((a, d) => a * d, 1));
      if (bytes.byteLength !== want) throw new GgufError(path, `${path}: tensor ${t.name}: encoded to ${bytes.byteLength} bytes; its shape and type need ${want}.`, t.name);
      if (at < offsets[i]!) writeSync(fd!, new Uint8Array(offsets[i]! - at));
      writeSync(fd!, bytes);
      at = offsets[i]! + bytes.byteLength;
    });
    const tail = pad(at, alignment);
    if (tail) writeSync(fd, new Uint8Array(tail));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof GgufError) throw e;
    throw new GgufError(path, `${path}: cannot write the GGUF file (${(e as Error).message}).`);
  }
}
