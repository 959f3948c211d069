// Batched generation (runtime/generate/generate-batch.ts): three prompts of lengths 2, 5 and 7
// decoded as one batch; each row's greedy continuation equals the float64 reference's (argmax of a
// full forward over that row's own sequence so far) and the one-sequence loop's; every batched
// step is one command buffer and one read-back; a row that reaches an end-of-sequence id stops
// while the others continue; a bad prompt is named by its position in the batch.
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { generateBatch, type BatchToken } from "../../../runtime/generate/generate-batch.js";
import { generateTokens, type GenerateOptions } from "../../../runtime/generate/generate.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

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

const PROMPTS = [[3, 17], [5, 29, 11, 2, 38], [7, 21, 1, 9, 33, 4, 16]];
const NEW = 5;

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

async function collectBatch(p: IrProgram, w: Map<string, Float32Array>, opts: GenerateOptions): Promise<BatchToken[]> {
  const exec = await createExecutor(gpu, p, w);
  const got: BatchToken[] = [];
  try {
    let last = -1;
    for await (const t of generateBatch(gpu, exec, PROMPTS.map((q) => Int32Array.from(q)), opts)) {
      got.push(t);
      if (t.index !== last) {
        // Every batched step (all rows): one command buffer, one read-back (B ids and B stop flags).
        expect(exec.lastRunInfo!.commandBuffers).toBe(1);
        expect(exec.lastRunInfo!.readbacks).toBe(1);
        last = t.index;
      }
    }
  } finally {
    exec.dispose();
  }
  return got;
}

const rowIds = (got: BatchToken[], b: number) => got.filter((t) => t.row === b).map((t) => t.id);

describeGpu("generateBatch on the GPU", () => {
  itGpu("Mixtral: each row's greedy continuation = the float64 reference's and the one-sequence loop's", async () => {
    const p = MIXTRAL();
    const w = randomWeights(p, 11);
    const want = PROMPTS.map((q) => referenceGreedy(p, w, q, NEW));
    const got = await collectBatch(p, w, { temperature: 0, maxNewTokens: NEW });
    for (let b = 0; b < PROMPTS.length; b++) {
      expect(rowIds(got, b), `row ${b}`).toEqual(want[b]);
      expect(got.filter((t) => t.row === b).map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
      expect(got.filter((t) => t.row === b).at(-1)!.stop).toBe("length");
    }
    const one = await createExecutor(gpu, p, w);
    try {
      for (let b = 0; b < PROMPTS.length; b++) {
        const ids: number[] = [];
        for await (const t of generateTokens(gpu, one, Int32Array.from(PROMPTS[b]!), { temperature: 0, maxNewTokens: NEW })) ids.push(t.id);
        expect(ids, `row ${b} alone`).toEqual(want[b]);
      }
    } finally {
      one.dispose();
    }
  }, 120_000);

  itGpu("a row that draws an end-of-sequence id stops there while the others continue", async () => {
    const p = MIXTRAL();
    const w = randomWeights(p, 11);
    const want = PROMPTS.map((q) => referenceGreedy(p, w, q, NEW));
    // Row 1's second token as the eos id; each row's expected output ends at its first eos.
    const eos = want[1]![1]!;
    const expected = want.map((ids) => (ids.includes(eos) ? ids.slice(0, ids.indexOf(eos) + 1) : ids));
    expect(expected.some((e) => e.length === NEW), "some row runs to the length limit").toBe(true);
    const got = await collectBatch(p, w, { temperature: 0, maxNewTokens: NEW, eosIds: [eos] });
    for (let b = 0; b < PROMPTS.length; b++) {
      expect(rowIds(got, b), `row ${b}`).toEqual(expected[b]);
      expect(got.filter((t) => t.row === b).at(-1)!.stop).toBe(expected[b]!.at(-1) === eos ? "eos" : "length");
    }
  }, 120_000);

  itGpu("a bad prompt is named by its place in the batch, before any GPU work", async () => {
    const p = MIXTRAL();
    const exec = await createExecutor(gpu, p, randomWeights(p, 1));
    try {
      const run = async (prompts: Int32Array[]) => { for await (const _ of generateBatch(gpu, exec, prompts, { maxNewTokens: 2 })) void _; };
      await expect(run([Int32Array.of(1), Int32Array.of()])).rejects.toThrow("prompt 1: the prompt is empty");
      await expect(run([Int32Array.of(1, 64)])).rejects.toThrow("prompt 0: prompt token 1 is 64, outside the vocabulary 0…63");
      await expect(run([])).rejects.toThrow("the batch has no prompts");
    } finally {
      exec.dispose();
    }
  }, 120_000);
});
