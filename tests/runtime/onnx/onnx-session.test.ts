// OnnxProgramSession on a layer entry (f32 input `x` [T, D], output `y`) and on a model's token
// ids: the outputs against moec's float64 reference on the same weights, and the input checks
// that name the input, the position and the vocabulary before ONNX Runtime sees them.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { exportOnnx } from "../../../compiler/export/onnx/export-onnx.js";
import { OnnxInputError, OnnxProgramSession } from "../../../runtime/onnx/onnx-session.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { compare } from "../../helpers/numerics.js";
import { FAMILIES } from "../../helpers/tiny-families.js";

const repo = path.resolve(__dirname, "../../..");

describe("OnnxProgramSession", () => {
  it("a layer entry: y for x [T, D] equals the reference's", async () => {
    const c = compile({ file: path.join(repo, "examples/mixtral.moe"), set: { D: 16, I: 8 } });
    const p = c.program!;
    const w = randomWeights(p, 2);
    const T = 5;
    const x = Float32Array.from({ length: T * 16 }, (_, i) => Math.sin(i * 0.37));
    const s = await OnnxProgramSession.create(p, exportOnnx(p, (n) => w.get(n)!));
    try {
      const out = await s.run(new Map([["x", x]]), T);
      const ref = interpretReference(p, w, new Map([["x", x]]), T).get("y")!;
      expect(out.get("y")!.length).toBe(T * 16);
      expect(compare(out.get("y")!, ref).maxAbs).toBeLessThan(1e-5);
      await expect(s.run(new Map([["x", x.subarray(1)]]), T)).rejects.toThrow(new OnnxInputError("input `x` has 79 values, expected 80 (T = 5 × 16)"));
      await expect(s.run(new Map(), T)).rejects.toThrow(/input `x` of `mixtral_moe` is missing/);
    } finally {
      await s.release();
    }
  });

  it("a model: token ids outside the vocabulary are named with their position", async () => {
    const p = compile(FAMILIES[1]!.moec).program!;
    const w = randomWeights(p, 3);
    const s = await OnnxProgramSession.create(p, exportOnnx(p, (n) => w.get(n)!));
    try {
      await expect(s.run(new Map([["tokens", Int32Array.of(1, -1)]]), 2)).rejects.toThrow("token 1 of `tokens` is -1, outside the vocabulary 0…47");
    } finally {
      await s.release();
    }
  });
});
