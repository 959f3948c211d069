// `moec bench MODEL --decode`: decode steps against a streaming read. Bytes per token are checked
// against hand arithmetic for a tiny Mixtral; the step's command buffers, read-backs and
// dispatches against the executor's RunInfo and hand counts; nothing here is timed.
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { main } from "../../../cli/main.js";
import { itGpu } from "../../helpers/gpu-context.js";

const ROOT = path.resolve(__dirname, "../../..");

async function moec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const MIXTRAL = ["examples/models/mixtral_8x7b.moe", "--set", "V=48", "D=32", "L=2", "H=4", "KV=2", "N=4", "I=16"];
// Per layer: attention 32·32 + 2·(16·32) + 32·32, 2 norms of 32, router 32·4, top-2 of 4 SwiGLU
// experts 2·3·32·16; then one embedding row (32), the final norm (32) and lm_head 48·32.
const WEIGHT_PARAMS = 2 * (3072 + 64 + 128 + 3072) + 32 + 32 + 48 * 32;
// KV per position read: 2 layers × 2·KV·head_dim = 2 × 2·2·8 elements.
const KV_ELEMENTS = 2 * 2 * 2 * 8;

interface Json {
  batch: number; params: number; steps: number; positions: [number, number]; promptTokens: number;
  bytesPerStep: { weights: number; weightParams: number; kv: number; total: number; bound?: string };
  decode: { msPerStep: number; minMsPerStep: number; hostMsPerStep: number; hostShare: number; submitCallMs: number; tokensPerSec: number; bytesPerStep: number; bytesPerToken: number; bytesPerSec: number; dispatches: number; commandBuffers: number; readbacks: number; submits: number };
  stream: { bytes: number; buffers: number; msPerRun: number; minMsPerRun: number; bytesPerSec: number };
  ratio: number; dispatchesPerLayer: number; dispatchesPerOp: { op: number; kind: string; dispatches: number }[];
}

