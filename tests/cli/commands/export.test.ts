// `moec export hf`: tiny checkpoints of each family, written by tests/helpers/hf-layout.ts from
// transformers' modeling files (not from moec's name map), exported and compared with what the
// helper wrote — config.json field by field, every tensor byte for byte by name, the index's
// total_size and weight_map — and imported back (the same program text and `moec info`). Also the
// moec-named and random-weight sources, dtypes, and the output directory's failure modes.
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { FAMILIES as TINY, V, D } from "../../helpers/tiny-families.js";
import { hfWeights, writeHfCheckpoint, type HfConfig } from "../../helpers/hf-layout.js";
import { bf16Round, mixtralHfTensors, writeCanonicalFile } from "../../helpers/hf-checkpoint.js";
import { openCheckpointDir } from "../../../runtime/weights/checkpoint-dir.js";
import { openSafetensors } from "../../../runtime/safetensors/reader.js";
import { lowerEntry } from "../../../compiler/driver.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { compile } from "../../../compiler/index.js";
import { hfCheckpointNames } from "../../../compiler/hf/checkpoint-names.js";
import { importHfConfig } from "../../../compiler/hf/import/import-config.js";
import { resolveWeightsDetailed } from "../../../runtime/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { T, ids, type Family } from "../../helpers/tiny-families.js";

const tmp = () => fs.mkdtempSync(path.join(tmpdir(), "moec-export-"));
const json = (f: string) => JSON.parse(fs.readFileSync(f, "utf8"));
const dropFirstLine = (s: string) => s.split("\n").slice(1).join("\n");

const QWEN3: HfConfig = {
  model_type: "qwen3", vocab_size: V, hidden_size: D, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16,
  intermediate_size: 48, rms_norm_eps: 1e-6, rope_theta: 1e6, tie_word_embeddings: false,
};
// DeepSeekMoE (model_type "deepseek") has no transformers config class moec imports; V3 is the DeepSeek family here.
const CASES: { name: string; hf: HfConfig; moec?: Family["moec"]; map?: Family["map"] }[] = [...TINY.filter((f) => f.hf.model_type !== "deepseek"), { name: "qwen3 (dense, per-head q/k norm)", hf: QWEN3 }];

const SHARD_CAP = 24_000;

