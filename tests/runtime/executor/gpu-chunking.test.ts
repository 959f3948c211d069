// Adapter limits respected by splitting, never by failing (issue 3, item 2):
// - token chunking: activations above the binding limit (forced small with `maxActivationBytes`)
//   run as token chunks in ONE command buffer with ONE read-back; chunked results equal the
//   unchunked ones bitwise (every op is per token) when both plans take the same GEMM loop — a
//   chunk of ≤ GEMV_MAX_ROWS tokens runs its dense products on the few-row loop, whose sums are
//   ordered differently, so those agree to float rounding — and match the float64 reference;
// - router GEMM matrices above the weight binding limit (forced small with `maxBindingBytes`) run
//   as one gate dispatch per expert range, vs the reference;
// - what cannot be chunked (expert choice, run-level state updates) is a named error giving the
//   largest T that fits.
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { ActivationTooLargeError } from "../../../runtime/executor/build-context.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { chunkSize, largestFitting, splitTokens, sumRawStats, TokenChunkError } from "../../../runtime/executor/token-chunks.js";
import type { Executor, ExecutorOptions } from "../../../runtime/executor/types.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { GEMV_MAX_ROWS } from "../../../runtime/kernels/gemm/gemv-loop.js";
import { createRuntime } from "../../../runtime/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { moeProgram, pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";
import { compare, expectClose } from "../../helpers/numerics.js";
import { normals, randomWeights as builderWeights, rng } from "../../helpers/random.js";
import { randomWeights as canonicalWeights } from "../../../runtime/weights/random-weights.js";

/** N(0, 1/fan_in) weights in the canonical layout (compiled and hand-built programs alike). */
const randomWeights = (program: IrProgram, seed: number): Map<string, Float32Array> =>
  program.entry === "test" ? builderWeights(program, seed) : canonicalWeights(program, seed);

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

function compiled(source: string, set: Record<string, number> = {}): IrProgram {
  const c = compile({ source, set });
  expect(c.ok, c.formatDiagnostics()).toBe(true);
  return c.program!;
}

/** Mixtral-style: SwiGLU experts, softmax → top-2 → renorm. */
const MIXTRAL = `layer mixtral_moe(x: [T, D], D = 16, N = 8, I = 32) {
  experts E[N] = ffn(hidden = I, act = swiglu)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}`;

/** Qwen-style: a shared expert scaled by a sigmoid gate `linear(x, out = 1)` ([T, 1] broadcast), plus elementwise ops. */
const QWEN = `layer qwen_moe(x: [T, D], D = 16, N = 8, I = 16, SI = 24) {
  shared S[2] = ffn(hidden = SI)
  experts E[N] = ffn(hidden = I, act = gelu)
  router r = linear |> softmax |> topk(3)
  let g = linear(x, out = 1)
  return x + moe(x, r, E) + sigmoid(g) * S(x) * 0.5
}`;

interface Checked {
  out: Map<string, Float32Array>;
  routing: Executor["lastRouting"];
  info: NonNullable<Executor["lastRunInfo"]>;
}

/** Runs `exec` and checks every output against the float64 reference on the GPU's own selection. */
async function runChecked(
  exec: Executor,
  program: IrProgram,
  weights: Map<string, Float32Array>,
  x: Float32Array,
  T: number,
  tol = { atol: 2e-4, rtol: 1e-4 },
): Promise<Checked> {
  const inputs = new Map([["x", x]]);
  const out = await exec.run(inputs, T, { returnRouting: true });
  const routing = exec.lastRouting!;
  const forced = new Map<string, number[][]>();
  for (const [key, r] of routing) {
    forced.set(key, Array.from({ length: T }, (_, t) => Array.from(r.ids.subarray(t * r.maxPerToken, t * r.maxPerToken + r.counts[t]!))));
  }
  const ref = interpretReference(program, weights, inputs, T, { forcedSelection: forced });
  for (const o of program.outputs) {
    const err = compare(out.get(o.name)!, ref.get(o.name)!, tol.rtol);
    expect(err.excess, `${o.name} at T = ${T}: ${JSON.stringify(err)}`).toBeLessThanOrEqual(tol.atol);
  }
  return { out, routing, info: exec.lastRunInfo! };
}

