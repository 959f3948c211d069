// The ggml tensor types moec reads from GGUF files: their type ids (ggml.h `enum ggml_type`),
// elements per block and bytes per block (ggml-common.h block structs), and the decoder of each.
// A row of a ggml tensor is ne[0] elements, stored as ne[0]/blockSize whole blocks.

import { decodeFloats } from "../../safetensors/dtype.js";
import { decodeQ4_0 } from "./q4_0.js";
import { decodeQ4K } from "./q4_k.js";
import { decodeQ5K } from "./q5_k.js";
import { decodeQ6K } from "./q6_k.js";
import { decodeQ8_0 } from "./q8_0.js";

export interface GgmlType {
  id: number;
  name: string;
  /** Elements per block (1 for the float types). */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
  /** Decodes `count` elements (a multiple of blockSize) from whole blocks. */
  decode(bytes: Uint8Array, count: number): Float32Array;
}

export const GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q8_0 = 8, GGML_Q4_K = 12, GGML_Q5_K = 13, GGML_Q6_K = 14, GGML_BF16 = 30;

const floats = (dtype: "F32" | "F16" | "BF16") => (bytes: Uint8Array, count: number) => decodeFloats(dtype, bytes.subarray(0, count * (dtype === "F32" ? 4 : 2)));

const TYPES: GgmlType[] = [
  { id: GGML_F32, name: "F32", blockSize: 1, blockBytes: 4, decode: floats("F32") },
  { id: GGML_F16, name: "F16", blockSize: 1, blockBytes: 2, decode: floats("F16") },
  { id: GGML_BF16, name: "BF16", blockSize: 1, blockBytes: 2, decode: floats("BF16") },
  { id: GGML_Q8_0, name: "Q8_0", blockSize: 32, blockBytes: 34, decode: decodeQ8_0 },
  { id: GGML_Q4_0, name: "Q4_0", blockSize: 32, blockBytes: 18, decode: decodeQ4_0 },
  { id: GGML_Q4_K, name: "Q4_K", blockSize: 256, blockBytes: 144, decode: decodeQ4K },
  { id: GGML_Q5_K, name: "Q5_K", blockSize: 256, blockBytes: 176, decode: decodeQ5K },
  { id: GGML_Q6_K, name: "Q6_K", blockSize: 256, blockBytes: 210, decode: decodeQ6K },
];

const BY_ID = new Map(TYPES.map((t) => [t.id, t]));

/** Names of the ggml types that exist but that moec does not decode, for messages. */
const OTHER_NAMES: Record<number, string> = {
  3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
  19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
};

export function ggmlType(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

/** A type id as a name (`Q4_1`, or `type 99`). */
export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? OTHER_NAMES[id] ?? `type ${id}`;
}

export const SUPPORTED_GGML_TYPES = TYPES.map((t) => t.name);

/** Bytes of `count` elements of type `t` (count a multiple of its block size). */
export function ggmlBytes(t: GgmlType, count: number): number {
  return (count / t.blockSize) * t.blockBytes;
}
