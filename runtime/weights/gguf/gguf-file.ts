// Opens a local .gguf file: @huggingface/gguf parses the container (metadata and tensor infos);
// this file bounds what it may be asked to parse (the fixed header's counts against the file's
// size), checks every tensor info against the file (type, shape, whole blocks per row, alignment,
// data inside the file, names unique), and reads tensor data itself, by positional reads of each
// tensor's range, decoding the ggml block types to f32 (quant/).
// GGUF lists dims fastest axis first (ne[0] is a row's length); shapes here are row-major,
// slowest first, as safetensors and moec write them: shape = ne reversed.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { gguf } from "@huggingface/gguf";
import { ggmlBytes, ggmlType, ggmlTypeName, SUPPORTED_GGML_TYPES, type GgmlType } from "../quant/ggml-types.js";
import { GgufError } from "./gguf-error.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC } from "./gguf-writer.js";

export interface GgufTensor {
  name: string;
  type: GgmlType;
  /** Row-major, slowest axis first (ne reversed). */
  shape: number[];
  /** Absolute byte offset of the data in the file, and its length. */
  offset: number;
  byteLength: number;
}

export interface GgufFile {
  label: string;
  version: number;
  /** `general.architecture` (`llama`, `qwen2moe`, …), when the file says. */
  architecture?: string;
  metadata: Record<string, unknown>;
  alignment: number;
  tensors: Map<string, GgufTensor>;
  /** A tensor's raw bytes, or the bytes of elements [first, first + count) (whole rows). */
  readBytes(t: GgufTensor, first?: number, count?: number): Uint8Array;
  /** A tensor (or a run of whole rows of it) decoded to f32. */
  readF32(t: GgufTensor, first?: number, count?: number): Float32Array;
}

// Smallest encodings, to bound the counts a header may claim: a KV pair is a key (u64 length +
// at least one byte), a u32 value type and at least one byte of value; a tensor info is a name
// (u64 length + one byte), n_dims, one u64 dim, a u32 type and a u64 offset.
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;

function fileSize(path: string, label: string): number {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GgufError(label, `${label}: cannot read the GGUF file (${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message}).`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new GgufError(label, `${label}: cannot read the GGUF file (it is a directory).`);
    return st.size;
  } finally {
    closeSync(fd);
  }
}

