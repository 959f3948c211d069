// FP8 E4M3 (e4m3fn) and DeepSeek's 128×128 block scales, GPTQ and AWQ int4 unpacking, against
// bytes and words written by hand here and a test-side packer that follows the AutoGPTQ/AutoAWQ
// pack loops directly.
import { describe, expect, it } from "vitest";
import { dequantizeAwq } from "../../../../runtime/weights/quant/awq.js";
import { dequantizeFp8Blocks, e4m3ToF32 } from "../../../../runtime/weights/quant/fp8-e4m3.js";
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