/** Chunked and unchunked executors of one program: same routing bit for bit, same outputs bit for
 *  bit (or to rounding where only the chunks take the few-row GEMM loop). */
async function chunkedVsWhole(program: IrProgram, weights: Map<string, Float32Array>, Ts: number[], chunked: ExecutorOptions, common: ExecutorOptions = {}) {
  const D = program.values.find((v) => v.id === program.inputs[0]!.value)!.width;
  const whole = await createExecutor(ctx, program, weights, common);
  const split = await createExecutor(ctx, program, weights, { ...common, ...chunked });
  const infos: Checked["info"][] = [];
  try {
    for (const T of Ts) {
      const x = normals(rng(100 + T), T * D);
      const tol = common.dtype === "f16" ? { atol: 4e-3, rtol: 2e-3 } : { atol: 2e-4, rtol: 1e-4 };
      const a = await runChecked(split, program, weights, x, T, tol);
      const b = await runChecked(whole, program, weights, x, T, tol);
      expect(b.info.chunks, `T = ${T} unchunked`).toBeUndefined();
      const fewRowChunks = a.info.chunks !== undefined && a.info.chunks.tokens <= GEMV_MAX_ROWS && T > GEMV_MAX_ROWS;
      for (const o of program.outputs) {
        if (fewRowChunks) expectClose(a.out.get(o.name)!, b.out.get(o.name)!, 1e-5, 1e-5, `${o.name}, T = ${T}`);
        else expect(a.out.get(o.name), `${o.name}, T = ${T}`).toEqual(b.out.get(o.name));
      }
      for (const [key, r] of b.routing!) {
        const s = a.routing!.get(key)!;
        expect(s.counts).toEqual(r.counts);
        for (let t = 0; t < T; t++) {
          const n = r.counts[t]!;
          const k = r.maxPerToken;
          expect(Array.from(s.ids.subarray(t * k, t * k + n))).toEqual(Array.from(r.ids.subarray(t * k, t * k + n)));
          expect(Array.from(s.weights.subarray(t * k, t * k + n))).toEqual(Array.from(r.weights.subarray(t * k, t * k + n)));
        }
      }
      // One command buffer and one read-back whatever the number of chunks.
      expect(a.info.commandBuffers).toBe(1);
      expect(a.info.readbacks).toBe(1);
      infos.push(a.info);
    }
  } finally {
    whole.dispose();
    split.dispose();
  }
  return infos;
}

