// The device form of Q8_0/Q4_0/FP8 matrices (weights/quant/gpu-blocks.ts): words of hand-packed
// ggml blocks written out by hand, the byte counts by block arithmetic, FP8's per-(row, 128-block)
// scales and bytes from hand-picked values, its round-trip error against the format's half-ulp
// bound, and matrices whose rows are not whole blocks refused by name.

import { describe, expect, it } from "vitest";
import { e4m3ToF32 } from "../../../../runtime/weights/quant/fp8-e4m3.js";
import { gpuBlockBytes, packFp8Rows, quantizeForGpu, repackGgmlBlocks } from "../../../../runtime/weights/quant/gpu-blocks.js";
import { decodeQ4_0, encodeQ4_0 } from "../../../../runtime/weights/quant/q4_0.js";
import { decodeQ8_0, encodeQ8_0 } from "../../../../runtime/weights/quant/q8_0.js";
import { normals, rng } from "../../../helpers/random.js";

/** One ggml block: the f16 scale bits, then its payload bytes. */
const block = (dBits: number, payload: number[]): number[] => [dBits & 0xff, dBits >> 8, ...payload];

describe("the device form of Q8_0 and Q4_0 blocks", () => {
  it("Q8_0: words hold four int8 in order, scales two f16 to a word (low half first)", () => {
    const q0 = [...Array(32).keys()].map((i) => (i - 16) & 0xff); // −16 … 15
    const q1 = [...Array(32).keys()].map((i) => (i * 3) & 0xff);
    const q2 = Array(32).fill(0x7f);
    const bytes = Uint8Array.from([...block(0x3c00, q0), ...block(0x3800, q1), ...block(0xbc00, q2)]);
    const g = repackGgmlBlocks("q8_0", bytes, 1, 96, "w");
    expect(g.values.length).toBe(24);
    // Elements 0…3 of block 0 are −16, −15, −14, −13: bytes f0 f1 f2 f3.
    expect(g.values[0]).toBe(0xf3f2f1f0);
    expect(g.values[4]).toBe(0x03020100); // elements 16…19: 0, 1, 2, 3
    expect(g.values[8]).toBe(0x09060300); // block 1, elements 0…3: 0, 3, 6, 9
    expect(g.values[16]).toBe(0x7f7f7f7f);
    // d of blocks 0 and 1 (1.0, 0.5) share word 0; block 2's −1.0 is alone in word 1's low half.
    expect([...g.scales]).toEqual([0x38003c00, 0x0000bc00]);
  });

  it("Q4_0: a word's nibbles are eight consecutive elements (ggml byte j holds elements j and j + 16)", () => {
    // byte j = (low j) | (high 15 − j): element j has q = j, element j + 16 has q = 15 − j.
    const payload = [...Array(16).keys()].map((j) => j | ((15 - j) << 4));
    const g = repackGgmlBlocks("q4_0", Uint8Array.from(block(0x3c00, payload)), 1, 32, "w");
    // Elements 0…7: q = 0…7 in nibbles 0…7; 8…15: 8…15; 16…23: 15…8; 24…31: 7…0.
    expect([...g.values]).toEqual([0x76543210, 0xfedcba98, 0x89abcdef, 0x01234567]);
    expect([...g.scales]).toEqual([0x3c00]);
  });

  it("bytes on the device: 8.5 bits per value (Q8_0) and 4.5 (Q4_0) plus a padded scale word", () => {
    expect(gpuBlockBytes("q8_0", 4096, 4096)).toBe((4096 * 4096 * 17) / 16); // 32 bytes of values + 2 of scale per 32 values
    expect(gpuBlockBytes("q4_0", 4096, 4096)).toBe((4096 * 4096 * 9) / 16);
    expect(gpuBlockBytes("q4_0", 1, 32)).toBe(16 + 4); // one block: its scale word is half empty
  });

  it("a GGUF's blocks from ggml's reference encoders survive the host dequantization and the upload's re-encoding bit for bit", () => {
    // docs/quantization.md: the block's largest value decodes to ±127·d (Q8_0) or −8·d (Q4_0), so d and every q come back.
    const x = normals(rng(9), 32 * 64, 3);
    const q8 = encodeQ8_0(x);
    expect(quantizeForGpu("q8_0", decodeQ8_0(q8, x.length), 64, 32, "w")).toEqual(repackGgmlBlocks("q8_0", q8, 64, 32, "w"));
    const q4 = encodeQ4_0(x);
    expect(quantizeForGpu("q4_0", decodeQ4_0(q4, x.length), 64, 32, "w")).toEqual(repackGgmlBlocks("q4_0", q4, 64, 32, "w"));
  });

  it("refuses rows that are not whole blocks, naming the tensor and its shape", () => {
    expect(() => quantizeForGpu("q8_0", new Float32Array(60), 2, 30, "layers.0.self_attn.wq")).toThrow(
      "weight 'layers.0.self_attn.wq' [2, 30]: rows of 30 values are not whole Q8_0 blocks of 32; only matrices whose row length is a multiple of 32 can be kept quantized",
    );
    expect(() => repackGgmlBlocks("q4_0", new Uint8Array(17), 1, 32, "lm_head.weight")).toThrow("weight 'lm_head.weight' [1, 32]: 17 bytes of Q4_0 blocks, expected 1 × 18 = 18");
  });
});

