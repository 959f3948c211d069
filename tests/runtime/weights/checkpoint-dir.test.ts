// Checkpoint directories on the host: a Hugging Face checkpoint written here with names typed by
// hand (tests/helpers/hf-checkpoint.ts) binds to exactly the canonical weights it was made from,
// single-file and sharded, F32 and BF16 (against bf16 rounding done here by hand), Mixtral and a
// DeepSeek-style model with concatenated shared experts and e_score_correction_bias; tensors are
// read lazily; every bad checkpoint is an error naming its tensor and file; a fuzz of the reader.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile, hfCheckpointNames } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { encodeSafetensors } from "../../../runtime/safetensors/writer.js";
import { SafetensorsError } from "../../../runtime/safetensors/errors.js";
import { loadCheckpointDir, type CheckpointLoadOptions } from "../../../runtime/weights/load-checkpoint.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { canonicalLayout } from "../../../runtime/weights/canonical-layout.js";
import { bf16Round, DEEPSEEK_STYLE_MODEL, deepseekHfTensors, mixtralHfTensors, writeHfCheckpoint, type HfTensors } from "../../helpers/hf-checkpoint.js";
import { rng } from "../../helpers/random.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(root, `c${n++}`);

const MIXTRAL = { V: 32, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 };
const mixtral = compile({ file: path.resolve("examples/models/mixtral_8x7b.moe"), set: MIXTRAL });
if (!mixtral.ok) throw new Error(mixtral.formatDiagnostics());
const mixtralProgram = mixtral.program!;
const mixtralWeights = randomWeights(mixtralProgram, 5);
const mixtralHf = () => mixtralHfTensors(mixtralWeights, MIXTRAL);

const DS = { V: 32, D: 16, L: 2, H: 4, N: 4, I: 8, S: 2 };
const deepseek = compile({ source: DEEPSEEK_STYLE_MODEL });
if (!deepseek.ok) throw new Error(deepseek.formatDiagnostics());
const deepseekWeights = randomWeights(deepseek.program!, 9);
// A non-trivial correction bias, so that reading it from the checkpoint is visible.
for (let l = 0; l < DS.L; l++) deepseekWeights.set(`layers.${l}.mlp.r.e_bias`, Float32Array.from([0.5, -0.25, 0.125, 1]));

function load(program: IrProgram, dir: string, opts: Partial<CheckpointLoadOptions> = {}, c = mixtral) {
  return loadCheckpointDir(program, dir, { names: hfCheckpointNames(c), ...opts });
}

function materialize(r: ReturnType<typeof load>): Map<string, Float32Array> {
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return new Map([...r.weights.keys()].map((k) => [k, r.weights.get(k)!]));
}

function expectSame(got: Map<string, Float32Array>, want: Map<string, Float32Array>, round = (x: number) => x): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect([...got.get(k)!], k).toEqual([...v].map(round));
}

const errorsOf = (r: ReturnType<typeof load>) => (r.ok ? [] : r.errors.map((e) => e.message));

