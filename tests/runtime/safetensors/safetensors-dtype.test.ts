// Bit-level conversions, checked against patterns derived by hand from the IEEE 754 binary16 and
// bfloat16 layouts (sign | exponent | mantissa), not against the code's own output.
import { describe, expect, it } from "vitest";
import {
  bf16BitsToF32,
  decodeFloats,
  decodeI32,
  decodeI64,
  encodeFloats,
  encodeInts,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  i64ToI32,
} from "../../../runtime/safetensors/dtype.js";

describe("f16 → f32", () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x3800, 0.5],
    [0x3555, 1365 / 4096], // exp 13, mantissa 341: (1 + 341/1024) / 4
    [0x4248, 3.140625], // exp 16, mantissa 584: (1 + 584/1024) * 2
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8001, -(2 ** -24)],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])("0x%s", (bits, value) => {
    expect(f16BitsToF32(bits)).toBe(value);
  });
  it("zero keeps its sign and NaN stays NaN", () => {
    expect(Object.is(f16BitsToF32(0x0000), 0)).toBe(true);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0x7c01)).toBeNaN();
    expect(f16BitsToF32(0xfe00)).toBeNaN();
  });
});

describe("bf16 → f32", () => {
  it.each([
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625], // f32 0x40490000
    [0x3f00, 0.5],
    [0x0080, 2 ** -126], // smallest normal
    [0x0001, 2 ** -133], // smallest subnormal: mantissa bit 16 of an f32 subnormal
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ])("0x%s", (bits, value) => {
    expect(bf16BitsToF32(bits)).toBe(value);
  });
  it("NaN and signed zero", () => {
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
    expect(Object.is(bf16BitsToF32(0x8000), -0)).toBe(true);
  });
});

describe("f32 → f16, round to nearest even", () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [1 / 3, 0x3555], // 1/3 = 1.0101…₂ × 2^-2: mantissa 0x155, remainder below half
    [65504, 0x7bff],
    [65519, 0x7bff], // below the midpoint 65520
    [65520, 0x7c00], // tie between 65504 (odd mantissa) and 65536: even wins, which is inf
    [1e6, 0x7c00],
    [1 + 2 ** -11, 0x3c00], // tie, mantissa 0 is even
    [1 + 3 * 2 ** -11, 0x3c02], // tie between mantissa 1 and 2
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: 0
    [1.5 * 2 ** -25, 0x0001],
    [2 ** -26, 0x0000],
    [1.5 * 2 ** -24, 0x0002], // tie between subnormals 1 and 2
    [2.5 * 2 ** -24, 0x0002], // tie between subnormals 2 and 3
    [-(2 ** -24), 0x8001],
    [2 ** -14 - 2 ** -25, 0x0400], // 1023.5 subnormal units: rounds up into the smallest normal
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [-0, 0x8000],
    [0, 0x0000],
  ])("%s", (x, bits) => {
    expect(f32ToF16Bits(x)).toBe(bits);
  });
  it("NaN becomes a quiet NaN", () => {
    expect(f32ToF16Bits(NaN)).toBe(0x7e00);
  });
  it("every finite f16 value survives f16 → f32 → f16", () => {
    for (let b = 0; b < 0x10000; b++) {
      if ((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0) continue; // NaN payloads are canonicalised
      if (f32ToF16Bits(f16BitsToF32(b)) !== b) throw new Error(`0x${b.toString(16)} did not round-trip`);
    }
  });
});

describe("f32 → bf16, round to nearest even", () => {
  it.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [Math.PI, 0x4049], // f32 0x40490FDB: low half below 0x8000
    [1 + 2 ** -8, 0x3f80], // f32 0x3F808000: tie, 0x3F80 even
    [1 + 3 * 2 ** -8, 0x3f82], // f32 0x3F818000: tie, 0x3F81 odd → up
    [1 + 2 ** -8 + 2 ** -23, 0x3f81], // f32 0x3F808001: above the tie
    [3.4028234663852886e38, 0x7f80], // f32 max 0x7F7FFFFF rounds to inf
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [-0, 0x8000],
  ])("%s", (x, bits) => {
    expect(f32ToBf16Bits(x)).toBe(bits);
  });
  it("NaN stays a quiet NaN", () => {
    expect(f32ToBf16Bits(NaN)).toBe(0x7fc0);
  });
});

describe("I64 → I32", () => {
  it("keeps values in range and refuses the rest", () => {
    expect(i64ToI32(0n)).toBe(0);
    expect(i64ToI32(2147483647n)).toBe(2147483647);
    expect(i64ToI32(-2147483648n)).toBe(-2147483648);
    expect(i64ToI32(2147483648n)).toBeNull();
    expect(i64ToI32(-2147483649n)).toBeNull();
  });
});

describe("bulk encode / decode", () => {
  it("decodes little-endian bytes at an odd offset", () => {
    // 1.0f = 0x3F800000 and -2.0f = 0xC0000000, little-endian, after one padding byte.
    const raw = new Uint8Array([0xaa, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    expect([...decodeFloats("F32", raw.subarray(1))]).toEqual([1, -2]);
    expect([...decodeFloats("F16", new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]))]).toEqual([1, -2, 2 ** -24]);
    expect([...decodeFloats("BF16", new Uint8Array([0x80, 0x3f, 0x49, 0x40]))]).toEqual([1, 3.140625]);
    expect([...decodeI32(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x05, 0, 0, 0]))]).toEqual([-1, 5]);
    expect([...decodeI64(new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))]).toEqual([-2n]);
  });
  it("encodes with rounding and reports integers that do not fit", () => {
    expect([...encodeFloats("F16", [1, 1 / 3])]).toEqual([0x00, 0x3c, 0x55, 0x35]);
    expect([...encodeFloats("BF16", [-2])]).toEqual([0x00, 0xc0]);
    expect([...encodeFloats("F32", [1])]).toEqual([0x00, 0x00, 0x80, 0x3f]);
    expect(encodeInts("I32", [1, 2 ** 31])).toEqual({ badIndex: 1 });
    expect(encodeInts("I32", [0.5])).toEqual({ badIndex: 0 });
    expect([...(encodeInts("I64", [-1]) as Uint8Array)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });
});
