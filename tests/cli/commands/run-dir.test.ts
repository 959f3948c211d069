// `moec import` + the checkpoint loader against the hand-written programs: for a tiny checkpoint
// of each family (tests/helpers/tiny-families.ts, written in Hugging Face's layout), the program
// `moec import` makes from its config.json, with the weights read from the directory through the
// family's names, gives the logits of the hand-written program (examples/models/*.moe at the
// config's sizes) with the same weights placed by the test's own translation — and both match
// ONNX Runtime's decoder (tests/runtime/executor/onnx-families.test.ts holds the ORT side per
// family). `moec run DIR` imports on the fly and reads the weights from DIR.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { hfCheckpointNames } from "../../../compiler/hf/checkpoint-names.js";
import { importHfConfig } from "../../../compiler/hf/import/import-config.js";
import { readSafetensors, resolveWeightsDetailed } from "../../../runtime/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { FAMILIES, T, V, ids, type Family } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-run-dir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// DeepSeekMoE's own config (model_type `deepseek`, trust_remote_code) is not one `moec import` reads.
const IMPORTABLE = FAMILIES.filter((f) => f.hf.model_type !== "deepseek");

/** Writes the family's checkpoint once; returns its directory. */
function checkpoint(f: Family, seed: number): string {
  const dir = path.join(root, f.hf.model_type);
  if (!existsSync(dir)) writeHfCheckpoint(dir, f.hf, hfWeights(f.hf, seed));
  return dir;
}

/** The hand-written program's float64 logits, its weights placed by the test's translation. */
function handWritten(f: Family, seed: number): Float64Array | Float32Array {
  const c = compile(f.moec);
  if (!c.ok) throw new Error(c.formatDiagnostics());
  const w = canonicalFromHf(c.program!, c.info!.instance, f.map, hfWeights(f.hf, seed));
  return interpretReference(c.program!, w, new Map([["tokens", ids]]), T).get("logits")!;
}

describe("moec import + the checkpoint loader = the hand-written program (float64 reference)", () => {
  IMPORTABLE.forEach((f, i) => {
    it(`${f.hf.model_type}: the imported program on the directory's weights gives the same logits`, async () => {
      const seed = 300 + i;
      const dir = checkpoint(f, seed);
      const imported = await importHfConfig(readFileSync(path.join(dir, "config.json"), "utf8"), "config.json");
      const c = compile({ source: imported.text, file: path.join(dir, "imported.moe") });
      expect(c.ok, c.formatDiagnostics()).toBe(true);
      const names = hfCheckpointNames(c.info!.instance, c.info!.name, { family: imported.family });
      const loaded = resolveWeightsDetailed(c.program!, { weights: dir, checkpointNames: names, forceCheckpointNames: true });
      expect(loaded.checkpoint?.unused ?? []).toEqual([]);
      const got = interpretReference(c.program!, loaded.weights, new Map([["tokens", ids]]), T).get("logits")!;
      const want = handWritten(f, seed);
      expect(got.length).toBe(T * V);
      expect(compare(got, want).maxAbs).toBeLessThan(1e-9);
    });
  });

  it("a config moec import does not read is refused by name (DeepSeekMoE's remote-code `deepseek`)", async () => {
    const f = FAMILIES.find((x) => x.hf.model_type === "deepseek")!;
    const r = await moec(["run", checkpoint(f, 1), "--input-ids", "1,2"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model_type.*deepseek/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("moec run DIR without weights in DIR says so (exit 2); a missing directory is exit 1", async () => {
    const f = IMPORTABLE[0]!;
    const bare = path.join(root, "config-only");
    writeHfCheckpoint(bare, f.hf, hfWeights(f.hf, 1));
    rmSync(path.join(bare, "model.safetensors"));
    const r = await moec(["run", bare, "--input-ids", "1,2"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has no model\.safetensors or model\.safetensors\.index\.json beside it/);
    const gone = await moec(["run", path.join(root, "nowhere"), "--random-weights", "--input-ids", "1"]);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/cannot read file/);
  });
});

describeGpu("moec run DIR on the GPU", () => {
  for (const type of ["mixtral", "deepseek_v3"]) {
    itGpu(`${type}: moec run DIR = moec run <example> --set … --weights DIR, bit for bit, and = the float64 reference`, async () => {
      const i = IMPORTABLE.findIndex((x) => x.hf.model_type === type);
      const f = IMPORTABLE[i]!;
      const seed = 300 + i;
      const dir = checkpoint(f, seed);
      const a = path.join(root, `${type}-dir.safetensors`), b = path.join(root, `${type}-example.safetensors`);
      const idArg = Array.from(ids).join(",");
      const viaDir = await moec(["run", dir, "--input-ids", idArg, "--output", a]);
      expect(viaDir.code, viaDir.err).toBe(0);
      expect(viaDir.err).not.toMatch(/warning/);
      const set = Object.entries(f.moec.set!).map(([k, v]) => `${k}=${v}`);
      const viaExample = await moec(["run", path.resolve(f.moec.file!), "--set", ...set, "--weights", dir, "--input-ids", idArg, "--output", b]);
      expect(viaExample.code, viaExample.err).toBe(0);
      const got = readSafetensors(a).tensors.get("logits")!, want = readSafetensors(b).tensors.get("logits")!;
      expect(got.shape).toEqual([T, V]);
      expect(Buffer.from(got.bytes).equals(Buffer.from(want.bytes))).toBe(true);
      expect(compare(readSafetensors(a).getF32("logits"), handWritten(f, seed)).maxAbs).toBeLessThan(1e-4);
    }, 300_000);
  }
});

describeGpu("moec bench DIR", () => {
  itGpu("benches the imported architecture with random weights (the published config shrunk by --set)", async () => {
    const cfg = path.resolve("tests/fixtures/hf-configs/mixtral");
    const r = await moec(["bench", cfg, "--set", "V=64", "D=32", "L=2", "H=4", "KV=2", "N=4", "I=16", "--tokens", "4", "--iterations", "1", "--warmup", "0", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.entry).toBe("mixtral");
    // By hand: embed and lm_head 2·64·32, final norm 32; per layer q and o 32·32 each, k and v 32·16
    // each (2 kv heads of 8), two norms 2·32, router 4·32, experts 4·3·16·32.
    expect(j.params).toBe(2 * 64 * 32 + 32 + 2 * (2 * 1024 + 2 * 512 + 64 + 128 + 4 * 3 * 16 * 32));
  }, 240_000);
});