describe("Hugging Face checkpoint directories bind to the canonical weights", () => {
  it("Mixtral, one model.safetensors in F32: every tensor exactly, names recognised as hf:mixtral", () => {
    const dir = fresh();
    writeHfCheckpoint(dir, mixtralHf(), { config: { model_type: "mixtral" } });
    const r = load(mixtralProgram, dir);
    expect(r.ok && r.convention).toBe("hf:mixtral");
    expect(r.ok && r.unused).toEqual([]);
    expectSame(materialize(r), mixtralWeights);
  });

  it("Mixtral in 3 BF16 shards with an index: the bf16-rounded weights", () => {
    const dir = fresh();
    const files = writeHfCheckpoint(dir, mixtralHf(), { dtype: "BF16", shards: 3 });
    expect(files).toContain("model-00003-of-00003.safetensors");
    expectSame(materialize(load(mixtralProgram, dir)), mixtralWeights, bf16Round);
  });

  it("DeepSeek-style, sharded: routed experts stacked, shared experts split from their concatenation, e_score_correction_bias as state", () => {
    const dir = fresh();
    writeHfCheckpoint(dir, deepseekHfTensors(deepseekWeights, DS), { shards: 2, config: { model_type: "deepseek_v3" } });
    const r = load(deepseek.program!, dir, {}, deepseek);
    expect(r.ok && r.convention).toBe("hf:deepseek");
    const got = materialize(r);
    expectSame(got, deepseekWeights);
    expect([...got.get("layers.1.mlp.r.e_bias")!]).toEqual([0.5, -0.25, 0.125, 1]);
  });

  it("a directory under moec's own names binds as they are (convention moec)", () => {
    const dir = fresh();
    mkdirSync(dir);
    const layout = canonicalLayout(mixtralProgram);
    const shapes = new Map([...layout.tensors, ...layout.poolTensors].map((t) => [t.name, t.shape]));
    writeFileSync(path.join(dir, "model.safetensors"), encodeSafetensors(Object.fromEntries([...mixtralWeights].map(([k, v]) => [k, { dtype: "F32" as const, shape: shapes.get(k)!, data: v }]))));
    const r = load(mixtralProgram, dir);
    expect(r.ok && r.convention).toBe("moec");
    expectSame(materialize(r), mixtralWeights);
  });

  it("tensors are read on demand: a shard truncated after opening fails when its tensor is read, naming the file", () => {
    const dir = fresh();
    writeHfCheckpoint(dir, mixtralHf(), { shards: 2 });
    const r = load(mixtralProgram, dir);
    if (!r.ok) throw new Error("expected ok");
    truncateSync(path.join(dir, "model-00002-of-00002.safetensors"), 200);
    let thrown: unknown;
    for (const k of r.weights.keys()) {
      try {
        r.weights.get(k);
      } catch (e) {
        thrown = e;
        break;
      }
    }
    expect(thrown).toBeInstanceOf(SafetensorsError);
    expect((thrown as Error).message).toContain("model-00002-of-00002.safetensors");
  });

  it("progress counts each tensor's file bytes once, up to the checkpoint's total", () => {
    const dir = fresh();
    writeHfCheckpoint(dir, mixtralHf(), { dtype: "F16" });
    const seen: number[] = [];
    const r = load(mixtralProgram, dir, { onProgress: (p) => seen.push(p.loadedBytes) });
    if (!r.ok) throw new Error("expected ok");
    let elements = 0;
    for (const v of mixtralWeights.values()) elements += v.length;
    expect(r.weights.totalBytes).toBe(2 * elements);
    for (const k of r.weights.keys()) r.weights.get(k), r.weights.get(k);
    expect(seen.length).toBe(r.weights.size);
    expect(seen.at(-1)).toBe(2 * elements);
  });
});

/** Raw safetensors bytes with one tensor of any dtype string (the writer refuses unknown ones). */
function rawShard(name: string, dtype: string, shape: number[], bytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ [name]: { dtype, shape, data_offsets: [0, bytes] } }));
  const out = new Uint8Array(8 + json.length + bytes);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  return out;
}