describe("moec export hf DIR", () => {
  for (const c of CASES) {
    it(`${c.name}: config fields, tensors byte-equal, index and shards, and the round trip`, async () => {
      const d = tmp();
      const src = path.join(d, "src"), out = path.join(d, "out");
      writeHfCheckpoint(src, c.hf, hfWeights(c.hf, 11));
      fs.writeFileSync(path.join(src, "tokenizer.json"), '{"model": {"type": "BPE"}}');
      const r = await moec(["export", "hf", src, "-o", out, "--shard-size", String(SHARD_CAP)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe("");
      expect(r.err).toMatch(new RegExp(`^wrote .*out \\(model_type ${c.hf.model_type}, \\d+ tensors F32 in \\d+ shards, \\d+ bytes; copied tokenizer\\.json\\)\\n$`));

      // config.json: every field the helper wrote (architectures, torch_dtype included), equal.
      const original = json(path.join(src, "config.json"));
      const exported = json(path.join(out, "config.json"));
      for (const [k, v] of Object.entries(original)) expect(exported[k], `config field ${k}`).toEqual(v);
      expect(fs.readFileSync(path.join(out, "tokenizer.json"), "utf8")).toBe('{"model": {"type": "BPE"}}');
      expect(json(path.join(out, "generation_config.json"))).toEqual({ _from_model_config: true });

      // Tensors: the same names, dtypes, shapes and bytes as the helper's model.safetensors.
      const want = openSafetensors(path.join(src, "model.safetensors")).tensors;
      const dir = openCheckpointDir(out);
      if (!dir.ok) throw new Error(dir.errors.map((e) => e.message).join("\n"));
      expect([...dir.dir.tensors.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [name, t] of want) {
        const got = dir.dir.tensors.get(name)!;
        expect([got.dtype, got.shape], name).toEqual([t.dtype, t.shape]);
        expect(Buffer.from(got.read()).equals(Buffer.from(t.read())), `bytes of ${name}`).toBe(true);
      }

      // Index: total_size is the sum of the tensors' bytes; several shards, each within the cap
      // unless it holds a single tensor, and each holding exactly the tensors the map puts there.
      const index = json(path.join(out, "model.safetensors.index.json"));
      const bytes = (t: { shape: number[] }) => t.shape.reduce((a, b) => a * b, 4);
      expect(index.metadata.total_size).toBe([...want.values()].reduce((s, t) => s + bytes(t), 0));
      const shards = [...new Set(Object.values(index.weight_map as Record<string, string>))].sort();
      expect(shards.length).toBeGreaterThan(1);
      expect(shards).toEqual(shards.map((_, k) => `model-${String(k + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`));
      for (const s of shards) {
        const held = openSafetensors(path.join(out, s)).tensors;
        expect([...held.keys()].sort()).toEqual(Object.keys(index.weight_map).filter((n) => index.weight_map[n] === s).sort());
        const sum = [...held.values()].reduce((a, t) => a + bytes(t), 0);
        if (held.size > 1) expect(sum).toBeLessThanOrEqual(SHARD_CAP);
      }
      expect(fs.readdirSync(d).sort()).toEqual(["out", "src"]); // no temporary directory left

      // Round trip: `moec import` of the export is the same program; `moec info` the same report.
      const [a, b] = [await moec(["import", src]), await moec(["import", out])];
      expect(dropFirstLine(b.out)).toBe(dropFirstLine(a.out));
      const [ia, ib] = [await moec(["info", src]), await moec(["info", out])];
      expect(ib.code).toBe(0);
      expect(dropFirstLine(ib.out)).toBe(dropFirstLine(ia.out));

      // Logits (float64 reference): the export, imported and read through its own names, computes
      // what the hand-written program computes on the helper's weights placed by the test's translation.
      if (!c.moec || !c.map) return;
      const imported = await importHfConfig(fs.readFileSync(path.join(out, "config.json"), "utf8"), "config.json");
      const back = compile({ source: imported.text, file: path.join(out, "imported.moe") });
      expect(back.ok, back.formatDiagnostics()).toBe(true);
      const names = hfCheckpointNames(back.info!.instance, back.info!.name, { family: imported.family });
      const loaded = resolveWeightsDetailed(back.program!, { weights: out, checkpointNames: names, forceCheckpointNames: true });
      expect(loaded.checkpoint?.unused).toEqual([]);
      const weights = new Map([...loaded.weights.keys()].map((k) => [k, loaded.weights.get(k)!] as const));
      const got = interpretReference(back.program!, weights, new Map([["tokens", ids]]), T).get("logits")!;
      const hand = compile(c.moec);
      if (!hand.ok) throw new Error(hand.formatDiagnostics());
      const reference = interpretReference(hand.program!, canonicalFromHf(hand.program!, hand.info!.instance, c.map, hfWeights(c.hf, 11)), new Map([["tokens", ids]]), T).get("logits")!;
      expect(compare(got, reference).maxAbs).toBeLessThan(1e-9);
    });
  }
});

describe("moec export hf examples/checkpoints/tiny-mixtral (a shipped directory with a tokenizer)", () => {
  it("copies the tokenizer and generation files byte for byte and keeps every config field", async () => {
    const src = path.resolve("examples/checkpoints/tiny-mixtral"), out = path.join(tmp(), "out");
    const r = await moec(["export", "hf", src, "-o", out]);
    expect(r.code, r.err).toBe(0);
    for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) {
      expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(src, f))), f).toBe(true);
    }
    const original = json(path.join(src, "config.json")), exported = json(path.join(out, "config.json"));
    for (const [k, v] of Object.entries(original)) if (k !== "transformers_version") expect(exported[k], k).toEqual(v);
  });
});

const MIXTRAL_SET = { V: 48, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 };
const setArgs = Object.entries(MIXTRAL_SET).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
const MIXTRAL_FILE = path.resolve("examples/models/mixtral_8x7b.moe");

/** A Mixtral-shaped model whose router keeps the top-p experts instead of the top-2. */
const TOPP_MODEL = `layer topp_moe(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 8)
  router r = linear |> softmax |> topp(0.5, max = 4)
  return moe(x, r, E)
}
model m(tokens: [T], V = 32, D = 16, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h)
    let self_attn = attention(input_layernorm, heads = 2)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h)
    let block_sparse_moe = topp_moe(post_attention_layernorm)
    h = h + block_sparse_moe
  }
  let norm = rmsnorm(h)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}
`;