function readRange(path: string, label: string, offset: number, length: number, what: string): Uint8Array {
  const buf = new Uint8Array(length);
  const fd = openSync(path, "r");
  try {
    for (let done = 0; done < length;) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) throw new GgufError(label, `${label}: ${what} ends at byte ${offset + length}, but the file ends at byte ${offset + done} (truncated?).`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** The fixed 24-byte header, checked before the parser is let loose on the rest. */
function checkFixedHeader(path: string, label: string, size: number): number {
  if (size < 24) throw new GgufError(label, `${label}: ${size} bytes is too short for a GGUF file (its fixed header alone is 24 bytes).`);
  const h = new DataView(readRange(path, label, 0, 24, "the header").buffer);
  if (h.getUint32(0, true) !== GGUF_MAGIC) {
    const start = Array.from(new Uint8Array(h.buffer, 0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new GgufError(label, `${label}: not a GGUF file (it starts with bytes ${start}, not "GGUF").`);
  }
  const version = h.getUint32(4, true);
  if (version !== 2 && version !== 3) {
    const hint = h.getUint32(4, false) === 2 || h.getUint32(4, false) === 3 ? " (a big-endian GGUF: moec reads little-endian files only)" : "";
    throw new GgufError(label, `${label}: GGUF version ${version}${hint}; moec reads versions 2 and 3.`);
  }
  const tensors = h.getBigUint64(8, true), kvs = h.getBigUint64(16, true);
  const room = BigInt(size - 24);
  if (tensors * BigInt(MIN_TENSOR_INFO_BYTES) > room) throw new GgufError(label, `${label}: the header claims ${tensors} tensor${tensors === 1n ? "" : "s"}, more than the file's ${size} bytes can describe (truncated or corrupt).`);
  if (kvs * BigInt(MIN_KV_BYTES) > room) throw new GgufError(label, `${label}: the header claims ${kvs} metadata entr${kvs === 1n ? "y" : "ies"}, more than the file's ${size} bytes can hold (truncated or corrupt).`);
  return version;
}

/** Opens the GGUF at `path`: metadata and tensor infos now, tensor data on demand. */
export async function openGguf(path: string, label = path): Promise<GgufFile> {
  const size = fileSize(path, label);
  const version = checkFixedHeader(path, label, size);
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (e) {
    // The parser's own bounds and a read past the end (RangeError) both land here.
    throw new GgufError(label, `${label}: the GGUF header cannot be parsed (${(e as Error).message}); the file is truncated or corrupt.`);
  }
  const metadata = parsed.metadata as unknown as Record<string, unknown>;
  const rawAlign = metadata["general.alignment"];
  const alignment = rawAlign === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(rawAlign);
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0 || alignment > 1 << 20) {
    throw new GgufError(label, `${label}: general.alignment is ${String(rawAlign)}; it must be a positive multiple of 8 (ggml's default is 32).`);
  }
  const dataStart = Number(parsed.tensorDataOffset);
  const tensors = new Map<string, GgufTensor>();
  const problems: { tensor: string; message: string }[] = [];
  for (const info of parsed.tensorInfos) {
    const where = `${label}: tensor ${info.name}`;
    const problem = (message: string) => problems.push({ tensor: info.name, message });
    if (tensors.has(info.name)) {
      problem(`${where} is listed twice.`);
      continue;
    }
    const type = ggmlType(info.dtype);
    if (!type) {
      problem(`${where} has ggml type ${ggmlTypeName(info.dtype)}, which moec cannot decode (it reads ${SUPPORTED_GGML_TYPES.join(", ")}).`);
      continue;
    }
    if (info.n_dims < 1 || info.n_dims > 4) {
      problem(`${where} has ${info.n_dims} dimensions; ggml tensors have 1 to 4.`);
      continue;
    }
    const ne = info.shape.slice(0, info.n_dims);
    if (ne.some((d) => d < 1n)) {
      problem(`${where} has an empty dimension (ne = [${ne.join(", ")}]).`);
      continue;
    }
    const count = ne.reduce((a, d) => a * d, 1n);
    if (ne[0]! % BigInt(type.blockSize) !== 0n) {
      problem(`${where} has rows of ${ne[0]} values (ne[0]), not whole ${type.name} blocks of ${type.blockSize}.`);
      continue;
    }
    const bytes = (count / BigInt(type.blockSize)) * BigInt(type.blockBytes);
    const offset = BigInt(dataStart) + info.offset;
    if (info.offset % BigInt(alignment) !== 0n) problem(`${where} starts at data offset ${info.offset}, not a multiple of the alignment ${alignment}.`);
    else if (offset + bytes > BigInt(size)) problem(`${where} (${type.name}, ne = [${ne.join(", ")}]) needs bytes ${offset}…${offset + bytes}, past the end of the file at ${size} (truncated?).`);
    else tensors.set(info.name, { name: info.name, type, shape: ne.map(Number).reverse(), offset: Number(offset), byteLength: Number(bytes) });
  }
  if (problems.length) {
    const [first, ...rest] = problems;
    const more = rest.length ? ` (and ${rest.length} more: ${rest.slice(0, 3).map((p) => p.tensor).join(", ")}${rest.length > 3 ? ", …" : ""})` : "";
    throw new GgufError(label, first!.message + more, first!.tensor);
  }

  const arch = metadata["general.architecture"];
  const readBytes = (t: GgufTensor, first = 0, count = t.shape.reduce((a, d) => a * d, 1)) => {
    const at = t.offset + ggmlBytes(t.type, first);
    const length = ggmlBytes(t.type, count);
    // The file may have changed since its header was read.
    if (at + length > fileSize(path, label)) throw new GgufError(label, `${label}: tensor ${t.name} ends at byte ${at + length}, past the end of the file (truncated since it was opened?).`, t.name);
    return readRange(path, label, at, length, `tensor ${t.name}`);
  };
  return {
    label, version, metadata, alignment, tensors,
    ...(typeof arch === "string" ? { architecture: arch } : {}),
    readBytes,
    readF32: (t, first = 0, count = t.shape.reduce((a, d) => a * d, 1)) => t.type.decode(readBytes(t, first, count), count),
  };
}
