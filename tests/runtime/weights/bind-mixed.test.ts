// The binder on heterogeneous pools: per-member names only (`E.j.PARAM`, LANGUAGE.md §7), checked
// against each member's kind and size; the names `moec info` lists bind; every file form writes
// per-member tensors; missing, extra and mis-shaped members are errors naming the tensor.
import { describe, expect, it } from "vitest";
import { lowerEntry } from "../../../compiler/driver.js";
import { compile } from "../../../compiler/index.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors, type TensorData } from "../../../runtime/safetensors/writer.js";
import { bindWeights } from "../../../runtime/weights/bind-weights.js";
import { canonicalLayout } from "../../../runtime/weights/canonical-layout.js";
import { canonicalToFile } from "../../../runtime/weights/canonical-to-file.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";

const SOURCE = `layer mixed(x: [T, D], D = 8) {
  experts E = [ffn(hidden = 6), lowrank(rank = 3), atom(act = swiglu), identity(), ffn(hidden = 4, act = relu, bias = true)]
  router r = linear |> softmax |> topk(2)
  return moe(x, r, E)
}`;
const program = (() => {
  const c = compile({ source: SOURCE });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
})();
const file = (entries: Map<string, TensorData>) => readSafetensors(encodeSafetensors(Object.fromEntries(entries)), "w.safetensors");

describe("heterogeneous pools in the weight binder", () => {
  it("lists one tensor per member parameter with the member's shape", () => {
    const t = new Map(canonicalLayout(program).tensors.map((s) => [s.name, s.shape]));
    expect(Object.fromEntries([...t].filter(([n]) => n.startsWith("E.")))).toEqual({
      "E.0.w_gate": [6, 8], "E.0.w_up": [6, 8], "E.0.w_down": [8, 6],
      "E.1.a": [3, 8], "E.1.b": [8, 3],
      "E.2.u_gate": [8], "E.2.u_up": [8], "E.2.v": [8],
      "E.4.w_up": [4, 8], "E.4.w_down": [8, 4], "E.4.b_up": [4], "E.4.b_down": [8],
    });
  });

  it("binds the weight names moec info lists", () => {
    const r = lowerEntry(["inline.moe"], { host: { readFile: () => SOURCE } });
    const info = r.info!;
    const entries = new Map<string, TensorData>();
    for (const w of info.weights) entries.set(w.name, { dtype: "F32", shape: w.shape, data: new Array(w.shape.reduce((a, d) => a * d, 1)).fill(0.5) });
    const b = bindWeights(program, file(entries));
    expect(b.ok ? [] : b.errors.map((e) => e.message)).toEqual([]);
  });

  it("round-trips random weights through every file form", () => {
    const canon = randomWeights(program, 3);
    for (const form of ["stacked", "per-member", "coarse", "stacked-coarse"] as const) {
      const r = bindWeights(program, file(canonicalToFile(program, canon, form)));
      if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
      for (const [k, v] of canon) expect(Array.from(r.weights.get(k)!), `${form} ${k}`).toEqual(Array.from(v));
    }
  });

  it("names a missing member tensor, a stacked one and a tensor the member's kind does not have", () => {
    const entries = canonicalToFile(program, randomWeights(program, 4), "per-member");
    entries.delete("E.1.a");
    entries.set("E.w_up", { dtype: "F32", shape: [5, 6, 8], data: new Array(240).fill(0) });
    entries.set("E.3.w_up", { dtype: "F32", shape: [6, 8], data: new Array(48).fill(0) });
    entries.set("E.2.v", { dtype: "F32", shape: [9], data: new Array(9).fill(0) });
    const r = bindWeights(program, file(entries));
    expect(r.ok).toBe(false);
    const text = r.ok ? "" : r.errors.map((e) => e.message).join("\n");
    expect(text).toContain("Missing tensor E.1.a in w.safetensors (pool E member 1 (lowrank)); expected shape [3, 8]");
    expect(text).toContain("E.w_up in w.safetensors is not used by the program: pool E is heterogeneous (5 members), so its tensors are named per member");
    expect(text).toContain("E.3.w_up in w.safetensors is not used by the program: member 3 of pool E is identity(), which has no weights");
    expect(text).toContain("Tensor E.2.v in w.safetensors has shape [9]; expected [8]");
  });
});