describe("moec export hf MODEL.moe", () => {
  it("--weights FILE under moec names, --dtype bf16: tensors under Mixtral's names (the helper's independent map), rounded to bf16", async () => {
    const d = tmp();
    const low = lowerEntry([MIXTRAL_FILE], { set: MIXTRAL_SET });
    const w = randomWeights(low.program!, 3);
    const file = writeCanonicalFile(path.join(d, "w.safetensors"), low.program!, w);
    const out = path.join(d, "out");
    const r = await moec(["export", "hf", MIXTRAL_FILE, ...setArgs, "--weights", file, "--dtype", "bf16", "-o", out]);
    expect(r.code, r.err).toBe(0);
    const expected = mixtralHfTensors(w, { V: 48, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 });
    const dir = openCheckpointDir(out);
    if (!dir.ok) throw new Error("unreadable export");
    expect([...dir.dir.tensors.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, t] of expected) {
      const got = dir.dir.tensors.get(name)!;
      expect(got.dtype).toBe("BF16");
      const u16 = new Uint16Array(got.read().slice().buffer);
      const f32 = new Float32Array(new Uint32Array(Array.from(u16, (h) => h << 16)).buffer);
      expect(Array.from(f32), name).toEqual(Array.from(t.data, bf16Round));
    }
    expect(json(path.join(out, "config.json")).torch_dtype).toBe("bfloat16");
    expect(Object.keys(json(path.join(out, "model.safetensors.index.json")).weight_map)).toHaveLength(expected.size);
  });

  it("--random-weights --seed: f32, the same bytes for the same seed", async () => {
    const d = tmp();
    for (const o of ["a", "b"]) expect((await moec(["export", "hf", MIXTRAL_FILE, ...setArgs, "--random-weights", "--seed", "7", "-o", path.join(d, o)])).code).toBe(0);
    const shard = "model-00001-of-00001.safetensors";
    expect(fs.readFileSync(path.join(d, "a", shard)).equals(fs.readFileSync(path.join(d, "b", shard)))).toBe(true);
    expect(json(path.join(d, "a", "config.json")).torch_dtype).toBe("float32");
  });

  it("a program no family expresses: the located list on stderr, exit 1, no OUT", async () => {
    const d = tmp();
    const prog = path.join(d, "topp.moe");
    fs.writeFileSync(prog, TOPP_MODEL);
    const r = await moec(["export", "hf", prog, "--random-weights", "-o", path.join(d, "out")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/HF002/);
    expect(r.err).toMatch(/router stage `topp` has no counterpart/);
    expect(r.err).toMatch(/topp\.moe:3:35/); // the stage, in the layer's router line
    expect(r.err).toMatch(/cannot be written as a Hugging Face checkpoint: 1 construct does not map/);
    expect(fs.readdirSync(d)).toEqual(["topp.moe"]);
  });
});

describe("moec export: the output directory and the command line", () => {
  const args = (out: string) => ["export", "hf", MIXTRAL_FILE, ...setArgs, "--random-weights", "-o", out];

  it("an existing non-empty OUT is refused and left as it was; --force replaces it; an empty one is used", async () => {
    const d = tmp();
    const out = path.join(d, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "keep.txt"), "mine");
    const r = await moec(args(out));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/-o .*out: exists and is not empty; give --force to replace it/); // checked before any work
    expect(fs.readdirSync(out)).toEqual(["keep.txt"]);
    expect((await moec([...args(out), "--force"])).code).toBe(0);
    expect(fs.readdirSync(out)).not.toContain("keep.txt");
    expect(fs.readdirSync(out)).toContain("config.json");
    expect(fs.readdirSync(d)).toEqual(["out"]);
    const empty = path.join(d, "empty");
    fs.mkdirSync(empty);
    expect((await moec(args(empty))).code).toBe(0);
  });

  it("an unwritable OUT: exit 1 naming it, nothing written", async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, "file"), "x");
    const r = await moec(args(path.join(d, "file", "out")));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/moec export: -o .*file\/out: .*file is not a directory/);
    const r2 = await moec(args(path.join(d, "file")));
    expect(r2.err).toMatch(/-o .*file: exists and is not a directory/);
    expect(fs.readdirSync(d)).toEqual(["file"]);
  });

  it("unknown formats and missing pieces are usage errors", async () => {
    const gguf = await moec(["export", "gguf", MIXTRAL_FILE]);
    expect(gguf.code).toBe(2);
    expect(gguf.err).toMatch(/unknown format `gguf`; known: hf, torch, onnx/);
    expect((await moec(["export", "hf", MIXTRAL_FILE, ...setArgs, "--random-weights"])).err).toMatch(/give the output directory with -o OUT/);
    expect((await moec(["export", "hf", MIXTRAL_FILE, "-o", "x"])).err).toMatch(/give the weights with --weights FILE\|DIR, or export --random-weights/);
    expect((await moec(["export", "hf", MIXTRAL_FILE, "--random-weights", "-o", "x", "--shard-size", "lots"])).err).toMatch(/--shard-size takes a size/);
    const help = await moec(["export", "--help"]);
    expect(help.out).toMatch(/moec export hf MODEL\.moe\|DIR/);
    expect(help.out).toMatch(/--shard-size SIZE/);
  });
});
