// Cross-check of the float64 attention reference against an independent implementation: Hugging
// Face's attention forward re-typed in PyTorch (hf_attention.py, following the transformers
// modeling code: Llama/Qwen2/Qwen3/OLMoE/GLM-style attention, DeepSeek-V3 MLA with its interleave
// permutation, YaRN tables) on random tiny weights, to 1e-9. Needs a python3 that imports torch
// (Debian's python3-torch; .ci/run installs it).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { attentionTensors, mlaTensors, type BlockTensor } from "../../../compiler/ir/block-tensors.js";
import type { IrAttention, IrMla } from "../../../compiler/ir/ir.js";
import { attentionReference, mlaReference } from "../../../runtime/reference/ref-attention.js";
import { attn, mlaDesc, rope, yarn } from "../../helpers/model-blocks.js";
import { itNeeding, type Need } from "../../helpers/needs.js";
import { normals, rng } from "../../helpers/random.js";

const script = path.join(__dirname, "hf_attention.py");

/** The first interpreter that imports torch: $MOEC_TORCH_PYTHON, python3 on PATH, Debian's own. */
function torchPython(): string | undefined {
  const candidates = [process.env.MOEC_TORCH_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p);
  for (const py of candidates) {
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8", timeout: 120_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}
const python = torchPython();
const torchNeed: Need = {
  available: python !== undefined,
  missing: "no python3 that imports torch (.ci/run installs Debian's python3-torch: apt-get install python3-torch)",
};

type Case = { name: string; T: number; D: number } & ({ kind: "attention"; desc: IrAttention } | { kind: "mla"; desc: IrMla });

const cases: Case[] = [
  // Llama / Mixtral: GQA 4 → 2, full rotate_half.
  { name: "llama_gqa", kind: "attention", T: 7, D: 16, desc: attn({ heads: 4, kvHeads: 2, headDim: 8, rope: rope("half", 8) }) },
  // Qwen2 / Mistral: biases, one kv head, a sliding window shorter than the run.
  { name: "qwen2_bias_window", kind: "attention", T: 9, D: 12, desc: attn({ heads: 3, kvHeads: 1, headDim: 4, bias: true, window: 3, rope: rope("half", 4, 1e6) }) },
  // Qwen3: per-head q/k norm with one [hd] weight, YaRN (attention factor 0.1·ln 4 + 1 on cos/sin).
  { name: "qwen3_head_norm_yarn", kind: "attention", T: 8, D: 16, desc: attn({ heads: 4, kvHeads: 2, headDim: 8, qkNorm: "head", rope: rope("half", 8, 10000, yarn(4, 64)) }) },
  // OLMoE: q/k norm over the whole projection, partial rotary (first 4 of 8).
  { name: "olmoe_full_norm_partial", kind: "attention", T: 6, D: 16, desc: attn({ heads: 2, kvHeads: 2, headDim: 8, qkNorm: "full", rope: rope("half", 4, 500000) }) },
  // GLM-style interleaved partial rotary, GQA 4 → 1, window, YaRN with mscale / mscale_all_dim.
  { name: "interleaved_partial_window", kind: "attention", T: 8, D: 8, desc: attn({ heads: 4, kvHeads: 1, headDim: 6, window: 5, rope: rope("interleaved", 4, 10000, yarn(8, 64, 1, 0.5)) }) },
  // No rotary at all.
  { name: "rope_none", kind: "attention", T: 5, D: 8, desc: attn({ heads: 2, kvHeads: 2, headDim: 4, rope: rope("none", 0) }) },
  // DeepSeek-V3: q_lora, rope_interleave, YaRN with mscale_all_dim (softmax scale · mscale²).
  { name: "deepseek_v3_mla", kind: "mla", T: 7, D: 16, desc: mlaDesc({ heads: 2, qRank: 8, kvRank: 6, nopeDim: 4, ropeDim: 4, vDim: 3, rope: rope("interleaved", 4, 10000, yarn(40, 4096, 1, 1)) }) },
  // DeepSeek-V2-Lite-like: no q_lora (q_proj), rope_interleave = false (rotate_half), no YaRN.
  { name: "mla_q_proj_half", kind: "mla", T: 6, D: 12, desc: mlaDesc({ heads: 3, qRank: 0, kvRank: 4, nopeDim: 2, ropeDim: 6, vDim: 2, rope: rope("half", 6) }) },
  // YaRN without mscale_all_dim: cos/sin take get_mscale(factor), the softmax scale stays 1/sqrt(Dn+Dr).
  { name: "mla_yarn_plain", kind: "mla", T: 5, D: 8, desc: mlaDesc({ heads: 2, qRank: 4, kvRank: 4, nopeDim: 2, ropeDim: 4, vDim: 2, rope: rope("interleaved", 4, 10000, yarn(16, 256)) }) },
];

function build(c: Case, seed: number) {
  const r = rng(seed);
  const tensors: BlockTensor[] = c.kind === "attention" ? attentionTensors(c.desc, c.D) : mlaTensors(c.desc, c.D);
  const W = new Map<string, Float32Array>();
  const w: Record<string, number[]> = {};
  const shapes: Record<string, number[]> = {};
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    // Matrices N(0, 1/fan_in); norm weights around 1, biases small: the scales real checkpoints have.
    const a = t.shape.length === 2 ? normals(r, n, 1 / Math.sqrt(t.shape[1]!)) : normals(r, n, 0.3).map((v) => (t.name.includes("norm") ? 1 + v : v));
    W.set(`${c.desc.key}.${t.name}`, a);
    w[t.name] = Array.from(a);
    shapes[t.name] = t.shape;
  }
  const x = Float64Array.from(normals(r, c.T * c.D));
  return { W, w, shapes, x };
}

describe("the attention reference against Hugging Face's forward in PyTorch", () => {
  it("has PyTorch where CI runs (.ci/run installs python3-torch)", () => {
    if (process.env.CI) expect(python).toBeDefined();
  });

  itNeeding(torchNeed, "agrees on every case to 1e-9", () => {
    const built = cases.map((c, i) => ({ c, ...build(c, 1000 + i) }));
    const request = { cases: built.map(({ c, w, shapes, x }) => ({ name: c.name, kind: c.kind, desc: c.desc, T: c.T, D: c.D, x: Array.from(x), w, shapes })) };
    const res = spawnSync(python!, [script], { input: JSON.stringify(request), encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0); // stderr may carry PyTorch's own warnings; only the exit status counts
    const torchOut = JSON.parse(res.stdout) as Record<string, number[]>;
    const report: string[] = [];
    for (const { c, W, x } of built) {
      const ours = c.kind === "attention" ? attentionReference(c.desc, W, x, c.T, c.D) : mlaReference(c.desc, W, x, c.T, c.D);
      const theirs = torchOut[c.name]!;
      expect(theirs).toHaveLength(c.T * c.D);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < ours.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(theirs[i]!));
      }
      report.push(`${c.name}: max |Δ| ${maxDiff.toExponential(2)} (max |y| ${maxAbs.toFixed(3)})`);
      expect(maxAbs, `${c.name} is not a trivial output`).toBeGreaterThan(1e-2);
      expect(maxDiff, c.name).toBeLessThan(1e-9);
    }
    if (process.env.MOEC_TORCH_REPORT) console.log(report.join("\n"));
  }, 180_000);
});
