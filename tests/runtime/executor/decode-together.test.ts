// decodeStepsTogether (runtime/executor/executor.ts): the decode steps of several executors — two
// models of different widths and a third at another position — recorded into ONE command buffer
// with one read-back; each executor's logits equal the float64 reference's last row over its own
// sequence, and each executor's next step goes on from there. Misuse is a clear error.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor, decodeStepsTogether } from "../../../runtime/executor/executor.js";
import type { Executor } from "../../../runtime/executor/types.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const SOURCE = (D: number) => `model tiny(tokens: [T], V = 24, D = ${D}) {
  let h = embed(tokens, vocab = V, dim = D)
  let n = rmsnorm(h)
  let a = attention(n, heads = 2)
  h = h + a
  let logits = lm_head(h, vocab = V)
  return logits
}`;

function program(D: number): IrProgram {
  const c = compile({ source: SOURCE(D) });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

function lastRow(p: IrProgram, w: Map<string, Float32Array>, seq: number[]): Float64Array {
  const all = interpretReference(p, w, new Map([["tokens", Int32Array.from(seq)]]), seq.length).get(p.outputs[0]!.name)!;
  return all.subarray((seq.length - 1) * 24, seq.length * 24);
}

describeGpu("decodeStepsTogether", () => {
  itGpu("three executors' steps in one command buffer equal the reference, and each goes on from its own position", async () => {
    const progs = [program(16), program(8), program(16)];
    const weights = progs.map((p, i) => randomWeights(p, 3 + i));
    const seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]];
    const execs: Executor[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const e = await createExecutor(gpu, progs[i]!, weights[i]!);
        e.ensureGeneration({ context: 12 });
        await e.prefill(Int32Array.from(seqs[i]!));
        execs.push(e);
      }
      for (const ids of [[11, 12, 13], [14, 15, 16]]) {
        const got = await decodeStepsTogether(execs, ids);
        expect(execs[0]!.lastRunInfo).toMatchObject({ commandBuffers: 1, readbacks: 1 });
        ids.forEach((id, i) => seqs[i]!.push(id));
        for (let i = 0; i < 3; i++) {
          const want = lastRow(progs[i]!, weights[i]!, seqs[i]!);
          for (let v = 0; v < 24; v++) expect(Math.abs(got[i]![v]! - want[v]!), `executor ${i}, logit ${v}`).toBeLessThan(1e-4);
        }
      }
      expect(execs.map((e) => e.position)).toEqual(seqs.map((s) => s.length));
      await expect(decodeStepsTogether([execs[0]!, execs[0]!], [1, 2])).rejects.toThrow(/given twice/);
      await expect(decodeStepsTogether(execs, [1])).rejects.toThrow(/1 ids for 3 executors/);
    } finally {
      for (const e of execs) e.dispose();
    }
  }, 240_000);
});
