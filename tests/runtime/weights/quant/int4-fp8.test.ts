// FP8 E4M3 (e4m3fn) and DeepSeek's 128×128 block scales, GPTQ and AWQ int4 unpacking, against
// bytes and words written by hand here and a test-side packer that follows the AutoGPTQ/AutoAWQ
// pack loops directly.
import { describe, expect, it } from "vitest";
import { dequantizeAwq } from "../../../../runtime/weights/quant/awq.js";
import { dequantizeFp8Blocks, e4m3ToF32, f32ToE4m3, fp8RowScales } from "../../../../runtime/weights/quant/fp8-e4m3.js";
import { dequantizeGptq } from "../../../../runtime/weights/quant/gptq.js";
import { packAwq, packGptq } from "../../../helpers/quant-packers.js";
import { rng } from "../../../helpers/random.js";

describe("FP8 E4M3 (e4m3fn)", () => {
  it("decodes bias 7, subnormals, the largest value 448 and NaN only at 0x7f/0xff", () => {
    // 0x38 = 0.0111.000: 2^0; 0x3c = 0.0111.100: 1.5; 0x40: 2; 0x7e = 0.1111.110: 1.75·2^8 = 448;
    // 0x01: subnormal 1/8·2^-6 = 2^-9; 0x08 = 0.0001.000: 2^-6; 0xb8: −1; 0x80: −0; 0x78 = 0.1111.000: 256 (no inf)
    expect([0x38, 0x3c, 0x40, 0x7e, 0x01, 0x08, 0xb8, 0x78].map(e4m3ToF32)).toEqual([1, 1.5, 2, 448, 2 ** -9, 2 ** -6, -1, 256]);
    expect(Object.is(e4m3ToF32(0x80), -0)).toBe(true);
    expect(e4m3ToF32(0x7f)).toBeNaN();
    expect(e4m3ToF32(0xff)).toBeNaN();
  });
  it("multiplies each 128×128 block by its weight_scale_inv entry", () => {
    const rows = 130, cols = 3; // two block rows (128 + 2), one block column
    const bytes = new Uint8Array(rows * cols).fill(0x38); // all 1.0
    bytes[129 * 3 + 2] = 0x40; // 2.0
    const v = dequantizeFp8Blocks(bytes, rows, cols, Float32Array.from([0.5, 3]));
    expect([v[0], v[127 * 3 + 2], v[128 * 3], v[129 * 3 + 2]]).toEqual([0.5, 0.5, 3, 6]);
  });
});

describe("FP8 E4M3 encoding (f32 → e4m3fn, nearest, ties to even, saturating)", () => {
  it("encodes known values to hand-derived bytes", () => {
    // 0 → 0x00, −0 → 0x80; ±448 = 1.75·2^8 → 0.1111.110 = 0x7e / 0xfe; 2^-9 → subnormal 0x01;
    // 1 → 0.0111.000 = 0x38; 2^-6 → 0.0001.000 = 0x08; 0.875·2^-6 (largest subnormal) → 0x07.
    expect([0, 448, -448, 2 ** -9, 1, 2 ** -6, 7 * 2 ** -9].map(f32ToE4m3)).toEqual([0x00, 0x7e, 0xfe, 0x01, 0x38, 0x08, 0x07]);
    expect(f32ToE4m3(-0)).toBe(0x80);
    // Ties: 1.0625 is halfway between 1 (mantissa 0) and 1.125 (mantissa 1) → the even 1 (0x38);
    // 1.1875 between 1.125 (m 1) and 1.25 (m 2) → 1.25 (0x3a); 1.5·2^-9 between subnormals 1 and 2 → 2 (0x02);
    // 2.5·2^-9 between 2 and 3 → 2 (0x02); 15.5·2^-4·… : 1.9375 between 1.875 (m 7) and 2 → 2 (0x40, the next binade).
    expect([1.0625, 1.1875, 1.5 * 2 ** -9, 2.5 * 2 ** -9, 1.9375].map(f32ToE4m3)).toEqual([0x38, 0x3a, 0x02, 0x02, 0x40]);
    // Off ties the nearest wins: 1.07 → 1.125 (0x39); 0.4·2^-9 → 0; 0.6·2^-9 → 2^-9.
    expect([1.07, 0.4 * 2 ** -9, 0.6 * 2 ** -9].map(f32ToE4m3)).toEqual([0x39, 0x00, 0x01]);
    // Above 448 saturates (PyTorch's cast would give NaN from 464 up): 460, 464 (the tie 448|480), 1e6, ∞.
    expect([460, 464, 1e6, Infinity, -Infinity].map(f32ToE4m3)).toEqual([0x7e, 0x7e, 0x7e, 0x7e, 0xfe]);
  });

  it("every finite byte's value encodes back to that byte; a value between two neighbours goes to the nearer", () => {
    for (let b = 0; b < 256; b++) {
      if ((b & 0x7f) === 0x7f || b === 0x80) continue; // NaN; −0 is checked above
      expect(f32ToE4m3(e4m3ToF32(b))).toBe(b);
    }
    // Between consecutive positive values v_b < v_{b+1}: a quarter of the gap above v_b → b, three quarters → b + 1.
    for (let b = 0; b < 0x7e; b++) {
      const lo = e4m3ToF32(b), hi = e4m3ToF32(b + 1);
      expect(f32ToE4m3(lo + (hi - lo) / 4)).toBe(b);
      expect(f32ToE4m3(lo + (3 * (hi - lo)) / 4)).toBe(b + 1);
    }
  });

  it("replicates 128×128 block scales for each row of their block (any row block)", () => {
    // rows 3, cols 200 (two column blocks), row blocks of 2: rows 0, 1 take scale row 0, row 2 scale row 1.
    expect(Array.from(fp8RowScales(Float32Array.from([1, 2, 3, 4]), 3, 200, 2))).toEqual([1, 2, 1, 2, 3, 4]);
  });
});