describe("moec bench --decode", () => {
  itGpu("--json: every field, bytes per token by hand, 1 command buffer and 1 read-back per step", async () => {
    for (const kv of ["f32", "f16"] as const) {
      const r = await moec(["bench", ...MIXTRAL, "--decode", "--context", "24", "--tokens", "6", "--kv-dtype", kv, "--json"]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as Json;
      // Prompt of 24 − 6 − 2 = 16 tokens, 2 warm-up steps at 16 and 17, timed steps at 18…23.
      expect(j).toMatchObject({ batch: 1, params: 21920, steps: 6, promptTokens: 16, positions: [18, 23] });
      // A step at position p reads p + 1 positions; mean over 18…23 is 21.5.
      const kvBytes = 21.5 * KV_ELEMENTS * (kv === "f16" ? 2 : 4);
      expect(j.bytesPerStep).toEqual({ weights: WEIGHT_PARAMS * 4, weightParams: WEIGHT_PARAMS, kv: kvBytes, total: WEIGHT_PARAMS * 4 + kvBytes });
      const d = j.decode;
      expect(d.bytesPerStep).toBe(j.bytesPerStep.total);
      expect(d.bytesPerToken).toBe(j.bytesPerStep.total);
      for (const x of [d.msPerStep, d.minMsPerStep, d.hostMsPerStep, d.submitCallMs, d.tokensPerSec, d.bytesPerSec]) expect(x).toBeGreaterThan(0);
      // Host time is a part of the step (start → the submit call), so its share is below 1.
      expect(d.hostShare).toBeGreaterThan(0);
      expect(d.hostShare).toBeLessThan(1);
      expect(d.tokensPerSec).toBeCloseTo(1000 / d.msPerStep, 6);
      expect(d.bytesPerSec).toBeCloseTo(d.bytesPerStep / (d.msPerStep / 1000), 0);
      expect({ commandBuffers: d.commandBuffers, readbacks: d.readbacks, submits: d.submits }).toEqual({ commandBuffers: 1, readbacks: 1, submits: 1 });
      // embed 1 + layers (norm 1 + attention 6 + add+norm 1 + moe 3 — router, fine_dot,
      // fine_axpy: the token-centric path of decode plans — + add+norm 1, the second layer's first
      // norm fused into the add before it) + lm_head 1 + sampler 1.
      expect(d.dispatches).toBe(1 + 12 + 11 + 1 + 1);
      expect(j.dispatchesPerLayer).toBe(11);
      expect(j.dispatchesPerOp.find((o) => o.op === -1)).toMatchObject({ kind: "sample", dispatches: 1 });
      // The read covers the largest step's bytes (position 23 reads 24 positions), in vec4 words.
      expect(j.stream.bytes).toBe(Math.ceil((WEIGHT_PARAMS * 4 + 24 * KV_ELEMENTS * (kv === "f16" ? 2 : 4)) / 16) * 16);
      expect(j.stream.buffers).toBe(1);
      for (const x of [j.stream.msPerRun, j.stream.minMsPerRun, j.stream.bytesPerSec]) expect(x).toBeGreaterThan(0);
      expect(j.ratio).toBeCloseTo(d.bytesPerSec / j.stream.bytesPerSec, 10);
    }
  });

  itGpu("prints every field as text", async () => {
    const r = await moec(["bench", ...MIXTRAL, "--decode", "--context", "12", "--tokens", "3", "--warmup", "1"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    for (const field of [
      "decode at positions 9…11 (context 12), batch 1, f32 weights, f32 KV cache",
      "21,920 parameters, 14,272 read per step; bytes per step",
      "ms/step", "tokens/s", "host ", "% of a step; submit ", "GB/s", "26 dispatches", "1 cmd buf  1 read-back",
      "stream read", "decode / stream bandwidth = ", "dispatches per decoder layer: 11 (", "prefill of 8 tokens",
    ]) {
      expect(r.out).toContain(field);
    }
  });

  itGpu("--batch 2: two sequences per step, bytes per step by hand (experts at most twice their active share), one command buffer", async () => {
    const r = await moec(["bench", ...MIXTRAL, "--decode", "--context", "16", "--tokens", "4", "--batch", "2", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Json;
    expect(j).toMatchObject({ batch: 2, steps: 4, promptTokens: 10, positions: [12, 15] });
    // Two rows read the dense weights once and at most all 4 experts per layer (2 × top-2 of 4):
    // + 2 layers × (4 − 2) experts × 3·32·16; the KV of both rows, mean position read 14.5.
    const weightParams = WEIGHT_PARAMS + 2 * 2 * 3 * 32 * 16;
    const kv = 2 * 14.5 * KV_ELEMENTS * 4;
    expect(j.bytesPerStep).toEqual({ weights: weightParams * 4, weightParams, kv, total: weightParams * 4 + kv, bound: "upper: the rows' experts counted as distinct" });
    const d = j.decode;
    expect(d.bytesPerToken).toBe(j.bytesPerStep.total / 2);
    expect(d.tokensPerSec).toBeCloseTo(2000 / d.msPerStep, 6);
    expect({ commandBuffers: d.commandBuffers, readbacks: d.readbacks, submits: d.submits }).toEqual({ commandBuffers: 1, readbacks: 1, submits: 1 });
    expect(d.dispatches).toBe(1 + 12 + 11 + 1 + 1);
    const text = await moec(["bench", ...MIXTRAL, "--decode", "--context", "12", "--tokens", "2", "--batch", "3"]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain("(context 12), batch 3, f32 weights");
    expect(text.out).toContain("read per step (at most: 3 rows' experts counted as distinct)");
  });

  it("--batch is refused for MLA models, naming why", async () => {
    const r = await moec(["bench", "examples/models/deepseek_v3.moe", "--set", "V=40", "D=32", "L=2", "DENSE=1", "H=2", "QR=8", "KVR=8", "NOPE=4", "ROPE=4", "VD=4", "DI=24", "N=16", "I=8", "--decode", "--batch", "2"]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain("--batch 2: `deepseek_v3` has MLA attention, which has no batched decode form yet; use --batch 1");
  });

  it("usage errors: a context too small for the steps, decode flags without --decode, a layer, --iterations", async () => {
    const small = await moec(["bench", ...MIXTRAL, "--decode", "--context", "8", "--tokens", "6"]);
    expect(small.code).toBe(2);
    expect(small.err).toContain("--context 8 leaves no prompt before 2 warm-up and 6 timed steps (--warmup, --tokens); give a context above 8");
    const noDecode = await moec(["bench", ...MIXTRAL, "--tokens", "4", "--context", "64"]);
    expect(noDecode.code).toBe(2);
    expect(noDecode.err).toContain("--context applies to --decode");
    const layer = await moec(["bench", "examples/mixtral.moe", "--set", "D=16", "I=8", "--decode"]);
    expect(layer.code).toBe(2);
    expect(layer.err).toContain("--decode applies to a model; `mixtral_moe` is a layer or graph");
    const it = await moec(["bench", ...MIXTRAL, "--decode", "--iterations", "3"]);
    expect(it.code).toBe(2);
    expect(it.err).toContain("--iterations applies to a prefill");
    const kv = await moec(["bench", ...MIXTRAL, "--decode", "--kv-dtype", "bf16"]);
    expect(kv.code).toBe(2);
    expect(kv.err).toContain("--kv-dtype takes f32 or f16, found `bf16`");
  });
});
