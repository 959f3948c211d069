// Element types of safetensors files and pure conversions between them. All bit-level rounding
// is round-to-nearest-even, as IEEE 754 and PyTorch's `.half()` / `.bfloat16()` do.

// F8_E4M3 (float8_e4m3fn) is read only as DeepSeek-style block-scaled weights
// (weights/quantized-checkpoint.ts); everywhere else it is "not a float weight".
export type Dtype = "F32" | "F16" | "BF16" | "I32" | "I64" | "F8_E4M3";

export const DTYPES: readonly Dtype[] = ["F32", "F16", "BF16", "I32", "I64", "F8_E4M3"];
export const FLOAT_DTYPES: readonly Dtype[] = ["F32", "F16", "BF16"];

export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F8_E4M3: 1 };

export function isDtype(s: unknown): s is Dtype {
  return typeof s === "string" && (DTYPES as readonly string[]).includes(s);
}

export function isFloatDtype(d: Dtype): boolean {
  return d === "F32" || d === "F16" || d === "BF16";
}

// One scratch word for bit casts between f32 and u32.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0]!;
}

/** IEEE binary16 bits → number (exact: every f16 value is an f32 value). */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits → number: the upper half of an f32. */
export function bf16BitsToF32(bits: number): number {
  return f32FromBits((bits & 0xffff) << 16);
}

/** number → IEEE binary16 bits, rounding the f32 value to nearest even; overflow gives ±inf. */
export function f32ToF16Bits(x: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // inf; quiet NaN
  const e = exp - 127 + 15; // biased f16 exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    // Normal: keep 10 mantissa bits; a carry out of the mantissa correctly bumps the exponent
    // (and 65520 and above become inf).
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h;
  }
  // Subnormal or zero: the value in units of 2^-24 is (1.mant) >> (14 - e).
  if (e < -10) return sign; // below half the smallest subnormal
  const m = mant | 0x800000;
  const shift = 14 - e; // 14..24
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

/** number → bfloat16 bits, rounding the f32 value to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16Bits(x: number): number {
  const u = f32Bits(x);
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff;
  const lsb = (u >>> 16) & 1;
  return ((u + 0x7fff + lsb) >>> 16) & 0xffff;
}

const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

/** I64 → I32, or null when the value does not fit (the caller names the file and tensor). */
export function i64ToI32(v: bigint): number | null {
  return v < I32_MIN || v > I32_MAX ? null : Number(v);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;
function f16Lookup(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) f16Table[b] = f16BitsToF32(b);
  }
  return f16Table;
}

/** An aligned private copy of little-endian bytes (file slices may sit at any offset). */
function alignedCopy(bytes: Uint8Array): ArrayBuffer {
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return buf;
}

/** Decodes F32/F16/BF16 little-endian bytes to f32 values. `bytes.length` must be a multiple of the size. */
export function decodeFloats(dtype: "F32" | "F16" | "BF16", bytes: Uint8Array): Float32Array {
  const size = DTYPE_SIZE[dtype];
  const n = Math.floor(bytes.byteLength / size);
  const out = new Float32Array(n);
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      out[i] = dtype === "F32" ? dv.getFloat32(4 * i, true) : dtype === "F16" ? f16BitsToF32(dv.getUint16(2 * i, true)) : bf16BitsToF32(dv.getUint16(2 * i, true));
    }
    return out;
  }
  const buf = alignedCopy(bytes.subarray(0, n * size));
  if (dtype === "F32") return new Float32Array(buf);
  const halves = new Uint16Array(buf);
  if (dtype === "F16") {
    const table = f16Lookup();
    for (let i = 0; i < n; i++) out[i] = table[halves[i]!]!;
  } else {
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) words[i] = halves[i]! << 16;
  }
  return out;
}

/** Decodes I32 little-endian bytes. */
export function decodeI32(bytes: Uint8Array): Int32Array {
  const n = Math.floor(bytes.byteLength / 4);
  if (LITTLE_ENDIAN) return new Int32Array(alignedCopy(bytes.subarray(0, 4 * n)));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
  return out;
}

/** Decodes I64 little-endian bytes. */
export function decodeI64(bytes: Uint8Array): BigInt64Array {
  const n = Math.floor(bytes.byteLength / 8);
  if (LITTLE_ENDIAN) return new BigInt64Array(alignedCopy(bytes.subarray(0, 8 * n)));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(8 * i, true);
  return out;
}

/** Encodes numbers as F32/F16/BF16 little-endian bytes (f16/bf16 rounded to nearest even). */
export function encodeFloats(dtype: "F32" | "F16" | "BF16", values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (dtype === "F32") dv.setFloat32(4 * i, v, true);
    else dv.setUint16(2 * i, dtype === "F16" ? f32ToF16Bits(v) : f32ToBf16Bits(v), true);
  }
  return out;
}

/** Encodes integers as I32 or I64 little-endian bytes; returns the index of the first value that does not fit instead. */
export function encodeInts(dtype: "I32" | "I64", values: ArrayLike<number> | BigInt64Array): Uint8Array | { badIndex: number } {
  const n = values.length;
  const out = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const big = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : null;
    if (big === null) return { badIndex: i };
    if (dtype === "I64") {
      if (big < -(2n ** 63n) || big >= 2n ** 63n) return { badIndex: i };
      dv.setBigInt64(8 * i, big, true);
    } else {
      const small = i64ToI32(big);
      if (small === null) return { badIndex: i };
      dv.setInt32(4 * i, small, true);
    }
  }
  return out;
}
