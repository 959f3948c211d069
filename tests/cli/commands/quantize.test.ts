// `moec quantize`, `moec info FILE.gguf` and `moec run --weights FILE.gguf`: a tiny Mixtral
// checkpoint quantized to Q8_0; info's bytes against hand arithmetic (ggml's 34-byte Q8_0 block of
// 32 values); usage and input errors named without a stack or a partial file; on the GPU, the
// logits of `moec run DIR --weights out.gguf` against the float64 reference on the dequantized
// weights.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { hfCheckpointNames } from "../../../compiler/hf/checkpoint-names.js";
import { readSafetensors } from "../../../runtime/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { loadGgufFile } from "../../../runtime/weights/gguf/load-gguf.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { compare } from "../../helpers/numerics.js";
import { FAMILIES, T, V, ids } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-quantize-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mixtral = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
const dir = path.join(root, "mixtral");
writeHfCheckpoint(dir, mixtral.hf, hfWeights(mixtral.hf, 42));
const gguf = path.join(root, "mixtral-q8_0.gguf");

describe("moec quantize", () => {
  it("writes a GGUF whose moec info bytes are ggml's block arithmetic", async () => {
    const r = await moec(["quantize", dir, "--to", "q8_0", "-o", gguf]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^wrote .*mixtral-q8_0\.gguf \(llama, /);
    // w2 [D = 32, I = 16]: rows of 16 are not whole Q8_0 blocks, so the down experts are F16.
    expect(r.err).toMatch(/note: 2 matrices have rows that are not whole q8_0 blocks, written F16: blk\.0\.ffn_down_exps\.weight/);
    const info = await moec(["info", gguf, "--json"]);
    expect(info.code, info.err).toBe(0);
    const j = JSON.parse(info.out);
    expect(j.architecture).toBe("llama");
    const t = (n: string) => j.tensors.find((x: { name: string }) => x.name === n);
    // attn_q [32, 32]: 32 rows of one block each = 32·34 bytes; f32 32·32·4.
    expect(t("blk.0.attn_q.weight")).toMatchObject({ type: "Q8_0", shape: [32, 32], bytes: 32 * 34, f32_bytes: 4096 });
    // 4 experts of w1 [16, 32]: 4·16 rows of one block.
    expect(t("blk.1.ffn_gate_exps.weight")).toMatchObject({ type: "Q8_0", shape: [4, 16, 32], bytes: 64 * 34, f32_bytes: 4 * 16 * 32 * 4 });
    expect(t("blk.1.ffn_down_exps.weight")).toMatchObject({ type: "F16", shape: [4, 32, 16], bytes: 4 * 32 * 16 * 2 });
    expect(t("blk.0.ffn_gate_inp.weight")).toMatchObject({ type: "F32", shape: [4, 32] });
    expect(t("output_norm.weight")).toMatchObject({ type: "F32", shape: [32], bytes: 128 });
    const text = await moec(["info", gguf]);
    expect(text.out).toMatch(/GGUF v3, architecture llama, \d+ tensors, alignment 32/);
    expect(text.out).toMatch(/dequantized to f32 \(load\)/);
  });

  it("refuses bad flags (exit 2) and bad input (exit 1) by name, leaving no file", async () => {
    const out = path.join(root, "bad.gguf");
    expect((await moec(["quantize", dir, "--to", "q3_k", "-o", out])).err).toMatch(/--to takes q8_0, q4_0, q4_k, found `q3_k`/);
    expect((await moec(["quantize", dir, "--to", "q8_0"])).code).toBe(2);
    const notDir = await moec(["quantize", path.join(root, "nowhere"), "--to", "q8_0", "-o", out]);
    expect(notDir.code).toBe(1);
    expect(notDir.err).toMatch(/nowhere is not a checkpoint directory/);
    const other = path.join(root, "deepseek");
    writeHfCheckpoint(other, { ...mixtral.hf, model_type: "deepseek_v3" } as never, hfWeights(mixtral.hf, 1));
    const ds = await moec(["quantize", other, "--to", "q8_0", "-o", out]);
    expect(ds.code).toBe(1);
    expect(ds.err).toMatch(/model_type "deepseek_v3" has no GGUF layout in moec/);
    const unwritable = await moec(["quantize", dir, "--to", "q8_0", "-o", path.join(root, "no-such-dir", "x.gguf")]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.err).toMatch(/-o .*no-such-dir\/x\.gguf: the directory .*no-such-dir does not exist/); // checked before quantizing
    expect(unwritable.err).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("moec info on a broken GGUF names the problem (exit 1)", async () => {
    const bad = path.join(root, "broken.gguf");
    writeFileSync(bad, "GGUF\x03\x00\x00\x00garbage");
    const r = await moec(["info", bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.gguf: .*(truncated|corrupt|too short)/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describeGpu("moec run --weights FILE.gguf", () => {
  itGpu("gives the float64 reference's logits on the GGUF's dequantized weights", async () => {
    if (!existsSync(gguf)) expect((await moec(["quantize", dir, "--to", "q8_0", "-o", gguf])).code).toBe(0);
    const out = path.join(root, "logits.safetensors");
    const r = await moec(["run", dir, "--weights", gguf, "--input-ids", Array.from(ids).join(","), "--output", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/warning/);
    // The reference: the same imported program, the GGUF's tensors dequantized by the loader
    // (whose names, stacking and un-permutation tests/runtime/weights/gguf checks independently).
    const imported = await (await import("../../../compiler/hf/import/import-config.js")).importHfConfig(JSON.stringify(mixtral.hf), "config.json");
    const c = compile({ source: imported.text, file: path.join(dir, "imported.moe") });
    const loaded = await loadGgufFile(c.program!, gguf, { names: hfCheckpointNames(c.info!.instance, c.info!.name, { family: imported.family }), forceNames: true });
    if (!loaded.ok) throw new Error(loaded.errors[0]!.message);
    const want = interpretReference(c.program!, loaded.weights, new Map([["tokens", ids]]), T).get("logits")!;
    const got = readSafetensors(out).getF32("logits");
    expect(got.length).toBe(T * V);
    expect(compare(got, want).maxAbs).toBeLessThan(1e-4);
  }, 300_000);
});
