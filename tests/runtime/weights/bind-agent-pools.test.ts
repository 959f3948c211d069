// The binder on pools that list layers (agents as experts, LANGUAGE.md §11.1): the names `moec info`
// lists (`A.0.E.3.w_gate`, `A.0.r.weight`, an expert-kind member's `A.1.w_up [I, D]`) bind, the
// members' pools round-trip through the file forms, and a missing member tensor is named.
import { describe, expect, it } from "vitest";
import { lowerEntry } from "../../../compiler/driver.js";
import { compile } from "../../../compiler/index.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors, type TensorData } from "../../../runtime/safetensors/writer.js";
import { bindWeights } from "../../../runtime/weights/bind-weights.js";
import { canonicalToFile } from "../../../runtime/weights/canonical-to-file.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";

const SOURCE = `layer moe2(x: [T, D], D = 8, N = 4, I = 6) {
  experts E[N] = ffn(hidden = I)
  router r = linear |> softmax |> topk(2)
  return moe(x, r, E)
}
layer agents(x: [T, D], D = 8) {
  experts A = [moe2(), ffn(hidden = 4), identity()]
  router r = linear |> softmax |> topk(1)
  return moe(x, r, A)
}`;
const program = (() => {
  const c = compile({ source: SOURCE, entry: "agents" });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
})();
const file = (entries: Map<string, TensorData>) => readSafetensors(encodeSafetensors(Object.fromEntries(entries)), "w.safetensors");

describe("pools of layers in the weight binder", () => {
  it("binds the weight names moec info lists", () => {
    const info = lowerEntry(["inline.moe"], { host: { readFile: () => SOURCE }, entry: "agents" }).info!;
    const names = info.weights.map((w) => w.name);
    expect(names).toEqual(expect.arrayContaining(["r.weight", "A.0.r.weight", "A.0.E.0.w_gate", "A.1.w_up"]));
    expect(info.weights.find((w) => w.name === "A.1.w_up")!.shape).toEqual([4, 8]);
    const entries = new Map<string, TensorData>();
    for (const w of info.weights) entries.set(w.name, { dtype: "F32", shape: w.shape, data: new Array(w.shape.reduce((a, d) => a * d, 1)).fill(0.5) });
    const b = bindWeights(program, file(entries));
    expect(b.ok ? [] : b.errors.map((e) => e.message)).toEqual([]);
  });

  it("round-trips random weights through the stacked and per-member forms", () => {
    const canon = randomWeights(program, 3);
    expect([...canon.keys()]).toEqual(expect.arrayContaining(["A.0.E.w_gate", "A.1.w_up"]));
    for (const form of ["stacked", "per-member"] as const) {
      const r = bindWeights(program, file(canonicalToFile(program, canon, form)));
      if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
      for (const [k, v] of canon) expect(Array.from(r.weights.get(k)!), `${form} ${k}`).toEqual(Array.from(v));
    }
  });

  it("names a missing member tensor", () => {
    const entries = canonicalToFile(program, randomWeights(program, 4), "stacked");
    entries.delete("A.0.E.w_down");
    const r = bindWeights(program, file(entries));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.message).join("\n")).toContain("A.0.E");
  });
});
