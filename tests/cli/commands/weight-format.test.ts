// `--weight-format q8_0|q4_0|fp8_e4m3` on `moec run`, `generate` and `bench --decode`: the usage
// errors (exit 2, naming the flag), and on the GPU a tiny Mixtral's decode bench whose bytes per
// step count the attention projections and the LM head as blocks (hand arithmetic; at D = I = 128
// for fp8_e4m3, whose blocks are 128 long, so the experts are blocks too), and `moec run` whose
// logits stay near the f32 run's (within the Q8_0 error of the executor's tests).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import * as path from "node:path";
import { main } from "../../../cli/main.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { decodeFloats } from "../../../runtime/safetensors/dtype.js";
import { openSafetensors } from "../../../runtime/safetensors/reader.js";
import { quantizeForGpu } from "../../../runtime/weights/quant/gpu-blocks.js";
import { writeFp8Mixtral } from "../../helpers/fp8-checkpoint.js";
import { itGpu } from "../../helpers/gpu-context.js";
import { compare } from "../../helpers/numerics.js";
import { e4m3 } from "../../helpers/quant-packers.js";

const ROOT = path.resolve(__dirname, "../../..");
const tmp = mkdtempSync(path.join(tmpdir(), "moec-weight-format-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function moec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const MIXTRAL = ["examples/models/mixtral_8x7b.moe", "--set", "V=48", "D=32", "L=2", "H=4", "KV=2", "N=4", "I=16"];
// As bench-decode.test.ts: attention, norms, router, two experts per layer, an embedding row, the final norm, the LM head.
const WEIGHT_PARAMS = 2 * (3072 + 64 + 128 + 3072) + 32 + 32 + 48 * 32;
/** Device bytes of a [rows, 32] matrix as blocks: one block per row (32 bytes of int8 or 16 of nibbles) and half a scale word. */
const blockBytes = (f: "q8_0" | "q4_0", rows: number) => rows * (f === "q8_0" ? 32 : 16) + Math.ceil(rows / 2) * 4;
/** f32 bytes less block bytes: per layer wq [32, 32], wk and wv [16, 32], wo [32, 32]; the LM head [48, 32]. */
const saved = (f: "q8_0" | "q4_0") => 2 * (4 * 3072 - (2 * blockBytes(f, 32) + 2 * blockBytes(f, 16))) + (4 * 48 * 32 - blockBytes(f, 48));

describe("--weight-format", () => {
  it("refuses other values, and where it does not apply, by flag", async () => {
    const bad = await moec(["run", ...MIXTRAL, "--random-weights", "--input-ids", "1,2", "--weight-format", "q4_k"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--weight-format takes q8_0, q4_0, fp8_e4m3, found `q4_k`");
    const prefill = await moec(["bench", ...MIXTRAL, "--tokens", "4", "--weight-format", "q8_0"]);
    expect(prefill.code).toBe(2);
    expect(prefill.err).toContain("--weight-format applies to --decode");
    const onnx = await moec(["generate", ...MIXTRAL, "--random-weights", "--input-ids", "1,2", "--backend", "onnxruntime", "--weight-format", "q8_0"]);
    expect(onnx.code).toBe(2);
    expect(onnx.err).toContain("--weight-format applies to the WebGPU backend; drop --backend onnxruntime");
  });

  itGpu("bench --decode: the weights read per step are the blocks' bytes (hand arithmetic)", async () => {
    for (const f of ["q8_0", "q4_0"] as const) {
      const r = await moec(["bench", ...MIXTRAL, "--decode", "--context", "12", "--tokens", "2", "--weight-format", f, "--json"]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as { weightFormat: string; blockBytesSaved: { whole: number; routed: number; gathered: number }; bytesPerStep: { weights: number; weightParams: number } };
      expect(j.weightFormat).toBe(f);
      // The experts' rows (I = 16) are not whole blocks: they stay f32. The embedding [48, 32] is
      // blocks, but a step gathers one row of it, counted in f32 as before.
      expect(j.blockBytesSaved).toEqual({ whole: saved(f), routed: 0, gathered: 4 * 48 * 32 - blockBytes(f, 48) });
      expect(j.bytesPerStep.weightParams).toBe(WEIGHT_PARAMS);
      expect(j.bytesPerStep.weights).toBe(WEIGHT_PARAMS * 4 - saved(f));
    }
  }, 300_000);

  itGpu("run --last-logits: Q8_0 logits within 2% of the f32 run's largest", async () => {
    const logits = async (extra: string[]) => {
      const r = await moec(["run", ...MIXTRAL, "--random-weights", "--input-ids", "1,2,3", "--last-logits", ...extra]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      return r.out;
    };
    const f32 = await logits([]);
    const q8 = await logits(["--weight-format", "q8_0"]);
    // The printed summary: `max M` of the logits row; the quantized run's moves a little, not a lot.
    const max = (s: string) => Number(/max (-?[\d.]+)/.exec(s)![1]);
    expect(q8).not.toBe(f32);
    expect(Math.abs(max(q8) - max(f32))).toBeLessThan(0.02 * Math.abs(max(f32)));
  }, 300_000);

  itGpu("bench --decode --weight-format fp8_e4m3 (D = I = 128): attention, LM head, experts and embedding as FP8, bytes saved by hand", async () => {
    const r = await moec(["bench", "examples/models/mixtral_8x7b.moe", "--set", "V=48", "D=128", "L=2", "H=4", "KV=2", "N=4", "I=128", "--decode", "--context", "8", "--tokens", "2", "--weight-format", "fp8_e4m3", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { weightFormat: string; blockBytesSaved: { whole: number; routed: number; gathered: number } };
    expect(j.weightFormat).toBe("fp8_e4m3");
    // A [rows, 128] matrix: 4·128 bytes a row in f32, 128 + 4 as FP8. Per layer wq, wo [128, 128],
    // wk, wv [64, 128]; the experts' w_gate, w_up [4·128, 128] and w_down [4·128, 128]; the LM head and embedding [48, 128].
    const saved = (rows: number) => rows * (4 * 128 - 132);
    expect(j.blockBytesSaved).toEqual({ whole: 2 * (2 * saved(128) + 2 * saved(64)) + saved(48), routed: 2 * 3 * saved(512), gathered: saved(48) });
  }, 300_000);

  itGpu("run --weight-format fp8_e4m3 on an FP8 checkpoint: its weights as read (through run's non-finite check), logits = float64 on them", async () => {
    const dir = path.join(tmp, "fp8");
    const ck = writeFp8Mixtral(dir, 77, [128, 128]);
    const ids = [5, 11, 2, 40];
    const out = path.join(tmp, "fp8-logits.safetensors");
    const set = Object.entries(ck.set).map(([k, v]) => `${k}=${v}`);
    const r = await moec(["run", "examples/models/mixtral_8x7b.moe", "--set", ...set, "--weights", dir, "--weights-as", "hf:mixtral", "--input-ids", ids.join(","), "--weight-format", "fp8_e4m3", "--last-logits", "-o", out]);
    expect(r.err).toMatch(/^moec run: wrote logits to [^\n]*$/); // and no other line (no non-finite warning)
    expect(r.code).toBe(0);
    const t = openSafetensors(out).tensors.get("logits")!;
    const got = decodeFloats(t.dtype as "F32", t.read());
    // The embedding and LM head, F32 in the file, as the upload quantizes them (decoded by the format's definition).
    const want = new Map(ck.dequantized);
    for (const k of ["embed_tokens.weight", "lm_head.weight"]) {
      const x = want.get(k)!;
      const g = quantizeForGpu("fp8_e4m3", x, x.length / 128, 128, k);
      const s = new Float32Array(g.scales.buffer);
      want.set(k, Float32Array.from(x, (_, i) => Math.fround(e4m3((g.values[i >> 2]! >>> (8 * (i & 3))) & 0xff) * s[Math.floor(i / 128)]!)));
    }
    const ref = interpretReference(ck.program, want, new Map([["tokens", Int32Array.from(ids)]]), ids.length).get(ck.program.outputs[0]!.name)!.subarray((ids.length - 1) * ck.vocab);
    expect(compare(got, ref).maxAbs / Math.max(...Array.from(ref, Math.abs))).toBeLessThan(1e-5);
  }, 300_000);
});
