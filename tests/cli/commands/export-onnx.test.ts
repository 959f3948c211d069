// `moec export onnx` and `--backend onnxruntime` from the command line: the written file run by
// ONNX Runtime (onnxruntime-node, directly) equals moec's float64 reference on the same weights
// (--random-weights drawn again here, or a safetensors file written here), and a Hugging Face
// checkpoint directory's export equals the ORT decoder built from the modeling files; `moec run --backend
// onnxruntime` writes those logits; `moec generate --backend onnxruntime` picks the reference's
// greedy tokens, and its sampled tokens are the host sampler's draws from the reference's logits.
// Refusals are located diagnostics; a bad -o is named before any work and never half-written.
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { poolTensors } from "../../../compiler/ir/pool-tensors.js";
import { randomWeights, readSafetensors, writeSafetensors } from "../../../runtime/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { CpuSampler } from "../../../runtime/generate/graphs/cpu-sampler.js";
import { compare } from "../../helpers/numerics.js";
import { FAMILIES, T, ids } from "../../helpers/tiny-families.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { decoderModel } from "../../helpers/onnx-decoder.js";

const repo = path.resolve(__dirname, "../../..");
const MIXTRAL = path.join(repo, "examples/models/mixtral_8x7b.moe");
const SET = { V: 48, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 };
const setArgs = Object.entries(SET).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
const tmp = () => fs.mkdtempSync(path.join(tmpdir(), "moec-export-onnx-"));
const program = (): IrProgram => compile({ file: MIXTRAL, set: SET }).program!;
const PROMPT = Int32Array.of(3, 10, 17, 24, 31);

/** The reference's logits [T, V] for `ids` (float64). */
const refLogits = (p: IrProgram, w: Map<string, Float32Array>, ids: Int32Array) => interpretReference(p, w, new Map([["tokens", ids]]), ids.length).get("logits")!;

