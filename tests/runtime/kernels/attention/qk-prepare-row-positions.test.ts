// qk_prepare with per-row positions (batched decoding): row t rotates at pos[t] from a u32
// buffer, not pos0 + t. Against rotary by hand in float64: rotate_half and interleaved pairs,
// rows at positions 5, 0, 17 (out of order, so pos0 + t could not produce them).
import { afterAll, expect } from "vitest";
import { createBuffer, STORAGE_USAGE, uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import { qkPrepareKernel, qkPrepareParams } from "../../../../runtime/kernels/attention/qk-prepare.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { rng } from "../../../helpers/random.js";
import { dispatch, readFloats } from "./kernel-harness.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

const POSITIONS = [5, 0, 17];
const HQ = 2, HK = 1, HD = 8;
const LD = (HQ + HK) * HD;
const invFreq = Float32Array.from({ length: HD / 2 }, (_, i) => 10000 ** (-(2 * i) / HD));

/** Rotary by hand: each head's pairs (i, i + hd/2) or (2i, 2i + 1) turned by pos · invFreq[i]. */
function rotated(x: Float32Array, kind: "half" | "interleaved"): Float64Array {
  const out = Float64Array.from(x);
  POSITIONS.forEach((pos, t) => {
    for (let h = 0; h < HQ + HK; h++) {
      const base = t * LD + h * HD;
      for (let i = 0; i < HD / 2; i++) {
        const [a, b] = kind === "half" ? [i, i + HD / 2] : [2 * i, 2 * i + 1];
        const ang = pos * invFreq[i]!;
        const x1 = x[base + a]!, x2 = x[base + b]!;
        out[base + a] = x1 * Math.cos(ang) - x2 * Math.sin(ang);
        out[base + b] = x2 * Math.cos(ang) + x1 * Math.sin(ang);
      }
    }
  });
  return out;
}

describeGpu("qk_prepare with per-row positions", () => {
  for (const kind of ["half", "interleaved"] as const) {
    itGpu(`${kind}: row t rotates at its own position pos[t]`, async () => {
      const { device } = gpu;
      const B = POSITIONS.length;
      const r = rng(kind === "half" ? 3 : 4);
      const x = Float32Array.from({ length: B * LD }, () => r() * 2 - 1);
      const run = uniformBuffer(device, [B, 0, 0, 0], "test.run");
      const qk = createBuffer(device, x.byteLength, STORAGE_USAGE(), "test.qk");
      device.queue.writeBuffer(qk, 0, x);
      const pos = createBuffer(device, B * 4, STORAGE_USAGE(), "test.pos");
      device.queue.writeBuffer(pos, 0, Uint32Array.from(POSITIONS));
      const inv = createBuffer(device, invFreq.byteLength, STORAGE_USAGE(), "test.inv_freq");
      device.queue.writeBuffer(inv, 0, invFreq);
      const unusedNorm = createBuffer(device, 16, STORAGE_USAGE(), "test.norm");
      try {
        const k = qkPrepareKernel("f32", { rowPositions: true });
        const params = qkPrepareParams({ ld: LD, qOff: 0, kOff: HQ * HD, hq: HQ, hk: HK, hdq: HD, hdk: HD, qRopeOff: 0, kRopeOff: 0, ropeDim: HD, rope: kind, norm: "none", eps: 1e-6, cosSinScale: 1 });
        await dispatch(gpu, k, k.params(params), { qk, q_w: unusedNorm, k_w: unusedNorm, inv_freq: inv, pos }, run, B);
        const got = await readFloats(gpu, qk, B * LD);
        const want = rotated(x, kind);
        for (let i = 0; i < B * LD; i++) expect(Math.abs(got[i]! - want[i]!), `row ${Math.floor(i / LD)} element ${i % LD}`).toBeLessThan(1e-5);
      } finally {
        for (const b of [run, qk, pos, inv, unusedNorm]) b.destroy();
      }
    }, 120_000);
  }
});