describe("bad checkpoints: each error names the tensor and the file", () => {
  const Q = "model.layers.1.self_attn.q_proj.weight";
  const withTensors = (edit: (t: HfTensors) => void, opts = {}) => {
    const t = mixtralHf();
    edit(t);
    const dir = fresh();
    writeHfCheckpoint(dir, t, opts);
    return dir;
  };

  it("a missing tensor", () => {
    const errs = errorsOf(load(mixtralProgram, withTensors((t) => t.delete(Q))));
    expect(errs).toEqual([expect.stringMatching(new RegExp(`^Missing tensor ${Q.replace(/\./g, "\\.")} in .*c\\d+ \\(moec layers\\.1\\.self_attn\\.wq; hf:mixtral names.*\\); expected shape \\[16, 16\\]`))]);
  });

  it("a wrong shape, naming the shard", () => {
    const errs = errorsOf(load(mixtralProgram, withTensors((t) => t.set(Q, { shape: [16, 8], data: new Float32Array(128) }), { shards: 2 })));
    expect(errs).toEqual([expect.stringMatching(/^Tensor model\.layers\.1\.self_attn\.q_proj\.weight in .*model-0000[12]-of-00002\.safetensors has shape \[16, 8\]; expected \[16, 16\] \(moec layers\.1\.self_attn\.wq\)\.$/)]);
  });

  it("an index file that is not JSON, or whose weight_map is not an object, or that names a path outside the directory", () => {
    for (const [text, want] of [
      ["{ weight_map: ", /model\.safetensors\.index\.json: not valid JSON/],
      [JSON.stringify({ weight_map: [1] }), /"weight_map" must be an object from tensor names to shard files; found an array/],
      [JSON.stringify({ weight_map: { [Q]: 3 } }), /"weight_map" entry "model\.layers\.1\.self_attn\.q_proj\.weight" must name a shard file; found number 3/],
      [JSON.stringify({ weight_map: { [Q]: "../model.safetensors" } }), /names "\.\.\/model\.safetensors"; shards must be files in the checkpoint directory itself/],
    ] as const) {
      const dir = withTensors(() => {}, { shards: 2 });
      writeFileSync(path.join(dir, "model.safetensors.index.json"), text);
      expect(errorsOf(load(mixtralProgram, dir))).toEqual([expect.stringMatching(want)]);
    }
  });

  it("an index naming a shard that is absent", () => {
    const dir = withTensors(() => {}, { shards: 3 });
    rmSync(path.join(dir, "model-00002-of-00003.safetensors"));
    expect(errorsOf(load(mixtralProgram, dir))).toEqual([expect.stringMatching(/model\.safetensors\.index\.json lists shard model-00002-of-00003\.safetensors for \d+ tensors \(model\..*, …\), but .*model-00002-of-00003\.safetensors is absent\.$/)]);
  });

  it("a truncated shard, naming the shard and a tensor beyond its end", () => {
    const dir = withTensors(() => {}, { shards: 2 });
    const file = path.join(dir, "model-00001-of-00002.safetensors");
    truncateSync(file, readFileSync(file).length - 10);
    const errs = errorsOf(load(mixtralProgram, dir));
    expect(errs).toEqual([expect.stringMatching(/model-00001-of-00002\.safetensors: tensor "[^"]+": data_offsets .* ends beyond the data section .*\(truncated file\?\)/)]);
  });

  it("an index and its shards that disagree", () => {
    const dir = withTensors(() => {}, { shards: 2 });
    const index = JSON.parse(readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
    const [first] = Object.keys(index.weight_map);
    index.weight_map[first!] = index.weight_map[first!] === "model-00001-of-00002.safetensors" ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
    writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify(index));
    const errs = errorsOf(load(mixtralProgram, dir));
    expect(errs).toContainEqual(expect.stringMatching(new RegExp(`puts tensor ${first!.replace(/\./g, "\\.")} in model-0000\\d-of-00002\\.safetensors, but .* does not hold it`)));
    expect(errs).toContainEqual(expect.stringMatching(new RegExp(`holds tensor ${first!.replace(/\./g, "\\.")}, which .*index\\.json does not list`)));
  });

  it("unsupported dtypes (I8, U8, packed 4-bit) name the tensor and its shard; F8_E4M3 without a quantization_config is not a float weight", () => {
    {
      const dir = withTensors((t) => t.delete(Q), { shards: 2 });
      const index = JSON.parse(readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
      index.weight_map[Q] = "model-00003-of-00003.safetensors";
      writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify(index));
      writeFileSync(path.join(dir, "model-00003-of-00003.safetensors"), rawShard(Q, "F8_E4M3", [16, 16], 256));
      expect(errorsOf(load(mixtralProgram, dir))).toEqual([expect.stringMatching(new RegExp(`Tensor ${Q.replace(/\./g, "\\.")} in .*model-00003-of-00003\\.safetensors has dtype F8_E4M3; weights must be F32, F16 or BF16`))]);
    }
    for (const dtype of ["I8", "U8", "I4"]) {
      const dir = withTensors((t) => t.delete(Q), { shards: 2 });
      const index = JSON.parse(readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
      index.weight_map[Q] = "model-00003-of-00003.safetensors";
      writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify(index));
      writeFileSync(path.join(dir, "model-00003-of-00003.safetensors"), rawShard(Q, dtype, [16, 16], dtype === "I4" ? 128 : 256));
      expect(errorsOf(load(mixtralProgram, dir))).toEqual([expect.stringMatching(new RegExp(`model-00003-of-00003\\.safetensors: tensor "${Q.replace(/\./g, "\\.")}": unsupported dtype ${dtype}`))]);
    }
  });

  it("an integer tensor where a weight belongs", () => {
    const dir = fresh();
    const t = mixtralHf();
    writeHfCheckpoint(dir, t);
    const entries = Object.fromEntries([...t].map(([k, v]) => [k, k === Q ? { dtype: "I32" as const, shape: v.shape, data: new Int32Array(v.data.length) } : { dtype: "F32" as const, shape: v.shape, data: v.data }]));
    writeFileSync(path.join(dir, "model.safetensors"), encodeSafetensors(entries));
    expect(errorsOf(load(mixtralProgram, dir))).toEqual([expect.stringMatching(/^Tensor model\.layers\.1\.self_attn\.q_proj\.weight in .*model\.safetensors has dtype I32; weights must be F32, F16 or BF16\.$/)]);
  });

  it("a quantization_config moec cannot read, and a config that is not JSON", () => {
    const q = withTensors(() => {}, { config: { model_type: "mixtral", quantization_config: { quant_method: "hqq" } } });
    expect(errorsOf(load(mixtralProgram, q))).toEqual([expect.stringMatching(/config\.json: quantization_config\.quant_method "hqq" cannot be read: moec reads gptq, awq, fp8/)]);
    const bad = withTensors(() => {});
    writeFileSync(path.join(bad, "config.json"), "{");
    expect(errorsOf(load(mixtralProgram, bad))).toEqual([expect.stringMatching(/config\.json: not valid JSON/)]);
  });

  it("no model.safetensors or index; a checkpoint under neither moec nor HF names (suggests --weights-as)", () => {
    const empty = fresh();
    writeHfCheckpoint(empty, new Map(), { config: {} });
    rmSync(path.join(empty, "model.safetensors"));
    expect(errorsOf(load(mixtralProgram, empty))).toEqual([expect.stringMatching(/no model\.safetensors or model\.safetensors\.index\.json in the directory/)]);
    const other = withTensors((t) => {
      for (const [k, v] of [...t]) t.set(k.replace(/^model\./, "transformer."), v), t.delete(k);
    });
    expect(errorsOf(load(mixtralProgram, other))).toEqual([expect.stringMatching(/none of its \d+ tensors .* is a weight of `mixtral_8x7b` under moec names .* or the Hugging Face names of hf:mixtral, .*--weights-as hf:FAMILY/)]);
  });

  it("--weights-as a family whose names the checkpoint does not use: every tensor missing, named", () => {
    const dir = withTensors(() => {});
    const r = load(mixtralProgram, dir, { names: hfCheckpointNames(mixtral, { family: "olmoe" }), forceNames: true });
    expect(errorsOf(r)[0]).toMatch(/^Missing tensor model\.layers\.0\.mlp\.experts\.0\.gate_proj\.weight .*hf:olmoe names/);
  });

  it("tensors the program does not use are listed, not refused", () => {
    const dir = withTensors((t) => t.set("model.layers.0.self_attn.rotary_emb.inv_freq", { shape: [2], data: new Float32Array(2) }));
    const r = load(mixtralProgram, dir);
    expect(r.ok && r.unused).toEqual(["model.layers.0.self_attn.rotary_emb.inv_freq"]);
  });
});

describe("checkpoint directory fuzz", () => {
  it("mutated index files, shard headers and truncations: named errors or the right weights, never a crash", () => {
    const base = fresh();
    writeHfCheckpoint(base, mixtralHf(), { shards: 2 });
    const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"];
    const original = new Map(files.map((f) => [f, readFileSync(path.join(base, f))]));
    const rand = rng(2024);
    let ok = 0, failed = 0;
    for (let i = 0; i < 150; i++) {
      const dir = fresh();
      writeHfCheckpoint(dir, new Map(), {});
      rmSync(path.join(dir, "model.safetensors"));
      for (const [f, b] of original) writeFileSync(path.join(dir, f), b);
      const f = files[Math.floor(rand() * files.length)]!;
      const bytes = Buffer.from(original.get(f)!);
      const what = Math.floor(rand() * 4);
      let mutated: Buffer;
      if (what === 0) mutated = bytes.subarray(0, Math.floor(rand() * bytes.length)); // truncate
      else if (what === 1) {
        // flip bytes in the first 600 (header / JSON)
        mutated = Buffer.from(bytes);
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) mutated[Math.floor(rand() * Math.min(600, mutated.length))] = Math.floor(rand() * 256);
      } else if (what === 2) {
        // a JSON-aware edit: a digit or a quote somewhere in the text
        const s = bytes.toString("latin1"), at = Math.floor(rand() * s.length);
        mutated = Buffer.from(s.slice(0, at) + ["1", "\"", "]", "9", ""][Math.floor(rand() * 5)] + s.slice(at + 1), "latin1");
      } else {
        rmSync(path.join(dir, f));
        mutated = Buffer.alloc(0);
      }
      if (what !== 3) writeFileSync(path.join(dir, f), mutated);
      let r: ReturnType<typeof load>;
      try {
        r = load(mixtralProgram, dir);
      } catch (e) {
        throw new Error(`case ${i} (${f}, mutation ${what}) threw instead of reporting: ${(e as Error).stack}`);
      }
      if (!r.ok) {
        failed++;
        for (const e of r.errors) expect(e.message.length, `case ${i}`).toBeGreaterThan(10);
        continue;
      }
      ok++;
      // A mutation the reader accepts (whitespace in JSON, a changed value byte) still reads whole.
      for (const k of r.weights.keys()) {
        try {
          expect(r.weights.get(k)!.length).toBe(mixtralWeights.get(k)!.length);
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw e;
        }
      }
    }
    expect(failed).toBeGreaterThan(50);
    expect(ok + failed).toBe(150);
  });
});
