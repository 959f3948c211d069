// model.generate([...prompts]) through the library: an array of texts and id arrays is decoded as
// one batch; each row's greedy tokens equal model.generate of that prompt alone (whose greedy
// continuation the float64 reference checks in generate.test.ts), each row's pieces join to the
// same text as alone, the tail of the tokenizer's decoding of prompt + continuation.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import { hfCheckpointNames } from "../../../compiler/hf/checkpoint-names.js";
import { createRuntime, type Runtime } from "../../../runtime/index.js";
import { beforeAllGpu, describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { FAMILIES } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-model-generate-batch-"));
const mixtral = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
const dir = path.join(root, "ckpt");
writeHfCheckpoint(dir, mixtral.hf, hfWeights(mixtral.hf, 31));
for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) copyFileSync(path.resolve("tests/fixtures/tokenizers/tiny", f), path.join(dir, f));

let rt: Runtime;
beforeAllGpu(async () => (rt = await createRuntime()));
afterAll(() => {
  rt?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describeGpu("model.generate with several prompts", () => {
  itGpu("each row = that prompt generated alone, ids and text", async () => {
    const c = compile(mixtral.moec);
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const m = await rt.load(c.program!, { weights: dir, checkpointNames: hfCheckpointNames(c.info!.instance, c.info!.name) });
    try {
      const prompts = ["hello world", [1, 37, 42, 5, 9, 11], [1, 20]] as const;
      const opts = { maxNewTokens: 6, temperature: 0, eosIds: [] };
      const alone: { ids: number[]; text: string }[] = [];
      for (const p of prompts) {
        const row = { ids: [] as number[], text: "" };
        for await (const s of m.generate(p, opts)) {
          row.ids.push(s.id);
          row.text += s.text ?? "";
        }
        alone.push(row);
      }
      const rows: { ids: number[]; text: string }[] = prompts.map(() => ({ ids: [], text: "" }));
      for await (const s of m.generate([...prompts], opts)) {
        rows[s.row]!.ids.push(s.id);
        rows[s.row]!.text += s.text ?? "";
      }
      for (let b = 0; b < prompts.length; b++) {
        expect(rows[b]!.ids, `row ${b}`).toEqual(alone[b]!.ids);
        expect(rows[b]!.text, `row ${b}`).toBe(alone[b]!.text);
        // The row's text is the decoding of prompt + continuation past the prompt's own decoding.
        const prompt = typeof prompts[b] === "string" ? m.tokenizer!.encode(prompts[b] as string) : Array.from(prompts[b] as readonly number[]);
        const whole = m.tokenizer!.decode([...prompt, ...rows[b]!.ids], { skipSpecialTokens: true });
        expect(whole.endsWith(rows[b]!.text), `row ${b}: '${rows[b]!.text}' ends '${whole}'`).toBe(true);
      }
    } finally {
      m.dispose();
    }
  }, 240_000);
});
