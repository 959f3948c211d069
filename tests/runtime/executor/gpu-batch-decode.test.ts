// Batched decoding on the GPU (docs/generation.md "Batches"): B = 3 prompts of lengths 2, 5 and
// 7, each prefilled into its own cache slot, then 4 steps of all three rows in one command buffer
// feeding given ids; at every step each row's logits must equal the last row of the float64
// reference (runtime/reference/interpret.ts) over that row's own sequence so far — for a
// llama-style GQA model with rotate-half and a sliding window shorter than the sequences, and for
// Mixtral (the MoE layers route the 3 rows in one pass). Also: one read-back per step, no buffer
// created per step, named errors, and MLA refused.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { ContextFullError, createExecutor } from "../../../runtime/executor/executor.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { compare } from "../../helpers/numerics.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const llama = `model tiny(tokens: [T], V = 40, D = 16, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-5)
    let self_attn = attention(input_layernorm, heads = 4, kv_heads = 2, qk_norm = head, window = 4)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h, eps = 1e-5)
    let mlp = ffn(post_attention_layernorm, hidden = 24)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

function compiled(c: ReturnType<typeof compile>): IrProgram {
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

const PROMPTS = [[3, 17], [5, 29, 11, 2, 38], [7, 21, 1, 9, 33, 4, 16]];
const FED = [[8, 12, 30, 6], [19, 0, 25, 14], [36, 10, 27, 39]];
const STEPS = 4;
const CONTEXT = 12;

async function batchVersusReference(p: IrProgram): Promise<{ errors: number[]; buffersInSteps: number; readBacks: number }> {
  const w = randomWeights(p, 5);
  const V = p.values[p.outputs[0]!.value]!.width;
  const exec = await createExecutor(gpu, p, w);
  const device = gpu.device;
  const create = device.createBuffer.bind(device);
  const submit = device.queue.submit.bind(device.queue);
  let counting = false;
  let buffersInSteps = 0;
  let submits = 0;
  device.createBuffer = (d: GPUBufferDescriptor) => {
    if (counting) buffersInSteps++;
    return create(d);
  };
  device.queue.submit = (cbs: Iterable<GPUCommandBuffer>) => {
    if (counting) submits++;
    return submit(cbs);
  };
  const reference = (seq: number[]) => {
    const out = interpretReference(p, w, new Map([["tokens", Int32Array.from(seq)]]), seq.length).get(p.outputs[0]!.name)!;
    return out.subarray((seq.length - 1) * V, seq.length * V);
  };
  try {
    exec.ensureBatch({ rows: PROMPTS.length, context: CONTEXT });
    const errors: number[] = [];
    for (let b = 0; b < PROMPTS.length; b++) errors.push(compare(await exec.prefillRow(b, Int32Array.from(PROMPTS[b]!)), reference(PROMPTS[b]!)).maxAbs);
    expect(exec.batchPositions).toEqual([2, 5, 7]);
    for (let s = 0; s < STEPS; s++) {
      counting = true;
      const logits = await exec.decodeBatch(Int32Array.from(FED.map((f) => f[s]!)));
      counting = false;
      expect(logits.length).toBe(PROMPTS.length * V);
      for (let b = 0; b < PROMPTS.length; b++) {
        const seq = [...PROMPTS[b]!, ...FED[b]!.slice(0, s + 1)];
        errors.push(compare(logits.subarray(b * V, (b + 1) * V), reference(seq)).maxAbs);
      }
    }
    expect(exec.batchPositions).toEqual([6, 9, 11]);
    return { errors, buffersInSteps, readBacks: submits };
  } finally {
    device.createBuffer = create;
    device.queue.submit = submit;
    exec.dispose();
  }
}

describeGpu("batched decode = each row's full forward over its own sequence so far", () => {
  itGpu("GQA, rotate-half, per-head q/k norm, a window of 4: |Δ| < 1e-4 for every row at every step; one submit per step; no buffer per step", async () => {
    const r = await batchVersusReference(compiled(compile({ source: llama })));
    expect(r.errors.length).toBe(3 + 3 * STEPS);
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
    expect(r.buffersInSteps).toBe(0);
    expect(r.readBacks).toBe(STEPS);
  });
  itGpu("Mixtral: the MoE layers route the batch's rows together", async () => {
    const r = await batchVersusReference(compiled(compile({ file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 16 } })));
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
  });
});

describeGpu("the batched decode API", () => {
  itGpu("named errors: a row without a prompt, a wrong id count, a full slot, a row outside the batch; MLA refused", async () => {
    const p = compiled(compile({ source: llama }));
    const exec = await createExecutor(gpu, p, randomWeights(p, 1));
    try {
      await expect(exec.decodeBatch(Int32Array.of(1, 2))).rejects.toThrow("decodeBatch needs ensureBatch({ rows, context }) first");
      exec.ensureBatch({ rows: 2, context: 3 });
      await exec.prefillRow(0, Int32Array.of(1, 2));
      await expect(exec.decodeBatch(Int32Array.of(1, 2))).rejects.toThrow("decodeBatch: row 1 has no prompt in its slot; call prefillRow(1, ids) first");
      await expect(exec.prefillRow(2, Int32Array.of(1))).rejects.toThrow("prefillRow: row 2 is outside the batch of 2 rows");
      await exec.prefillRow(1, Int32Array.of(3));
      await expect(exec.decodeBatch(Int32Array.of(1))).rejects.toThrow("decodeBatch: 1 ids for a batch of 2 rows");
      await exec.decodeBatch(Int32Array.of(4, 5));
      await expect(exec.decodeBatch(Int32Array.of(4, 5))).rejects.toThrow(ContextFullError);
    } finally {
      exec.dispose();
    }
    const mla = compiled(compile({ file: "examples/models/deepseek_v3.moe", set: { V: 40, D: 32, L: 2, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 16, I: 8 } }));
    const m = await createExecutor(gpu, mla, randomWeights(mla, 1));
    try {
      m.ensureBatch({ rows: 2, context: 8 });
      await expect(m.prefillRow(0, Int32Array.of(1))).rejects.toThrow("has no batched decode form yet");
    } finally {
      m.dispose();
    }
  });
});