async function ortLogits(file: string, ids: Int32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file);
  try {
    return (await s.run({ tokens: new ort.Tensor("int64", BigInt64Array.from(ids, (i) => BigInt(i)), [ids.length]) }))["logits"]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe("moec export onnx", () => {
  it("writes one .onnx file whose logits, run by ONNX Runtime, are the reference's for the --random-weights tensors", async () => {
    const d = tmp();
    const out = path.join(d, "model.onnx");
    const r = await moec(["export", "onnx", MIXTRAL, ...setArgs, "--random-weights", "--seed", "5", "-o", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^wrote .*model\.onnx \(ONNX opset 17 \+ com\.microsoft 1, \d+ bytes; inputs tokens int64 \[T\]; outputs logits float \[T, 48\]\)\n$/);
    expect(fs.readdirSync(d)).toEqual(["model.onnx"]);
    const p = program();
    expect(compare(await ortLogits(out, PROMPT), refLogits(p, randomWeights(p, 5), PROMPT)).maxAbs).toBeLessThan(1e-5);
  });

  it("reads --weights (a safetensors file under moec names)", async () => {
    const d = tmp();
    const p = program();
    const w = randomWeights(p, 21);
    const weightsFile = path.join(d, "w.safetensors");
    // Every tensor at its canonical shape: the program's weights, and its pools' stacked tensors.
    const shapes = new Map<string, number[]>(p.weights.map((x) => [x.name, x.shape]));
    for (const op of p.ops) if (op.op === "moe" || op.op === "shared") for (const t of poolTensors(op.pool)) shapes.set(t.name, t.shape);
    writeSafetensors(weightsFile, Object.fromEntries([...w].map(([k, v]) => [k, { dtype: "F32" as const, shape: shapes.get(k)!, data: v }])));
    const out = path.join(d, "m.onnx");
    const r = await moec(["export", "onnx", MIXTRAL, ...setArgs, "--weights", weightsFile, "-o", out]);
    expect(r.code, r.err).toBe(0);
    expect(compare(await ortLogits(out, PROMPT), refLogits(p, w, PROMPT)).maxAbs).toBeLessThan(1e-5);
  });

  it("exports a Hugging Face checkpoint directory: logits equal those of the ORT decoder built from the modeling files", async () => {
    // The oracle (tests/helpers/onnx-decoder.ts) builds its graph from transformers' semantics and
    // the checkpoint's own names, independently of moec's IR, import and name maps.
    const f = FAMILIES.find((x) => x.hf.model_type === "qwen2_moe")!;
    const d = tmp();
    const dir = path.join(d, "ckpt");
    const hf = hfWeights(f.hf, 31);
    writeHfCheckpoint(dir, f.hf, hf);
    const out = path.join(d, "q.onnx");
    const r = await moec(["export", "onnx", dir, "-o", out]);
    expect(r.code, r.err).toBe(0);
    const oracle = await ort.InferenceSession.create(decoderModel(f.hf, hf, T));
    const want = (await oracle.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (i) => BigInt(i)), [1, T]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from({ length: T }, (_, t) => BigInt(t)), [1, T]),
    }))["logits"]!.data as Float32Array;
    await oracle.release();
    expect(compare(await ortLogits(out, ids), want).maxAbs).toBeLessThan(1e-4);
  });

  it("refuses what does not map, each construct at its source location, and writes nothing", async () => {
    const d = tmp();
    const src = path.join(d, "topp.moe");
    fs.writeFileSync(src, [
      "model m(tokens: [T], V = 16, D = 16) {",
      "  let e = embed(tokens, vocab = V, dim = D)",
      "  experts E[4] = ffn(hidden = 8)",
      "  router r = linear |> softmax |> topp(0.9)",
      "  let y = moe(e, r, E)",
      "  let o = lm_head(y, vocab = V)",
      "  return o",
      "}",
    ].join("\n"));
    const r = await moec(["export", "onnx", src, "--random-weights", "-o", path.join(d, "m.onnx")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/topp\.moe:4:10: error\[ONNX001\]: router `r` \(linear \|> softmax \|> topp\): stage `topp` has no counterpart in com\.microsoft\.MoE/);
    expect(r.err).toMatch(/`m` cannot be written as an ONNX model: 1 construct does not map \(listed above; codes ONNX001-ONNX005, docs\/scale-out\.md\)\n$/);
    expect(fs.readdirSync(d)).toEqual(["topp.moe"]);
  });

  it("-o: a directory, a missing directory, an existing file without --force are named; --force replaces atomically", async () => {
    const d = tmp();
    const base = ["export", "onnx", MIXTRAL, ...setArgs, "--random-weights"];
    const dirOut = await moec([...base, "-o", d]);
    expect([dirOut.code, dirOut.err]).toEqual([1, `moec export: \`${d}\` is a directory; -o names the .onnx file to write\n`]);
    const missing = await moec([...base, "-o", path.join(d, "no", "m.onnx")]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot write `.*no\/m\.onnx`: the directory .*no does not exist/);
    const file = path.join(d, "m.onnx");
    fs.writeFileSync(file, "keep");
    const exists = await moec([...base, "-o", file]);
    expect([exists.code, exists.err]).toEqual([1, `moec export: \`${file}\` exists; pass --force to replace it\n`]);
    expect(fs.readFileSync(file, "utf8")).toBe("keep");
    expect((await moec([...base, "-o", file, "--force"])).code).toBe(0);
    expect(fs.statSync(file).size).toBeGreaterThan(1000);
    expect(fs.readdirSync(d)).toEqual(["m.onnx"]); // no temporary file left
    expect((await moec(["export", "onnx", MIXTRAL, "--random-weights"])).err).toMatch(/give the output file with -o model\.onnx/);
    expect((await moec(["export", "onnx", MIXTRAL, "--random-weights", "-o", file, "--dtype", "f16"])).code).toBe(2);
  });
});

