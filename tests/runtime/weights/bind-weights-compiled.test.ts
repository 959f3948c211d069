// The binder against programs the compiler lowers (LANGUAGE.md §12 at small sizes): the weight
// names `moec info` lists (per member, fine) must bind, and canonical weights written in every
// file form must bind back to themselves. This pins the compiler's names to the binder's.
import { describe, expect, it } from "vitest";
import { lowerEntry } from "../../../compiler/driver.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors, type TensorData } from "../../../runtime/safetensors/writer.js";
import { bindWeights } from "../../../runtime/weights/bind-weights.js";
import { canonicalToFile, type FileForm } from "../../../runtime/weights/canonical-to-file.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";

const FILE = new URL("../../fixtures/contract/section12.moe", import.meta.url).pathname;

const CASES: [string, Record<string, number>][] = [
  ["mixtral_moe", { D: 8, N: 4, I: 4 }],
  ["deepseek_moe", { D: 8, N: 4, I: 8, SI: 4 }],
  ["qwen_moe", { D: 8, N: 6, I: 4, SI: 8 }],
  ["deepseek_v3_moe", { D: 8, N: 16, I: 4 }],
  ["dynamic_moe", { D: 8, N: 4, I: 4 }],
  ["omni_moe", { D: 8, P: 4, SI: 4 }],
  ["chain_of_experts", { D: 8, N: 4, I: 4 }],
  ["expert_choice", { D: 8, N: 4, I: 4 }],
  ["smora", { D: 8, N: 8 }],
  ["mmoe", { D: 8, N: 4, I: 4 }],
  ["review", { D: 8 }],
  ["ensemble", { D: 8 }],
];

function lower(entry: string, set: Record<string, number>) {
  const r = lowerEntry([FILE], { entry, set });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => d.message)).toEqual([]);
  expect(r.program).toBeDefined();
  return { program: r.program!, info: r.info! };
}

describe.each(CASES)("%s", (entry, set) => {
  it("binds a file with the weight names moec info lists", () => {
    const { program, info } = lower(entry, set);
    const entries: Record<string, TensorData> = {};
    info.weights.forEach((w, i) => {
      if (w.state) return; // state may be absent: it defaults
      const n = w.shape.reduce((a, d) => a * d, 1);
      entries[w.name] = { dtype: "F16", shape: w.shape, data: Array.from({ length: n }, (_, k) => ((i * 31 + k) % 17) - 8) };
    });
    const r = bindWeights(program, readSafetensors(encodeSafetensors(entries), `${entry}.safetensors`));
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([]);
  });

  it.each<FileForm>(["stacked", "per-member", "coarse", "stacked-coarse"])("round-trips random weights in the %s form", (form) => {
    const { program } = lower(entry, set);
    const canon = randomWeights(program, 99);
    const file = readSafetensors(encodeSafetensors(canonicalToFile(program, canon, form)), `${entry}.${form}.safetensors`);
    const r = bindWeights(program, file);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect([...r.weights.keys()].sort()).toEqual([...canon.keys()].sort());
    // Bytewise (fast on the graphs' I = 1024 pools; deep equality over 65k floats is slow).
    const bytes = (a: Float32Array | undefined) => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : Buffer.alloc(0));
    for (const [k, v] of canon) expect(bytes(r.weights.get(k)).equals(bytes(v)), k).toBe(true);
  });
});
