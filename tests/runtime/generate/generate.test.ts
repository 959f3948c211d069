// The decode loop on the GPU (runtime/generate/generate.ts): greedy continuations equal the float64
// reference's (argmax of a full forward over the sequence so far at each step, ties to the lowest
// id) for a Mixtral-style MoE model and DeepSeek-V3's MLA; every step is one command buffer and one
// read-back; seeded sampling is reproducible; generation stops at an end-of-sequence id, a stop id
// or the length; a prompt over the context, an empty prompt and an unknown id are named errors
// raised before any GPU work.
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { Executor } from "../../../runtime/executor/types.js";
import { checkGeneration, GenerationError, generateTokens, type GenerateOptions, type GeneratedToken } from "../../../runtime/generate/generate.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { it } from "vitest";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const examples = path.resolve(__dirname, "../../../examples/models");
function program(file: string, set: Record<string, number>): IrProgram {
  const c = compile({ file: path.join(examples, file), set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

const MIXTRAL = () => program("mixtral_8x7b.moe", { V: 64, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 });
const DSV3 = () => program("deepseek_v3.moe", { V: 64, D: 32, L: 2, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 16, I: 8 });

/** The reference's greedy continuation: argmax (lowest id on ties) of the last row of a full forward. */
function referenceGreedy(p: IrProgram, w: Map<string, Float32Array>, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  const V = p.values[p.outputs[0]!.value]!.width;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const logits = interpretReference(p, w, new Map([["tokens", Int32Array.from(seq)]]), seq.length).get("logits")!;
    const row = logits.subarray((seq.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    out.push(best);
    seq.push(best);
  }
  return out;
}

async function collect(exec: Executor, prompt: number[], opts: GenerateOptions): Promise<GeneratedToken[]> {
  const got: GeneratedToken[] = [];
  for await (const t of generateTokens(gpu, exec, Int32Array.from(prompt), opts)) {
    got.push(t);
    // Every step: one command buffer, one read-back (the id and its stop flag).
    expect(exec.lastRunInfo!.commandBuffers).toBe(1);
    expect(exec.lastRunInfo!.readbacks).toBe(1);
  }
  return got;
}

describeGpu("generateTokens on the GPU", () => {
  for (const [name, make] of [["mixtral", MIXTRAL], ["deepseek_v3 (MLA, absorbed decode)", DSV3]] as const) {
    itGpu(`${name}: the greedy continuation equals the float64 reference's`, async () => {
      const p = make();
      const w = randomWeights(p, 11);
      // Random weights give flat logits; scale the LM head so the argmax is well separated from the runner-up.
      for (const [k, v] of w) if (k.startsWith("lm_head")) for (let i = 0; i < v.length; i++) v[i] = v[i]! * 8;
      const prompt = [5, 17, 3, 60, 22];
      const exec = await createExecutor(gpu, p, w);
      try {
        const got = await collect(exec, prompt, { maxNewTokens: 8 });
        expect(got.map((t) => t.id)).toEqual(referenceGreedy(p, w, prompt, 8));
        expect(got.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(got.at(-1)!.stop).toBe("length");
        expect(got.slice(0, -1).every((t) => t.stop === undefined)).toBe(true);
      } finally {
        exec.dispose();
      }
    }, 240_000);
  }

  itGpu("stops at an end-of-sequence id (eos) or a stop id (stop), after yielding it; seeded sampling is reproducible", async () => {
    const p = MIXTRAL();
    const w = randomWeights(p, 12);
    const exec = await createExecutor(gpu, p, w);
    try {
      const prompt = [1, 2, 3];
      const greedy = (await collect(exec, prompt, { maxNewTokens: 6 })).map((t) => t.id);
      const third = greedy[2]!;
      const first = greedy.indexOf(third); // the eos may already occur earlier in the continuation
      const eos = await collect(exec, prompt, { maxNewTokens: 6, eosIds: [third] });
      expect(eos.map((t) => t.id)).toEqual(greedy.slice(0, first + 1));
      expect(eos.at(-1)!.stop).toBe("eos");
      const stop = await collect(exec, prompt, { maxNewTokens: 6, stopIds: [third] });
      expect(stop.at(-1)!.stop).toBe("stop");

      const draw = async (seed: number) => (await collect(exec, prompt, { maxNewTokens: 10, temperature: 1.5, seed })).map((t) => t.id);
      const a = await draw(7);
      expect(await draw(7)).toEqual(a);
      const others = [await draw(8), await draw(9)];
      expect(others.some((o) => o.join() !== a.join())).toBe(true);
    } finally {
      exec.dispose();
    }
  }, 240_000);

  itGpu("sampleVocab: only ids below it are drawn (a tokenizer smaller than a padded vocabulary)", async () => {
    const p = MIXTRAL();
    const exec = await createExecutor(gpu, p, randomWeights(p, 14));
    try {
      const got = await collect(exec, [60, 61, 62], { maxNewTokens: 24, temperature: 3, seed: 2, sampleVocab: 5 });
      expect(got).toHaveLength(24);
      expect(got.every((t) => t.id < 5)).toBe(true);
      expect(new Set(got.map((t) => t.id)).size).toBeGreaterThan(1);
    } finally {
      exec.dispose();
    }
  }, 240_000);

  itGpu("an aborted signal stops before the next step", async () => {
    const p = MIXTRAL();
    const exec = await createExecutor(gpu, p, randomWeights(p, 13));
    try {
      const ac = new AbortController();
      const got: number[] = [];
      for await (const t of generateTokens(gpu, exec, Int32Array.of(4, 4), { maxNewTokens: 20, signal: ac.signal })) {
        got.push(t.id);
        if (got.length === 3) ac.abort();
      }
      expect(got.length).toBe(3);
    } finally {
      exec.dispose();
    }
  }, 240_000);
});

describe("checkGeneration (before any GPU work)", () => {
  it("refuses a prompt over the context, an empty prompt, unknown ids and bad limits, naming them", () => {
    expect(() => checkGeneration([1, 2, 3], 64, { maxNewTokens: 8, context: 10 })).toThrow(/prompt \(3 tokens\) plus 8 new tokens is 11, above the context of 10 positions/);
    expect(checkGeneration([1, 2], 64, { maxNewTokens: 8, context: 10 })).toEqual({ maxNew: 8, context: 10 });
    expect(() => checkGeneration([], 64, {})).toThrow(/the prompt is empty/);
    expect(() => checkGeneration([1, 64], 64, {})).toThrow(/prompt token 1 is 64, outside the vocabulary 0…63/);
    expect(() => checkGeneration([1], 64, { eosIds: [70] })).toThrow(/end-of-sequence id 70 is outside/);
    expect(() => checkGeneration([1], 64, { stopIds: [-1] })).toThrow(/stop id -1 is outside/);
    expect(() => checkGeneration([1], 64, { maxNewTokens: 0 })).toThrow(GenerationError);
  });
});