describe("GPTQ int4", () => {
  it("reads input k from nibble k%8 of qweight[k/8, n] and adds 1 to the stored zero", () => {
    // One output column block (8 outputs), 8 inputs, one group: qweight[0, n] = 0x76543210 → q(k) = k;
    // qzeros[0, 0] = 0x00000002: output 0's zero is 2 + 1 = 3, the others 0 + 1 = 1. scales 0.5.
    const qweight = new Int32Array(8).fill(0x76543210);
    const w = dequantizeGptq({ inFeatures: 8, outFeatures: 8, qweight, qzeros: Int32Array.from([2]), scales: new Float32Array(8).fill(0.5), gIdx: new Int32Array(8) });
    // W[n, k] = 0.5·(k − z_n): row 0 = 0.5·(k − 3), row 1 = 0.5·(k − 1)
    expect(Array.from(w.subarray(0, 8))).toEqual([-1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]);
    expect(Array.from(w.subarray(8, 16))).toEqual([-0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3]);
  });
  it("matches the integers of a packed act-order weight (g_idx not k/group_size)", () => {
    const r = rng(7), K = 32, N = 16, G = 2;
    const q = [...Array(K)].map(() => [...Array(N)].map(() => Math.floor(r() * 16)));
    const z = [...Array(G)].map(() => [...Array(N)].map(() => 1 + Math.floor(r() * 15)));
    const s = [...Array(G)].map(() => [...Array(N)].map(() => 0.25 + r()));
    const gIdx = Int32Array.from({ length: K }, (_, k) => (k * 7) % G);
    const { qweight, qzeros } = packGptq(q, z);
    const w = dequantizeGptq({ inFeatures: K, outFeatures: N, qweight, qzeros, scales: Float32Array.from(s.flat()), gIdx });
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(w[n * K + k]).toBeCloseTo(Math.fround(s[gIdx[k]!]![n]!) * (q[k]![n]! - z[gIdx[k]!]![n]!), 6);
  });
});

describe("AWQ int4", () => {
  it("unpacks nibbles in the order [0, 2, 4, 6, 1, 3, 5, 7], zeros without an offset", () => {
    // qweight[0, 0] = 0x76543210: nibble i = i holds column ORDER[i], so columns 0..7 get 0,4,1,5,2,6,3,7.
    const w = dequantizeAwq({ inFeatures: 1, outFeatures: 8, qweight: Int32Array.from([0x76543210]), qzeros: Int32Array.from([0]), scales: new Float32Array(8).fill(1), groupSize: 1 });
    expect(Array.from(w)).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
  });
  it("matches the integers of a packed grouped weight", () => {
    const r = rng(8), K = 16, N = 16, gs = 8, G = 2;
    const q = [...Array(K)].map(() => [...Array(N)].map(() => Math.floor(r() * 16)));
    const z = [...Array(G)].map(() => [...Array(N)].map(() => Math.floor(r() * 16)));
    const s = [...Array(G)].map(() => [...Array(N)].map(() => 0.25 + r()));
    const w = dequantizeAwq({ inFeatures: K, outFeatures: N, qweight: packAwq(q), qzeros: packAwq(z), scales: Float32Array.from(s.flat()), groupSize: gs });
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(w[n * K + k]).toBeCloseTo(Math.fround(s[Math.floor(k / gs)]![n]!) * (q[k]![n]! - z[Math.floor(k / gs)]![n]!), 6);
  });
});
