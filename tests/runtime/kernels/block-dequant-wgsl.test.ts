// The shader's e4m3fn decode (block-dequant-wgsl.ts) against the byte's value from the format's
// definition (tests/helpers/quant-packers.ts e4m3, not the runtime's table), bit for bit, for all
// 256 bytes but the two NaNs: through the embedding gather (the scalar fp8_e4m3) and a linear
// layer's fused-dequantization GEMM (the vec4 decode of quant-gemv-loop.ts). The weights reach
// the store as FP8 rows (HostWeights.fp8Rows), so no encoder is involved; their f32 values are
// zeros, which would show if the store read them instead.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { HostWeights } from "../../../runtime/weights/host-weights.js";
import type { Fp8Rows } from "../../../runtime/weights/quant/fp8-e4m3.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { e4m3 } from "../../helpers/quant-packers.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

function program(source: string): IrProgram {
  const c = compile({ source });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

/** Weights whose f32 values are zeros but whose FP8 rows are given. */
class Fp8Weights extends Map<string, Float32Array> implements HostWeights {
  constructor(private readonly fp8: Map<string, Fp8Rows>) {
    super([...fp8].map(([name, w]) => [name, new Float32Array(w.rows * w.cols)]));
  }
  fp8Rows(name: string): Fp8Rows | undefined {
    return this.fp8.get(name);
  }
}

const NAN_BYTES = new Set([0x7f, 0xff]);
/** A [2, 128] matrix holding every byte once (row 0: 0x00…0x7f, row 1: 0x80…0xff; the NaNs as 0),
 *  row 0 scaled by 1 and row 1 by 2⁻³ (exact: a power of two). */
const BYTES = Uint8Array.from({ length: 256 }, (_, b) => (NAN_BYTES.has(b) ? 0 : b));
const SCALES = Float32Array.from([1, 0.125]);
const expected = (b: number): number => e4m3(b) * SCALES[b >> 7]!;

describeGpu("the e4m3fn decode in the shaders vs the format's definition, all 256 bytes", () => {
  itGpu("embedding gather (the scalar decode): every element is its byte's value times its row scale", async () => {
    const p = program(`model e(tokens: [T], V = 2, D = 128) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  return embed_tokens
}`);
    const w = new Fp8Weights(new Map([["embed_tokens.weight", { rows: 2, cols: 128, bytes: BYTES, rowScales: SCALES }]]));
    const exec = await createExecutor(gpu, p, w, { weightFormat: "fp8_e4m3" });
    try {
      const out = (await exec.run(new Map([["tokens", Int32Array.from([0, 1])]]), 2)).get(p.outputs[0]!.name)!;
      for (let b = 0; b < 256; b++) {
        if (NAN_BYTES.has(b)) continue;
        // toBe is Object.is: 0x80 must come back as −0.
        expect(out[b], `byte 0x${b.toString(16)}`).toBe(Math.fround(expected(b)));
      }
    } finally {
      exec.dispose();
    }
  }, 300_000);

  itGpu("linear layer over one-hot rows (the GEMM's vec4 decode): y[t, n] = W[n, t] exactly", async () => {
    const p = program(`layer l(x: [T, D], D = 128) {
  let proj = linear(x, out = 2)
  return proj
}`);
    const w = new Fp8Weights(new Map([["proj.weight", { rows: 2, cols: 128, bytes: BYTES, rowScales: SCALES }]]));
    const exec = await createExecutor(gpu, p, w, { weightFormat: "fp8_e4m3" });
    try {
      const T = 128;
      const x = new Float32Array(T * 128);
      for (let t = 0; t < T; t++) x[t * 128 + t] = 1;
      const y = (await exec.run(new Map([["x", x]]), T)).get(p.outputs[0]!.name)!;
      for (let b = 0; b < 256; b++) {
        if (NAN_BYTES.has(b)) continue;
        const n = b >> 7, t = b & 127;
        // A sum of one product and zeros: −0 comes back as +0, every other value exactly.
        expect(y[t * 2 + n], `byte 0x${b.toString(16)}`).toBe(Math.fround(expected(b)) + 0);
      }
    } finally {
      exec.dispose();
    }
  }, 300_000);
});