describe("the device form of FP8 E4M3 (scale per row and 128 columns)", () => {
  it("scale = amax/448 per (row, block); bytes in order, four to a word, the low byte first", () => {
    // Row 0: block 0 holds 896 at element 0 and 1 at element 1 (scale 2: bytes 0x7e, 0.5 → 0x30),
    // block 1 all zero (scale 0, bytes 0). Row 1: block 0 is −4.5 at element 2 (scale 4.5/448:
    // −448 → 0xfe), the rest 0; block 1's element 127 is 2^-9·3 with amax 2^-9·3 → 448 (0x7e).
    const x = new Float32Array(2 * 256);
    x[0] = 896; x[1] = 1;
    x[256 + 2] = -4.5;
    x[256 + 255] = 3 * 2 ** -9;
    const g = quantizeForGpu("fp8_e4m3", x, 2, 256, "w");
    expect(g.values.length).toBe(128);
    expect(g.values[0]).toBe(0x0000307e);
    expect(g.values[64]).toBe(0x00fe0000);
    expect(g.values[127]).toBe(0x7e000000);
    expect(g.values.filter((w, i) => ![0, 64, 127].includes(i) && w !== 0).length).toBe(0);
    expect(Array.from(new Float32Array(g.scales.buffer))).toEqual([2, 0, Math.fround(4.5 / 448), Math.fround((3 * 2 ** -9) / 448)]);
  });

  it("round trip within e4m3's half step: |x − x̂| ≤ |x|·2⁻⁴ (normals) or the scale·2⁻¹⁰ (subnormals)", () => {
    const rows = 8, K = 256;
    const x = normals(rng(11), rows * K, 0.05);
    const g = quantizeForGpu("fp8_e4m3", x, rows, K, "w");
    const scales = new Float32Array(g.scales.buffer);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const byte = (g.values[i >> 2]! >>> (8 * (i & 3))) & 0xff;
      const s = scales[Math.floor(i / 128)]!;
      const err = Math.abs(x[i]! - e4m3ToF32(byte) * s);
      const bound = Math.max(Math.abs(x[i]!) * 2 ** -4, s * 2 ** -10) * (1 + 1e-6);
      expect(err).toBeLessThanOrEqual(bound);
      worst = Math.max(worst, err / Math.abs(x[i]!));
    }
    expect(worst).toBeGreaterThan(0.01); // it did round
  });

  it("bytes on the device: 1 byte a value plus a 4-byte scale per 128 values (8.25 bits)", () => {
    expect(gpuBlockBytes("fp8_e4m3", 4096, 4096)).toBe(4096 * 4096 + 4096 * 32 * 4);
    expect(gpuBlockBytes("fp8_e4m3", 3, 128)).toBe(3 * 128 + 3 * 4);
  });

  it("refuses rows that are not whole 128-blocks, non-finite values and the NaN bytes, by name and position", () => {
    expect(() => quantizeForGpu("fp8_e4m3", new Float32Array(128), 2, 64, "layers.0.self_attn.wq")).toThrow(
      "weight 'layers.0.self_attn.wq' [2, 64]: rows of 64 values are not whole FP8_E4M3 blocks of 128; only matrices whose row length is a multiple of 128 can be kept quantized",
    );
    const x = new Float32Array(256);
    x[130] = NaN;
    expect(() => quantizeForGpu("fp8_e4m3", x, 2, 128, "lm_head.weight")).toThrow("weight 'lm_head.weight' [2, 128]: element [1, 2] is NaN; only finite weights can be kept as fp8_e4m3");
    const bytes = new Uint8Array(128);
    bytes[5] = 0xff;
    expect(() => packFp8Rows({ rows: 1, cols: 128, bytes, rowScales: Float32Array.from([1]) }, "w")).toThrow("weight 'w' [1, 128]: element [0, 5] is the FP8 NaN byte 0xff");
  });
});
