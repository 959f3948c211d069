// The ggml block decoders against blocks packed by hand in this file (bytes written out, values
// derived by hand from ggml-common.h's layouts), and each encoder's round trip within the
// format's documented error bound.
import { describe, expect, it } from "vitest";
import { decodeQ4_0, encodeQ4_0 } from "../../../../runtime/weights/quant/q4_0.js";
import { decodeQ4K, encodeQ4K } from "../../../../runtime/weights/quant/q4_k.js";
import { decodeQ5K } from "../../../../runtime/weights/quant/q5_k.js";
import { decodeQ6K } from "../../../../runtime/weights/quant/q6_k.js";
import { decodeQ8_0, encodeQ8_0 } from "../../../../runtime/weights/quant/q8_0.js";
import { normals, rng } from "../../../helpers/random.js";

// f16 bit patterns: 1.0 = 0x3c00, 0.5 = 0x3800, 0.25 = 0x3400, 2.0 = 0x4000.
const F16_1 = [0x00, 0x3c], F16_HALF = [0x00, 0x38], F16_QUARTER = [0x00, 0x34], F16_2 = [0x00, 0x40];

/** Q4_K/Q5_K scale bytes for scales 1,2,3,4,17,18,19,20 and mins 0,2,4,6,33,33,33,33:
 *  bytes 0–3 = scale_j | (scale_{j+4} >> 4) << 6 = 1|64, 2|64, 3|64, 4|64;
 *  bytes 4–7 = min_j | (min_{j+4} >> 4) << 6 = 0|128, 2|128, 4|128, 6|128;
 *  bytes 8–11 = (scale_{j+4} & 15) | (min_{j+4} & 15) << 4 = 0x11, 0x12, 0x13, 0x14. */
const K_SCALES = [65, 66, 67, 68, 128, 130, 132, 134, 0x11, 0x12, 0x13, 0x14];

describe("Q8_0", () => {
  it("decodes a hand-packed block: q·d", () => {
    const block = new Uint8Array(34);
    block.set(F16_HALF, 0);
    block.set([1, 0xfe /* -2 */, 127, 0x80 /* -128 */], 2);
    const v = decodeQ8_0(block, 32);
    expect(Array.from(v.subarray(0, 5))).toEqual([0.5, -1, 63.5, -64, 0]);
  });
  it("round-trips within d/2 = max|x|/254 per block", () => {
    const x = normals(rng(1), 32 * 8);
    const y = decodeQ8_0(encodeQ8_0(x), x.length);
    for (let b = 0; b < 8; b++) {
      const blk = x.subarray(32 * b, 32 * b + 32);
      const amax = Math.max(...Array.from(blk, Math.abs));
      for (let i = 0; i < 32; i++) expect(Math.abs(y[32 * b + i]! - blk[i]!)).toBeLessThanOrEqual((amax / 254) * 1.001 + 1e-7);
    }
  });
});

describe("Q4_0", () => {
  it("decodes low nibbles as elements 0–15 and high nibbles as 16–31: (q − 8)·d", () => {
    const block = new Uint8Array(18).fill(0x88);
    block.set(F16_2, 0);
    block[2] = 0x9f; // element 0: (15 − 8)·2 = 14; element 16: (9 − 8)·2 = 2
    block[3] = 0x08; // element 1: 0; element 17: (0 − 8)·2 = −16
    const v = decodeQ4_0(block, 32);
    expect([v[0], v[1], v[2], v[16], v[17], v[31]]).toEqual([14, 0, 0, 2, -16, 0]);
  });
  it("round-trips within |d| = max|x|/8 (|d|/2 on the side of the largest value)", () => {
    const x = normals(rng(2), 32 * 8);
    const y = decodeQ4_0(encodeQ4_0(x), x.length);
    for (let b = 0; b < 8; b++) {
      const blk = x.subarray(32 * b, 32 * b + 32);
      const amax = Math.max(...Array.from(blk, Math.abs));
      for (let i = 0; i < 32; i++) expect(Math.abs(y[32 * b + i]! - blk[i]!)).toBeLessThanOrEqual((amax / 8) * 1.001);
    }
  });
});

