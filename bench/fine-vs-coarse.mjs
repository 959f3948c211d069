// Fine vs coarse expert pools at equal active FLOPs, and the schedules of fine pools, on this
// machine's WebGPU adapter. Every entry runs fused on the same device and the same inputs, in one
// process, round-robin; times are reported as ratios against the first entry (the baseline).
//
//   npx tsc -b && node bench/fine-vs-coarse.mjs [--tokens 1,64] [--iterations 10] [--warmup 2]
//       [--set D=128] [--only grains|schedules|clusters] [--json]
//
// grains:    bench/fine-vs-coarse.moe: 8 × 256 top-2 (baseline), split 4 (32 × 64 top-8), 256 × 8
//            top-64, 4,096 SwiGLU atoms top-512 (linear router, product keys), 4,096 rank-1 top-768.
// schedules: the 4,096-atom product-key layer under the token-centric, expert-centric and dense
//            schedules (baseline: token), at the same token counts, plus a dense-selection layer.
// clusters:  how often experts share an identical token list (OmniMoE's grouping condition) under
//            an OmniMoE-shaped router, from the GPU's selections at T = 1 … 4,096.
// On lavapipe (CPU Vulkan) judge ratios and dispatch counts, not absolute times.

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../dist/compiler/index.js";
import { acquireGpu, createExecutor, randomWeights } from "../dist/runtime/index.js";
import { comparePrograms, formatComparison, normalInputs } from "../dist/runtime/bench/compare-programs.js";

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

// [entry, executor schedule, label]; "auto" is the default policy.
const GRAINS = [
  ["coarse", "auto", "8 × ffn(256), top-2 (baseline)"],
  ["fine", "auto", "8 × ffn(256) split 4 = 32 × 64, top-8"],
  ["finer", "auto", "256 × ffn(8), top-64"],
  ["atoms", "auto", "4,096 atoms, top-512, linear router"],
  ["atoms_product", "auto", "4,096 atoms, top-512, product keys"],
  ["rank1", "auto", "4,096 × lowrank(1), top-768, product keys"],
  ["coarse", "token", "8 × ffn(256), token-centric"],
  ["fine", "token", "32 × 64, token-centric"],
  ["finer", "token", "256 × ffn(8), token-centric"],
];

const DENSE_ATOMS = `layer dense_atoms(x: [T, D], D = 128) {
  experts A[512] = atom(act = swiglu)
  router r = linear |> softmax |> dense
  return moe(x, r, A)
}`;

/**
 * How often experts share an identical token list (OmniMoE's scheduler groups G = 4 such experts
 * into one dense GEMM), from the selections the GPU makes for an OmniMoE-shaped router.
 */
async function clusters(Ts) {
  const p = program("", `layer omni(x: [T, D], D = 64) {
  experts A[4096] = atom(act = silu)
  router r = product(parts = 2, size = 64, norm = batch) |> topk(16) |> exp
  return moe(x, r, A)
}`);
  const exec = await createExecutor(ctx, p, randomWeights(p, 5));
  const rows = [];
  try {
    for (const T of [...new Set([1, 16, 256, 1024, 4096, ...Ts])].sort((a, b) => a - b)) {
      const x = normalInputs(p, T, 2);
      await exec.run(x, T, { returnRouting: true });
      const r = exec.lastRouting.get("r");
      const lists = new Map();
      for (let t = 0; t < T; t++) {
        for (let s = 0; s < r.counts[t]; s++) {
          const e = r.ids[t * r.maxPerToken + s];
          if (!lists.has(e)) lists.set(e, []);
          lists.get(e).push(t);
        }
      }
      const same = new Map();
      for (const l of lists.values()) same.set(l.join(","), (same.get(l.join(",")) ?? 0) + 1);
      let groups = 0;
      let pairs = 0;
      for (const [k, n] of same) {
        groups += Math.floor(n / 4);
        pairs += Math.floor(n / 4) * 4 * k.split(",").length;
      }
      const sizes = [...lists.values()].map((l) => l.length);
      rows.push({ T, used: lists.size, meanRows: (T * 16) / lists.size, maxRows: Math.max(...sizes), distinct: same.size, groups, covered: pairs / (T * 16) });
    }
  } finally {
    exec.dispose();
  }
  return rows;
}

const ctx = await acquireGpu();
const adapter = ctx.adapterInfo.description || ctx.adapterInfo.device || ctx.adapterInfo.vendor || "unknown adapter";
const results = [];
try {
  for (const T of tokensList) {
    if (only === "" || only === "grains") {
      const entries = GRAINS.map(([entry, schedule, label]) => {
        const p = program(entry);
        return { label: `${entry}${schedule === "auto" ? "" : `@${schedule}`}: ${label}`, program: p, weights: randomWeights(p, 7), options: { fineSchedule: schedule } };
      });
      const r = await comparePrograms(ctx, entries, T, { warmup, iterations });
      results.push({ suite: "grains", ...r });
      if (!json) console.log(`\n## grains, T = ${T} (${r.timing}, median of ${iterations}; ${adapter})\n\n${formatComparison(r)}`);
    }
    if (only === "" || only === "schedules") {
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
  if (only === "" || only === "clusters") {
    const c = await clusters(tokensList);
    results.push({ suite: "clusters", rows: c });
    if (!json) {
      console.log(`\n## identical token lists (OmniMoE's grouping), 4,096 atoms, BatchNorm product keys, top-16, groups of 4\n`);
      console.log("| T | experts used | rows per expert (mean / max) | distinct token lists | groups of 4 | (token, expert) pairs in groups |");
      console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
      for (const x of c) console.log(`| ${x.T} | ${x.used} | ${x.meanRows.toFixed(2)} / ${x.maxRows} | ${x.distinct} | ${x.groups} | ${(100 * x.covered).toFixed(1)} % |`);
    }
  }
  if (json) console.log(JSON.stringify({ adapter, set, iterations, results }, null, 2));
} finally {
  ctx.dispose();
}