describe("--backend onnxruntime", () => {
  it("moec run writes the reference's logits", async () => {
    const d = tmp();
    const out = path.join(d, "y.safetensors");
    const r = await moec(["run", MIXTRAL, ...setArgs, "--random-weights", "--seed", "6", "--input-ids", Array.from(PROMPT).join(","), "--backend", "onnxruntime", "--output", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/5 tokens in [\d.]+ ms \(ONNX Runtime, CPU\)/);
    const p = program();
    const got = readSafetensors(out).getF32("logits");
    expect(compare(got, refLogits(p, randomWeights(p, 6), PROMPT)).maxAbs).toBeLessThan(1e-5);
  });

  it("moec generate: greedy tokens are the reference's; sampled ones the host sampler's draws from the reference's logits", async () => {
    const p = program();
    const w = randomWeights(p, 7);
    const V = SET.V;
    const draw = (sampler: CpuSampler, n: number): number[] => {
      const ids = Array.from(PROMPT);
      const seen = new Set(ids);
      for (let i = 0; i < n; i++) {
        const l = refLogits(p, w, Int32Array.from(ids));
        const id = sampler.pick(l.subarray((ids.length - 1) * V, ids.length * V), seen);
        seen.add(id);
        ids.push(id);
      }
      return ids.slice(PROMPT.length);
    };
    const base = ["generate", MIXTRAL, ...setArgs, "--random-weights", "--weights-seed", "7", "--input-ids", Array.from(PROMPT).join(","), "--backend", "onnxruntime", "--max-new-tokens", "6", "--json"];
    const greedy = await moec(base);
    expect(greedy.code, greedy.err).toBe(0);
    const want = draw(new CpuSampler({}, 0), 6);
    // Greedy by hand: the argmax of the reference's last row, step after step.
    const byHand: number[] = [];
    const ids = Array.from(PROMPT);
    for (let i = 0; i < 6; i++) {
      const l = refLogits(p, w, Int32Array.from(ids));
      let best = 0;
      for (let v = 1; v < V; v++) if (l[(ids.length - 1) * V + v]! > l[(ids.length - 1) * V + best]!) best = v;
      byHand.push(best);
      ids.push(best);
    }
    expect(want).toEqual(byHand);
    expect(JSON.parse(greedy.out)).toMatchObject({ tokens: byHand, stop: "length", prompt_tokens: 5 });
    const sampled = await moec([...base, "--temperature", "0.9", "--top-k", "10", "--seed", "3"]);
    expect(sampled.code, sampled.err).toBe(0);
    expect(JSON.parse(sampled.out).tokens).toEqual(draw(new CpuSampler({ temperature: 0.9, topK: 10, seed: 3 }, 0), 6));
  });

  it("GPU-only flags, unknown backends and programs that do not map are refused by name", async () => {
    const run = ["run", MIXTRAL, ...setArgs, "--random-weights", "--tokens", "2"];
    expect((await moec([...run, "--backend", "cuda"])).err).toMatch(/--backend takes webgpu or onnxruntime, found `cuda`/);
    expect((await moec([...run, "--backend", "onnxruntime", "--stats", "s.json"])).err).toMatch(/--stats is not available with --backend onnxruntime/);
    const v3 = await moec(["run", path.join(repo, "examples/models/deepseek_v3.moe"), "--set", "V=48", "D=32", "L=2", "DENSE=1", "H=2", "QR=8", "KVR=8", "NOPE=4", "ROPE=4", "VD=4", "DI=24", "N=32", "I=8", "--random-weights", "--tokens", "2", "--backend", "onnxruntime"]);
    expect(v3.code).toBe(1);
    expect(v3.err).toMatch(/deepseek_v3\.moe:\d+:\d+: error\[ONNX003\]: multi-head latent attention/);
    const bad = await moec([...run.slice(0, -2), "--input-ids", "1,2,99", "--backend", "onnxruntime"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/token 2 of `tokens` is 99, outside the vocabulary 0…47/);
  });
});
