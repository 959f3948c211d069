// The library's generation: rt.load(program, { weights: DIR }) picks up the directory's tokenizer
// and generation settings; model.generate(text) yields the same tokens as model.generate(ids) of
// the tokenizer's encoding, each with its text, joined equal to the tokenizer's decoding; an
// AbortSignal stops it; a text prompt without a tokenizer is a named error.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import { hfCheckpointNames } from "../../../compiler/hf/checkpoint-names.js";
import { createRuntime, TextError, type Runtime } from "../../../runtime/index.js";
import { beforeAllGpu, describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { FAMILIES } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-model-generate-"));
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

describeGpu("model.generate", () => {
  itGpu("text and ids prompts agree; pieces join to the tokenizer's decoding; eos ids from generation_config.json", async () => {
    const c = compile(mixtral.moec);
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const m = await rt.load(c.program!, { weights: dir, checkpointNames: hfCheckpointNames(c.info!.instance, c.info!.name) });
    try {
      expect(m.tokenizer?.vocabSize).toBe(43);
      expect(m.generation?.eosTokenIds).toEqual([4, 2]);
      const fromText = [];
      for await (const s of m.generate("hello world", { maxNewTokens: 6 })) fromText.push(s);
      const fromIds = [];
      for await (const s of m.generate([1, 37, 42], { maxNewTokens: 6 })) fromIds.push(s.id);
      expect(fromText.map((s) => s.id)).toEqual(fromIds);
      expect(fromText.map((s) => s.text).join("")).toBe(m.tokenizer!.decode(fromIds, { skipSpecialTokens: true }));
      const last = fromText.at(-1)!;
      expect(last.stop).toBe([4, 2].includes(last.id) ? "eos" : "length");

      const ac = new AbortController();
      let n = 0;
      for await (const _ of m.generate([1, 37], { maxNewTokens: 30, signal: ac.signal, eosIds: [] })) if (++n === 2) ac.abort();
      expect(n).toBe(2);
    } finally {
      m.dispose();
    }
  }, 240_000);

  itGpu("a text prompt without a tokenizer is a TextError saying so", async () => {
    const c = compile(mixtral.moec);
    const m = await rt.load(c.program!, { randomSeed: 1 });
    try {
      expect(m.tokenizer).toBeUndefined();
      expect(() => m.generate("hi")).toThrow(TextError);
      expect(() => m.generate("hi")).toThrow(/a text prompt needs a tokenizer/);
    } finally {
      m.dispose();
    }
  }, 240_000);
});