describeGpu("token chunking (activations above the binding limit)", () => {
  it("Mixtral layer: T = 1, T a multiple of the chunk, T not a multiple; chunked = unchunked bit for bit, = reference", async () => {
    const program = compiled(MIXTRAL);
    const weights = randomWeights(program, 1);
    // h [tiles·16, I] is the largest buffer: (⌈2C/16⌉ + min(8, 2C))·16·32·4 bytes ≤ 18 KiB → C = 8.
    const infos = await chunkedVsWhole(program, weights, [1, 8, 37, 100, 3], { maxActivationBytes: 18432 });
    const byT = new Map(infos.map((i) => [i.tokens, i]));
    expect(byT.get(1)!.chunks).toBeUndefined();
    expect(byT.get(8)!.chunks).toBeUndefined();
    expect(byT.get(37)!.chunks).toEqual({ count: 5, tokens: 8 });
    expect(byT.get(100)!.chunks).toEqual({ count: 13, tokens: 8 });
    // 5 dispatches per chunk, all in the one command buffer.
    expect(byT.get(37)!.dispatchesPerOp.map((o) => [o.kind, o.dispatches])).toEqual([["moe", 25]]);
  });

  it("shared experts, gate `linear(x, out = 1)`, broadcasting and scalar ops (Qwen-style), f32", async () => {
    const program = compiled(QWEN);
    const weights = randomWeights(program, 2);
    // Routed h: (⌈3C/16⌉ + min(8, 3C))·16·16·4 bytes ≤ 9 KiB → C = 5.
    const infos = await chunkedVsWhole(program, weights, [1, 29, 64], { maxActivationBytes: 9216 });
    expect(infos[0]!.chunks).toBeUndefined();
    for (const i of infos.slice(1)) expect(i.chunks!.count).toBeGreaterThan(1);
    expect(infos[1]!.chunks).toEqual({ count: 6, tokens: 5 });
    // Every op runs once per chunk: 13 chunks of 5 tokens for T = 64.
    expect(infos[2]!.dispatchesPerOp.map((o) => [o.kind, o.dispatches])).toEqual([
      ["linear", 13], ["moe", 65], ["binary", 13], ["unary", 13], ["shared", 26], ["binary", 13], ["scalar", 13], ["binary", 13],
    ]);
  });

  it("f16 storage with odd widths: even chunks, 2-byte-padded copies, same result as unchunked", async () => {
    const b = new ProgramBuilder();
    const x = b.input("x", 15);
    const g = b.linear(x, "g", 1, true);
    const m = b.moe(x, router({ numExperts: 6, dim: 15, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") }), pool({ count: 6, dim: 15, hidden: 8, act: "geglu" }));
    const program = b.output("y", b.binary("add", x, b.binary("mul", b.unary("sigmoid", g), m))).output("g", g).build();
    const weights = randomWeights(program, 3);
    // At 1600 bytes the plan fits 3 tokens; rows of 15 f16 values make chunks even: 2.
    const infos = await chunkedVsWhole(program, weights, [1, 21, 33], { maxActivationBytes: 1600 }, { dtype: "f16" });
    expect(infos[1]!.chunks).toEqual({ count: 11, tokens: 2 });
    expect(infos[2]!.chunks).toEqual({ count: 17, tokens: 2 });
  });

  it("one executor across growing and shrinking T reuses its chunk-sized plan", async () => {
    const program = moeProgram({ D: 16, E: 8, I: 32, stages: stages("linear", "sigmoid", ["topk", { k: 2 }]) });
    const weights = randomWeights(program, 4);
    const exec = await createExecutor(ctx, program, weights, { maxActivationBytes: 18432 });
    try {
      for (const T of [50, 2, 8, 9, 200, 1]) {
        const r = await runChecked(exec, program, weights, normals(rng(T), T * 16), T);
        expect(r.info.chunks?.count ?? 1).toBe(Math.ceil(T / 8));
      }
    } finally {
      exec.dispose();
    }
  });

  it("routing statistics are summed over the chunks (= unchunked)", async () => {
    const program = compiled(MIXTRAL.replace("return", "report load, entropy\n  return"));
    const weights = randomWeights(program, 5);
    const T = 45;
    const x = normals(rng(6), T * 16);
    const stats = [];
    for (const maxActivationBytes of [undefined, 18432]) {
      const exec = await createExecutor(ctx, program, weights, { maxActivationBytes, stats: true });
      try {
        await exec.run(new Map([["x", x]]), T);
        expect(exec.lastRunInfo!.chunks?.count).toBe(maxActivationBytes ? 6 : undefined);
        stats.push(exec.lastStats!.get("r")!);
      } finally {
        exec.dispose();
      }
    }
    const [whole, split] = stats as [NonNullable<(typeof stats)[0]>, NonNullable<(typeof stats)[0]>];
    expect(split.tokens).toBe(T);
    expect(split.load).toEqual(whole.load);
    expect(split.active_k).toEqual(whole.active_k);
    split.importance.forEach((v, e) => expect(v).toBeCloseTo(whole.importance[e]!, 5));
    expect(split.entropy).toBeCloseTo(whole.entropy, 6);
    expect(split.balance_unscaled).toBeCloseTo(whole.balance_unscaled, 6);
  });

  it("outputs larger than maxBufferSize land in several staging buffers: still one submit, one read-back", async () => {
    // maxBufferSize faked at 4 KiB: also the binding limit. Per token 16·4 (y) + 4 + 2·8 (routing)
    // = 84 bytes of staging, so a 4 KiB staging buffer holds ≤ 48 tokens.
    const tiny = { ...ctx, limits: { ...ctx.limits, maxBufferSize: 4096 } };
    const program = moeProgram({ D: 16, E: 8, I: 8, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") });
    const weights = randomWeights(program, 7);
    const exec = await createExecutor(tiny, program, weights);
    try {
      const T = 101;
      const r = await runChecked(exec, program, weights, normals(rng(8), T * 16), T);
      expect(r.info.chunks!.count).toBeGreaterThan(T / 48);
      expect(r.info.commandBuffers).toBe(1);
      expect(r.info.readbacks).toBe(1);
    } finally {
      exec.dispose();
    }
  });

  it("the unfused baseline chunks too (one command buffer per chunk: its uniforms are written by the host)", async () => {
    const program = compiled(QWEN);
    const weights = randomWeights(program, 9);
    // The unfused lowering's largest per-token buffer is the shared expert's [T, SI] (96 bytes).
    const exec = await createExecutor(ctx, program, weights, { fused: false, maxActivationBytes: 1000 });
    try {
      const r = await runChecked(exec, program, weights, normals(rng(10), 23 * 16), 23);
      expect(r.info.chunks).toEqual({ count: 3, tokens: 10 });
    } finally {
      exec.dispose();
    }
  });

  it("profiling a chunked run times every chunk's pass", async () => {
    const program = compiled(MIXTRAL);
    const exec = await createExecutor(ctx, program, randomWeights(program, 11), { maxActivationBytes: 18432 });
    try {
      await exec.run(new Map([["x", normals(rng(12), 20 * 16)]]), 20, { profile: true });
      expect(exec.lastRunInfo!.chunks!.count).toBe(3);
      expect(exec.lastRunInfo!.gpuNs).toBeGreaterThan(0);
    } finally {
      exec.dispose();
    }
  });

  it("a single token above the limit is an error naming the buffer", async () => {
    const program = compiled(MIXTRAL);
    await expect(createExecutor(ctx, program, randomWeights(program, 13), { maxActivationBytes: 32 })).rejects.toThrow(ActivationTooLargeError);
    await expect(createExecutor(ctx, program, randomWeights(program, 13), { maxActivationBytes: 32 })).rejects.toThrow(
      /buffer '[^']+' needs \d+ bytes for a single token, above the storage binding limit of 32 bytes/,
    );
  });

  it("expert choice (scope run) cannot be chunked: a named error with the largest T that fits, which then runs", async () => {
    const program = compiled(MIXTRAL.replace("softmax |> topk(2) |> renorm", "softmax |> choose(capacity = 2.0)"));
    const weights = randomWeights(program, 14);
    const exec = await createExecutor(ctx, program, weights, { maxActivationBytes: 40000 });
    try {
      const err = await exec.run(new Map([["x", normals(rng(15), 40 * 16)]]), 40).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenChunkError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/router 'r' selects over the whole run \(scope run: expert choice\)/);
      const fits = Number(/run at most (\d+) tokens per call/.exec(msg)![1]);
      expect(fits).toBeGreaterThan(1);
      expect(fits).toBeLessThan(40);
      const r = await runChecked(exec, program, weights, normals(rng(16), fits * 16), fits);
      expect(r.info.chunks).toBeUndefined();
    } finally {
      exec.dispose();
    }
  });

  it("a router whose state is updated from the run's load (aux-free bias) cannot be chunked", async () => {
    const program = compiled(MIXTRAL.replace("linear |> softmax |> topk(2)", "linear |> sigmoid |> bias(aux_free, rate = 0.01) |> topk(2)"));
    const exec = await createExecutor(ctx, program, randomWeights(program, 17), { maxActivationBytes: 18432 });
    try {
      await expect(exec.run(new Map([["x", normals(rng(18), 40 * 16)]]), 40)).rejects.toThrow(
        /router 'r' updates its state from the whole run's expert loads .* run at most 8 tokens per call/,
      );
    } finally {
      exec.dispose();
    }
  });

  it("one expert above the binding limit (Mixtral's 235 MB f32 expert on a 128 MiB binding, shrunk) is split inside the expert", async () => {
    // w_up of one expert is I × D = 32 × 16 f32 = 2048 bytes; a 1,000-byte binding holds 15 of its
    // rows, so chunk boundaries fall inside experts (and in w_down's rows, 16 × 32, too).
    const program = compiled(MIXTRAL);
    const weights = randomWeights(program, 41);
    const T = 21;
    const x = normals(rng(42), T * 16);
    for (const dtype of ["f32", "f16"] as const) {
      const tol = dtype === "f16" ? { atol: 4e-3, rtol: 2e-3 } : { atol: 2e-4, rtol: 1e-4 };
      const exec = await createExecutor(ctx, program, weights, { dtype, maxBindingBytes: 1000 });
      try {
        await runChecked(exec, program, weights, x, T, tol);
      } finally {
        exec.dispose();
      }
    }
  });

  it("createRuntime().load() takes maxActivationBytes", async () => {
    const rt = await createRuntime();
    try {
      const program = compiled(MIXTRAL);
      const layer = await rt.load(program, { randomSeed: 3, maxActivationBytes: 18432 });
      const T = 19;
      const { y } = await layer.run({ x: normals(rng(19), T * 16) });
      expect(y!.length).toBe(T * 16);
      expect(layer.lastRunInfo!.chunks).toEqual({ count: 3, tokens: 8 });
      layer.dispose();
    } finally {
      rt.dispose();
    }
  });
});

describeGpu("router GEMM matrices above the weight binding limit", () => {
  it("linear(bias) router split over expert ranges (chunks straddle 64-column tiles) = reference", async () => {
    // [80, 24] f32 = 7680 bytes at a 2 KiB limit: 21 experts per chunk → 4 gate dispatches.
    const program = moeProgram({ D: 24, E: 80, I: 4, stages: stages(["linear", { bias: true }], "softmax", ["topk", { k: 2 }], "renorm") });
    const weights = randomWeights(program, 21);
    for (const subgroups of [true, false]) {
      const exec = await createExecutor(ctx, program, weights, { maxBindingBytes: 2048, subgroups });
      try {
        const T = 37;
        const r = await runChecked(exec, program, weights, normals(rng(22), T * 24), T);
        // gate 4 + router + dispatch + GEMM 1 (w_up [320, 24]: 16 chunks) + GEMM 2 (w_down [1920, 4]: 15) + combine.
        expect(r.info.dispatchesPerOp[0]!.dispatches).toBe(4 + 1 + 1 + 16 + 15 + 1);
      } finally {
        exec.dispose();
      }
    }
  });

  it("cosine router split; together with token chunking; f16", async () => {
    const program = compiled(`layer l(x: [T, D], D = 24, N = 40) {
  experts E[N] = ffn(hidden = 4, act = silu)
  router r = cosine(temp = 0.2) |> softmax |> topk(3) |> renorm
  return moe(x, r, E)
}`);
    const weights = randomWeights(program, 23);
    const T = 29;
    const x = normals(rng(24), T * 24);
    for (const dtype of ["f32", "f16"] as const) {
      const tol = dtype === "f16" ? { atol: 4e-3, rtol: 2e-3 } : { atol: 2e-4, rtol: 1e-4 };
      const whole = await createExecutor(ctx, program, weights, { dtype });
      const split = await createExecutor(ctx, program, weights, { dtype, maxBindingBytes: 1024, maxActivationBytes: dtype === "f16" ? 4096 : 8192 });
      try {
        const a = await runChecked(split, program, weights, x, T, tol);
        const b = await runChecked(whole, program, weights, x, T, tol);
        expect(a.info.chunks!.count).toBeGreaterThan(1);
        expect(b.routing!.get("r")!.counts).toEqual(a.routing!.get("r")!.counts);
      } finally {
        whole.dispose();
        split.dispose();
      }
    }
  });

  it("product keys: the stacked GEMM of its parts split across tensors (BatchNorm state untouched)", async () => {
    const program = compiled(`layer l(x: [T, D], D = 16, N = 16) {
  experts E[N] = ffn(hidden = 2, act = relu)
  router r = product(parts = 2, size = 4, norm = batch) |> topk(3) |> exp
  return moe(x, r, E)
}`);
    const weights = randomWeights(program, 27);
    // Two [4, 16] parts, 512 bytes stacked, at a 256-byte limit: one gate dispatch per part.
    const exec = await createExecutor(ctx, program, weights, { maxBindingBytes: 256, maxActivationBytes: 2048 });
    try {
      const r = await runChecked(exec, program, weights, normals(rng(28), 21 * 16), 21);
      expect(r.info.chunks!.count).toBeGreaterThan(1);
      // Per chunk: gate 2 + router + dispatch + GEMM 1 (w_up [32, 16]: 8 chunks) + GEMM 2 (w_down [256, 2]: 8) + combine.
      expect(r.info.dispatches).toBe(r.info.chunks!.count * (2 + 1 + 1 + 8 + 8 + 1));
    } finally {
      exec.dispose();
    }
  });

  it("the unfused baseline splits its router logits too", async () => {
    const program = moeProgram({ D: 24, E: 80, I: 4, stages: stages(["linear", { bias: true }], "softmax", ["topk", { k: 2 }], "renorm") });
    const weights = randomWeights(program, 25);
    const exec = await createExecutor(ctx, program, weights, { maxBindingBytes: 2048, fused: false });
    try {
      await runChecked(exec, program, weights, normals(rng(26), 9 * 24), 9);
    } finally {
      exec.dispose();
    }
  });
});

describe("the chunk rule (host only)", () => {
  it("splitTokens: chunks of C tokens, the remainder last", () => {
    expect(splitTokens(10, 4).map((c) => [c.t0, c.n])).toEqual([[0, 4], [4, 4], [8, 2]]);
    expect(splitTokens(8, 4).map((c) => c.n)).toEqual([4, 4]);
    expect(splitTokens(1, 4)).toEqual([{ index: 0, t0: 0, n: 1 }]);
  });

  it("chunkSize: the plan capacity, capped by maxBufferSize per chunk, even for odd f16 rows", () => {
    const io = { feedPerToken: 64, stagePerToken: 100, stagePerChunk: 0, regions: 2, oddRows: false };
    const odd = { ...io, oddRows: true };
    expect(chunkSize(50, 64, io, 1 << 30)).toBe(64); // no chunking
    expect(chunkSize(50, 7, io, 1 << 30)).toBe(7);
    expect(chunkSize(50, 7, odd, 1 << 30)).toBe(6);
    expect(chunkSize(5, 7, odd, 1 << 30)).toBe(7); // not split: no constraint
    expect(chunkSize(50, 64, io, 1008)).toBe(10); // (1008 − 2·4) / 100
    expect(chunkSize(50, 1, io, 1 << 30)).toBe(1);
    expect(() => chunkSize(50, 1, odd, 1 << 30)).toThrow(/need chunks of an even number of tokens/);
    expect(() => chunkSize(50, 64, io, 50)).toThrow(/one token's inputs or outputs \(100 bytes\) do not fit/);
  });

  it("largestFitting: binary search of a monotone predicate", async () => {
    for (const max of [0, 1, 7, 64, 1000]) expect(await largestFitting(1000, async (n) => n <= max)).toBe(max);
  });

  it("sumRawStats adds every per-token sum", () => {
    const a = { tokens: 3, load: [1, 2], importanceSum: [0.5, 1], pSum: [1, 2], entropySum: 0.3, histogram: [0, 3], key: "r" };
    const b = { tokens: 2, load: [2, 0], importanceSum: [1, 0], pSum: [0.5, 0.5], entropySum: 0.2, histogram: [1, 1], key: "r" };
    const s = sumRawStats([a, b]);
    expect(s).toMatchObject({ tokens: 5, key: "r", entropySum: 0.5 });
    expect(Array.from(s.load)).toEqual([3, 2]);
    expect(Array.from(s.importanceSum)).toEqual([1.5, 1]);
    expect(Array.from(s.pSum)).toEqual([1.5, 2.5]);
    expect(Array.from(s.histogram)).toEqual([1, 4]);
  });
});
