// `moec bench MODEL`: a model's prefill against moec's dense GEMM of about equal FLOPs. The
// dispatches per decoder layer are the hand counts of tests/runtime/executor/gpu-model-blocks.test.ts;
// the FLOPs are checked against hand arithmetic (the LM head's skipped rows, the GEMM's size);
// nothing here is timed.
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
const DSMOE = ["examples/models/deepseek_moe_16b.moe", "--set", "V=48", "D=32", "L=3", "H=4", "DI=24", "N=8", "I=8", "SI=8"];
const RUNS = ["--iterations", "2", "--warmup", "1"];

interface Side { msPerRun: number; minMsPerRun: number; gflops: number; flopsPerRun: number; dispatches: number; commandBuffers: number; readbacks: number }

describe("moec bench on a model", () => {
  itGpu("--json: tokens/s, GFLOP/s, the ratio to the dense GEMM, one command buffer and one read-back, dispatches per layer", async () => {
    const T = 11;
    for (const [args, perLayer] of [[MIXTRAL, 4 + 1 + 5 + 1], [DSMOE, 4 + 1 + 5 + 2 + 1 + 1]] as const) {
      const r = await moec(["bench", ...args, "--tokens", String(T), ...RUNS, "--json"]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as {
        tokens: number; params: number; largestTensor: { bytes: number }; flops: { total: number };
        model: Side & { tokensPerSec: number }; gemm: Side & { rows: number; dim: number; count: number };
        ratio: number; minRatio: number; dispatchesPerLayer: number; layers: { layer: string; dispatches: number }[]; peakRssBytes: number;
      };
      expect(j.tokens).toBe(T);
      for (const side of [j.model, j.gemm]) {
        for (const x of [side.msPerRun, side.minMsPerRun, side.gflops]) expect(x).toBeGreaterThan(0);
        expect(side.commandBuffers).toBe(1);
        expect(side.readbacks).toBe(1);
      }
      expect(j.model.tokensPerSec).toBeGreaterThan(0);
      expect(j.model.flopsPerRun).toBe(j.flops.total);
      // The GEMM chain: count × 2·T·D² FLOPs, within half a GEMM of the model's.
      expect(j.gemm).toMatchObject({ rows: T, dim: 32, flopsPerRun: j.gemm.count * 2 * T * 32 * 32, dispatches: j.gemm.count });
      expect(Math.abs(j.gemm.flopsPerRun - j.flops.total)).toBeLessThanOrEqual(T * 32 * 32);
      expect(j.ratio).toBeCloseTo(j.model.gflops / j.gemm.gflops, 10);
      expect(j.minRatio).toBeGreaterThan(0);
      expect(j.dispatchesPerLayer).toBe(perLayer);
      expect(j.layers.find((l) => l.layer === "layers.1")!.dispatches).toBe(perLayer);
      expect(j.peakRssBytes).toBeGreaterThan(0);
      expect(j.largestTensor.bytes).toBeGreaterThan(0);
    }
  });

  itGpu("prints the fields as text; --last-logits leaves out the head's other T − 1 rows", async () => {
    const r = await moec(["bench", ...MIXTRAL, "--tokens", "5", ...RUNS]);
    expect(r.code).toBe(0);
    for (const field of ["prefill of 5 tokens", "tokens/s", "GFLOP/s", "GFLOP per forward", "1 cmd buf  1 read-back", "model / dense GEMM = ", "dispatches per decoder layer: 11 (", "peak resident memory"]) {
      expect(r.out).toContain(field);
    }
    const last = JSON.parse((await moec(["bench", ...MIXTRAL, "--tokens", "5", ...RUNS, "--last-logits", "--json"])).out) as { lastLogits: boolean; flops: { lmHeadSkipped: number } };
    // lm_head [V = 48, D = 32]: 2·48·32 FLOPs per row, 4 rows skipped.
    expect(last).toMatchObject({ lastLogits: true, flops: { lmHeadSkipped: 4 * 2 * 48 * 32 } });
  });

  it("--last-logits on a layer is a usage error", async () => {
    const r = await moec(["bench", "examples/mixtral.moe", "--tokens", "2", "--set", "D=16", "I=8", "--last-logits"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--last-logits applies to a model; `");
  });
});
