// `moec run MODEL.moe --weights DIR` on a Hugging Face checkpoint directory: logits equal those
// of the same weights as a canonical moec-named file (bitwise), progress only on a terminal, a
// model too big for --device-memory refused, and every bad checkpoint fails with its error named
// and nothing written to --output. The library path is tests/runtime/weights/gpu-checkpoint-dir.test.ts.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { main } from "../../../cli/main.js";
import { readSafetensors } from "../../../runtime/index.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { mixtralHfTensors, writeCanonicalFile, writeHfCheckpoint } from "../../helpers/hf-checkpoint.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-run-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MODEL = path.resolve("examples/models/mixtral_8x7b.moe");
const S = { V: 32, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 };
const SET = ["--set", ...Object.entries(S).map(([k, v]) => `${k}=${v}`)];
const c = compile({ file: MODEL, set: S });
if (!c.ok) throw new Error(c.formatDiagnostics());
const program = c.program!;
const weights = randomWeights(program, 3);
const IDS = [1, 5, 9, 30, 2];

function checkpoint(name: string, opts: Parameters<typeof writeHfCheckpoint>[2] = {}): string {
  const dir = path.join(root, name);
  writeHfCheckpoint(dir, mixtralHfTensors(weights, S), { config: { model_type: "mixtral" }, ...opts });
  return dir;
}

const canonicalFile = (name: string) => writeCanonicalFile(path.join(root, name), program, weights);

describeGpu("HF checkpoint directories on the GPU", () => {
  itGpu("moec run MODEL --weights DIR --input-ids … --output writes logits [T, V] equal to --weights FILE", async () => {
    const dir = checkpoint("cli", { shards: 2 });
    const out = path.join(root, "cli-out.safetensors"), outFile = path.join(root, "cli-file.safetensors");
    const a = await moec(["run", MODEL, ...SET, "--weights", dir, "--input-ids", IDS.join(","), "--output", out]);
    expect(a.err).not.toMatch(/warning/);
    expect(a.code, a.err).toBe(0);
    const b = await moec(["run", MODEL, ...SET, "--weights", canonicalFile("cli.safetensors"), "--input-ids", IDS.join(","), "--output", outFile]);
    expect(b.code, b.err).toBe(0);
    const got = readSafetensors(out).tensors.get("logits")!, want = readSafetensors(outFile).tensors.get("logits")!;
    expect(got.shape).toEqual([IDS.length, S.V]);
    expect(Buffer.from(got.bytes).equals(Buffer.from(want.bytes))).toBe(true);
    const refused = await moec(["run", MODEL, ...SET, "--weights", dir, "--device-memory", "1000", "--input-ids", "1", "--output", path.join(root, "never.safetensors")]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/moec run: `mixtral_8x7b` needs at least \d+ bytes .* the device offers 1000 bytes/);
    expect(existsSync(path.join(root, "never.safetensors"))).toBe(false);
  }, 240_000);

  itGpu("on a terminal a progress line reports the bytes read and the rate; piped, stderr has none", async () => {
    const dir = checkpoint("progress", { dtype: "F16" });
    const lines: { text: string; done?: boolean }[] = [];
    let err = "";
    const io = { out: () => {}, err: (t: string) => void (err += t), color: false, cwd: process.cwd(), progress: (text: string, done?: boolean) => void lines.push({ text, done }) };
    expect(await main(["run", MODEL, ...SET, "--weights", dir, "--input-ids", "3"], io)).toBe(0);
    const elements = [...weights.values()].reduce((a, v) => a + v.length, 0);
    const last = lines.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.text).toMatch(new RegExp(`^moec run: loading weights: ${(2 * elements / 1e6).toFixed(1)} of ${(2 * elements / 1e6).toFixed(1)} MB \\(\\d+\\.\\d MB/s\\)$`));
    expect(err).not.toMatch(/MB\/s/);
  }, 240_000);
});

describe("moec run --weights DIR: bad checkpoints are named, nothing is written", () => {
  const run = (dir: string, extra: string[] = []) => {
    const out = path.join(root, `out-${path.basename(dir)}.safetensors`);
    return moec(["run", MODEL, ...SET, "--weights", dir, "--input-ids", "1,2", "--output", out, ...extra]).then((r) => ({ ...r, wrote: existsSync(out) }));
  };

  it("a missing tensor, a bad index, an absent shard, an unhonoured config field: exit 1, the problem named, no output file", async () => {
    const cases: [string, () => string, RegExp][] = [
      ["missing", () => {
        const d = checkpoint("bad-missing");
        const t = mixtralHfTensors(weights, S);
        t.delete("lm_head.weight");
        writeHfCheckpoint(d, t);
        return d;
      }, /Missing tensor lm_head\.weight in .*bad-missing \(moec lm_head\.weight; hf:mixtral names/],
      ["index", () => {
        const d = checkpoint("bad-index", { shards: 2 });
        writeFileSync(path.join(d, "model.safetensors.index.json"), "[]");
        return d;
      }, /model\.safetensors\.index\.json: must hold a JSON object; found an array/],
      ["shard", () => {
        const d = checkpoint("bad-shard", { shards: 2 });
        rmSync(path.join(d, "model-00001-of-00002.safetensors"));
        return d;
      }, /lists shard model-00001-of-00002\.safetensors .* is absent/],
      ["config", () => checkpoint("bad-config", { config: { model_type: "mixtral", quantization_config: { quant_method: "hqq" } } }), /quantization_config\.quant_method "hqq" cannot be read: moec reads gptq, awq, fp8/],
    ];
    for (const [what, make, want] of cases) {
      const r = await run(make());
      expect(r.code, what).toBe(1);
      expect(r.err, what).toMatch(/the weights do not fit `mixtral_8x7b`/);
      expect(r.err, what).toMatch(want);
      expect(r.err, what).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.wrote, what).toBe(false);
    }
  });

  it("--weights-as: an unknown family and a file instead of a directory are usage errors", async () => {
    const dir = checkpoint("as");
    const unknown = await run(dir, ["--weights-as", "hf:gpt2"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown Hugging Face family `gpt2`/);
    const bad = await run(dir, ["--weights-as", "torch"]);
    expect(bad.err).toMatch(/--weights-as takes `hf` or `hf:FAMILY`, found `torch`/);
    const file = await moec(["run", MODEL, ...SET, "--weights", canonicalFile("as.safetensors"), "--weights-as", "hf", "--input-ids", "1"]);
    expect(file.err).toMatch(/--weights-as reads a checkpoint directory/);
    for (const r of [unknown, bad, file]) expect(r.code).not.toBe(0);
  });
});
