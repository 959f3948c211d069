// Fine vs coarse expert pools at equal active FLOPs, and the schedules of fine pools, on this
// machine's WebGPU adapter. Every entry runs fused on the same device and the same inputs, in one
// process, round-robin; times are reported as ratios against the first entry (the baseline).
//
//   npx tsc -b && node bench/fine-vs-coarse.mjs [--tokens 1,64] [--iterations 10] [--warmup 2]
//       [--set D=128] [--only grains|schedules] [--json]
//
// grains:    bench/fine-vs-coarse.moe: 8 × 256 top-2 (baseline), split 4 (32 × 64 top-8), 256 × 8
//            top-64, 4,096 SwiGLU atoms top-512 (linear router, product keys), 4,096 rank-1 top-768.
// schedules: the 4,096-atom product-key layer under the token-centric, expert-centric and dense
//            schedules (baseline: token), at the same token counts, plus a dense-selection layer.
// On lavapipe (CPU Vulkan) judge ratios and dispatch counts, not absolute times.

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../dist/compiler/index.js";
import { acquireGpu, randomWeights } from "../dist/runtime/index.js";
import { comparePrograms, formatComparison } from "../dist/runtime/bench/compare-programs.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(here, "fine-vs-coarse.moe");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const tokensList = arg("tokens", "1,64").split(",").map(Number);
const iterations = Number(arg("iterations", "10"));
const warmup = Number(arg("warmup", "2"));
const only = arg("only", "");
const json = process.argv.includes("--json");
const set = Object.fromEntries(
  arg("set", "")
    .split(/[ ,]+/)
    .filter(Boolean)
    .map((kv) => kv.split("="))
    .map(([k, v]) => [k, Number(v)]),
);

function program(entry, source) {
  const c = compile(source ? { source, set } : { file, entry, set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program;
}

const GRAINS = [
  ["coarse", "8 × ffn(256), top-2 (baseline)"],
  ["fine", "8 × ffn(256) split 4 = 32 × 64, top-8"],
  ["finer", "256 × ffn(8), top-64"],
  ["atoms", "4,096 atoms, top-512, linear router"],
  ["atoms_product", "4,096 atoms, top-512, product keys"],
  ["rank1", "4,096 × lowrank(1), top-768, product keys"],
];

const DENSE_ATOMS = `layer dense_atoms(x: [T, D], D = 128) {
  experts A[512] = atom(act = swiglu)
  router r = linear |> softmax |> dense
  return moe(x, r, A)
}`;

const ctx = await acquireGpu();
const adapter = ctx.adapterInfo.description || ctx.adapterInfo.device || ctx.adapterInfo.vendor || "unknown adapter";
const results = [];
try {
  for (const T of tokensList) {
    if (only !== "schedules") {
      const entries = GRAINS.map(([entry, label]) => {
        const p = program(entry);
        return { label: `${entry}: ${label}`, program: p, weights: randomWeights(p, 7) };
      });
      const r = await comparePrograms(ctx, entries, T, { warmup, iterations });
      results.push({ suite: "grains", ...r });
      if (!json) console.log(`\n## grains, T = ${T} (${r.timing}, median of ${iterations}; ${adapter})\n\n${formatComparison(r)}`);
    }
    if (only !== "grains") {
      const p = program("atoms_product");
      const w = randomWeights(p, 7);
      const d = program("", DENSE_ATOMS);
      const dw = randomWeights(d, 7);
      const entries = [
        ...["token", "expert", "dense"].map((s) => ({ label: `4,096 atoms top-512, ${s}`, program: p, weights: w, options: { fineSchedule: s } })),
        ...["token", "expert", "dense"].map((s) => ({ label: `512 atoms, dense selection, ${s}`, program: d, weights: dw, options: { fineSchedule: s } })),
      ];
      const r = await comparePrograms(ctx, entries, T, { warmup, iterations });
      results.push({ suite: "schedules", ...r });
      if (!json) console.log(`\n## fine-pool schedules, T = ${T} (${r.timing}, median of ${iterations}; ${adapter})\n\n${formatComparison(r)}`);
    }
  }
  if (json) console.log(JSON.stringify({ adapter, set, iterations, results }, null, 2));
} finally {
  ctx.dispose();
}