describe("Q4_K", () => {
  // Layout: d, dmin, 12 scale bytes, 128 bytes of nibbles.
  const block = new Uint8Array(144);
  block.set(F16_1, 0);
  block.set(F16_HALF, 2);
  block.set(K_SCALES, 4);
  block.fill(0x53, 16); // low nibble 3, high nibble 5
  for (let l = 0; l < 32; l++) block[16 + l] = (l & 15) | ((15 - (l & 15)) << 4);
  const v = decodeQ4K(block, 256);
  it("decodes the 6-bit scales and mins: d·sc·q − dmin·m", () => {
    // sub-blocks 2..7 (qs 0x53): 3·3 − 2 = 7, 4·5 − 3 = 17, 17·3 − 16.5 = 34.5, 18·5 − 16.5 = 73.5, 19·3 − 16.5 = 40.5, 20·5 − 16.5 = 83.5
    expect([v[64], v[95], v[96], v[128], v[160], v[192], v[255]]).toEqual([7, 7, 17, 34.5, 73.5, 40.5, 83.5]);
  });
  it("puts sub-block 2i in the low nibbles and 2i+1 in the high nibbles of the same 32 bytes", () => {
    // element l < 32: 1·1·(l & 15) − 0; element 32 + l: 1·2·(15 − (l & 15)) − 0.5·2
    expect([v[0], v[5], v[17], v[31]]).toEqual([0, 5, 1, 15]);
    expect([v[32], v[37], v[63]]).toEqual([29, 19, -1]);
  });
  it("round-trips within the sub-block's step/2 plus the 6-bit rounding of scales and mins", () => {
    const x = normals(rng(3), 256 * 4);
    for (let i = 0; i < 64; i++) x[i] = x[i]! * 0.01; // one quiet sub-block beside loud ones
    const y = decodeQ4K(encodeQ4K(x), x.length);
    for (let b = 0; b < 4; b++) {
      const sub = (j: number) => Array.from(x.subarray(256 * b + 32 * j, 256 * b + 32 * j + 32));
      const ranges = [...Array(8).keys()].map((j) => Math.max(...sub(j)) - Math.min(0, ...sub(j)));
      const offsets = [...Array(8).keys()].map((j) => -Math.min(0, ...sub(j)));
      const rmax = Math.max(...ranges), mmax = Math.max(...offsets);
      for (let j = 0; j < 8; j++) {
        const bound = ranges[j]! / 30 + rmax / 1500 + mmax / 100;
        for (let l = 0; l < 32; l++) {
          const i = 256 * b + 32 * j + l;
          expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(bound);
        }
      }
    }
  });
});

describe("Q5_K", () => {
  it("adds qh's bit 2i (low nibbles) or 2i+1 (high nibbles) as 16", () => {
    // Layout: d, dmin, 12 scale bytes, qh[32], qs[128].
    const block = new Uint8Array(176);
    block.set(F16_1, 0);
    block.set(F16_HALF, 2);
    block.set(K_SCALES, 4);
    block.fill(0x01, 16, 48); // bit 0 of every qh byte: sub-block 0 gets +16
    block[16] = 0x81; // qh[0] bit 7: sub-block 7 (64·3 + 32 + 0 = element 224) gets +16
    block[48] = 0x02; // qs[0] low nibble 2: element 0
    const v = decodeQ5K(block, 256);
    // element 0: 1·1·(2 + 16) = 18; element 1: 1·1·16 = 16; element 32 (sub-block 1): 2·0 − 0.5·2 = −1;
    // element 64 (sub-block 2): −0.5·4 = −2; element 224: 20·16 − 16.5 = 303.5; element 225: −16.5
    expect([v[0], v[1], v[32], v[64], v[224], v[225]]).toEqual([18, 16, -1, -2, 303.5, -16.5]);
  });
});

describe("Q6_K", () => {
  it("decodes ql/qh/scales as ggml's dequantize_row_q6_K arranges them", () => {
    // Layout: ql[128], qh[64], scales[16] int8, d. Scales 1..8, then −1..−8; d = 0.25.
    const block = new Uint8Array(210);
    block.set([1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8], 192);
    block.set(F16_QUARTER, 208);
    block[0] = 0x21; // ql[0]: low 1 (element 0), high 2 (element 64)
    block[32] = 0x00; // ql[32]: elements 32 and 96
    block[128] = 0xe4; // qh[0] = 11 10 01 00: element 0 +0, element 32 +16, element 64 +32, element 96 +48
    const v = decodeQ6K(block, 256);
    // element 0: 0.25·sc0·(1 − 32) = −7.75; 32: 0.25·sc2·(16 − 32) = −12; 64: 0.25·sc4·(34 − 32) = 2.5;
    // 96: 0.25·sc6·(48 − 32) = 28; 16 (is = 1): 0.25·sc1·(−32) = −16;
    // 176 (second half, quarter 1, is 1: sc[8 + 1 + 2] = −4): 0.25·(−4)·(−32) = 32; 255: sc[8+1+6] = −8 → 64
    expect([v[0], v[32], v[64], v[96], v[16], v[176], v[255]]).toEqual([-7.75, -12, 2.5, 28, -16, 32, 64]);
  });
});
