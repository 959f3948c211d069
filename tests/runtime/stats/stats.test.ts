// Routing statistics on the GPU against values derived by hand from LANGUAGE.md §10. The router
// weight is the identity (D = E), so each token's logits are its input row.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { statsFile } from "../../../runtime/stats/router-stats.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const identity = (E: number) => Float32Array.from({ length: E * E }, (_, i) => (i % (E + 1) === 0 ? 1 : 0));

async function statsOf(body: string, logits: number[][], extra: Record<string, Float32Array> = {}) {
  const E = logits[0]!.length;
  const c = compile({ source: `layer l(x: [T, D], D = ${E}, N = ${E}) {\n  experts E[N] = ffn(hidden = 2)\n${body}\n}` });
  expect(c.ok, c.formatDiagnostics()).toBe(true);
  const w = randomWeights(c.program!, 1);
  for (const k of w.keys()) if (/^r(\.\d+)?\.weight$/.test(k)) w.set(k, identity(E));
  for (const [k, v] of Object.entries(extra)) w.set(k, v);
  const exec = await createExecutor(ctx, c.program!, w, { stats: true });
  try {
    await exec.run(new Map([["x", Float32Array.from(logits.flat())]]), logits.length);
    return exec.lastStats!;
  } finally {
    exec.dispose();
  }
}

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const H = (p: number[]) => -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);

describeGpu("§10 statistics", () => {
  it("softmax |> topk(2) |> renorm: load, importance, active_k, entropy, maxvio, drop_rate, loss balance", async () => {
    const X = [
      [2, 1, 0, -1],
      [0, 3, 1, 0],
      [1, 0.5, 2.5, 0],
    ];
    const s = (await statsOf("  router r = linear |> softmax |> topk(2) |> renorm\n  loss balance(coef = 0.5)\n  report load, entropy\n  return moe(x, r, E)", X)).get("r")!;
    // Selections: {0,1}, {1,2}, {2,0}.
    expect(s.load).toEqual([2, 2, 2, 0]);
    const pair = (a: number, b: number) => [Math.exp(a) / (Math.exp(a) + Math.exp(b)), Math.exp(b) / (Math.exp(a) + Math.exp(b))];
    const imp = [pair(2, 1)[0]! + pair(2.5, 1)[1]!, pair(2, 1)[1]! + pair(3, 1)[0]!, pair(3, 1)[1]! + pair(2.5, 1)[0]!, 0];
    s.importance.forEach((v, e) => expect(v).toBeCloseTo(imp[e]!, 5));
    expect(s.active_k).toEqual({ mean: 2, histogram: [0, 0, 3] });
    // p = the softmax probabilities (the stream before selection is softmax(z), non-negative).
    const P = X.map(softmax);
    expect(s.entropy).toBeCloseTo(P.map(H).reduce((a, b) => a + b, 0) / 3, 5);
    expect(s.maxvio).toBeCloseTo((2 - 1.5) / 1.5, 6);
    expect(s.drop_rate).toBe(0);
    const f = [2, 2, 2, 0].map((l) => l / 6);
    const Pm = [0, 1, 2, 3].map((e) => (P[0]![e]! + P[1]![e]! + P[2]![e]!) / 3);
    expect(s.balance).toBeCloseTo(0.5 * 4 * f.reduce((a, v, e) => a + v * Pm[e]!, 0), 5);
    expect(s.report).toEqual(["load", "entropy"]);
  });

  it("threshold with dropped tokens; sigmoid stream (non-negative) is normalized, not softmaxed", async () => {
    const X = [
      [2, -3, -3],
      [-3, -3, -3],
      [1, 2, -3],
      [0, 0, 3],
    ];
    const s = (await statsOf("  router r = linear |> sigmoid |> threshold(0.7, max = 2)\n  return moe(x, r, E)", X)).get("r")!;
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    // Selections: {0}, {}, {1, 0}, {2} (σ(0) = 0.5 < 0.7).
    expect(s.load).toEqual([2, 1, 1]);
    expect(s.active_k).toEqual({ mean: 1, histogram: [1, 2, 1] });
    expect(s.drop_rate).toBe(0.25);
    expect(s.importance[0]).toBeCloseTo(sig(2) + sig(1), 5);
    const P = X.map((z) => {
      const q = z.map(sig);
      const t = q.reduce((a, b) => a + b, 0);
      return q.map((v) => v / t);
    });
    expect(s.entropy).toBeCloseTo(P.map(H).reduce((a, b) => a + b, 0) / 4, 5);
    expect(s.maxvio).toBeCloseTo((2 - 4 / 3) / (4 / 3), 6);
  });

  it("a raw linear stream (may be negative): p is its softmax", async () => {
    const X = [
      [1, -2, 0.5],
      [-1, 0, 2],
    ];
    const s = (await statsOf("  router r = linear |> topk(1)\n  return moe(x, r, E)", X)).get("r")!;
    expect(s.entropy).toBeCloseTo((H(softmax(X[0]!)) + H(softmax(X[1]!))) / 2, 5);
    expect(s.importance).toEqual([1, 0, 2]);
  });

  it("per iterate step: one entry per router instance (r.0, r.1), each with its own statistics", async () => {
    const X = [
      [3, 0, 0, 0],
      [0, 0, 0, 3],
    ];
    const stats = await statsOf("  iterate 2 {\n    router r = linear |> softmax |> topk(1)\n    x = x + moe(x, r, E)\n  }\n  return x", X);
    expect([...stats.keys()]).toEqual(["r.0", "r.1"]);
    expect(stats.get("r.0")!.load).toEqual([1, 0, 0, 1]);
    const file = statsFile("l", 2, stats);
    expect(Object.keys(file.routers)).toEqual(["r.0", "r.1"]);
    expect(JSON.parse(JSON.stringify(file)).routers["r.0"].active_k.histogram).toEqual([0, 2]);
  });

  it("expert choice: experts per token vary (0 … E), loads are the capacity", async () => {
    const X = [
      [3, 0, 0, 0],
      [2, 1, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0.5],
    ];
    // cap = max(1, min(4, ⌊1·4/4⌋)) = 1: each expert takes its best token.
    const s = (await statsOf("  router r = linear |> softmax |> choose(capacity = 1.0)\n  return moe(x, r, E)", X)).get("r")!;
    expect(s.load).toEqual([1, 1, 1, 1]);
    expect(s.maxvio).toBe(0);
    expect(s.active_k.histogram.reduce((a, b) => a + b, 0)).toBe(4);
    expect(s.active_k.mean).toBe(1);
  });
});
