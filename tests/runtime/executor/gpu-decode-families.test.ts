// The cached decode for every family of tests/helpers/tiny-families.ts (llama, mixtral, olmoe,
// qwen2_moe, qwen3_moe, DeepSeekMoE, DeepSeek-V3 with MLA), weights from a Hugging Face-layout
// checkpoint: prefill 4 tokens, then 4 decode steps on given ids; at every step the logits equal
// the last row of the float64 reference over the sequence so far, with an f32 KV cache (and an
// f16 one for Mixtral and DeepSeek-V3). The executor is made without `decode`: ensureGeneration
// allocates the cache on demand.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { hfWeights } from "../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { FAMILIES, V } from "../../helpers/tiny-families.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const SEQ = [7, 3, 44, 19, 30, 2, 11, 40];
const P = 4;

describeGpu("cached decode = full forward, every family", () => {
  FAMILIES.forEach((f, i) => {
    const kvs = f.hf.model_type === "mixtral" || f.hf.model_type === "deepseek_v3" ? (["f32", "f16"] as const) : (["f32"] as const);
    for (const kv of kvs) {
      itGpu(`${f.name}, ${kv} cache`, async () => {
        if (kv === "f16" && !gpu.features.f16) return;
        const c = compile(f.moec);
        if (!c.ok) throw new Error(c.formatDiagnostics());
        const p = c.program!;
        const w = canonicalFromHf(p, c.info!.instance, f.map, hfWeights(f.hf, 500 + i));
        const exec = await createExecutor(gpu, p, w);
        try {
          exec.ensureGeneration({ context: SEQ.length, kvDtype: kv });
          const errs: number[] = [];
          for (let t = P; t <= SEQ.length; t++) {
            const got = t === P ? await exec.prefill(Int32Array.from(SEQ.slice(0, P))) : await exec.decodeStep(SEQ[t - 1]!);
            const ref = interpretReference(p, w, new Map([["tokens", Int32Array.from(SEQ.slice(0, t))]]), t).get("logits")!.subarray((t - 1) * V);
            errs.push(compare(got, ref).maxAbs);
          }
          expect(Math.max(...errs), errs.map((e) => e.toExponential(1)).join(" ")).toBeLessThan(kv === "f32" ? 1e-4 : 2e-3);
        } finally {
          exec.dispose();
        }
      }, 240_000);
    }
  });
});
