// Router benchmark: GPU time of the routing dispatches (per-dispatch timestamps) for §5 pipelines
// and plugin stages, same device, same shapes, medians over runs; printed relative to the plain
// `linear |> topk(k)` router, plus the cost of statistics and of expert choice's extra passes.
//
//   node bench/router-stages.mjs [--E 64] [--T 256] [--D 64] [--runs 15] [--workgroup]
//
// Needs `tsc -b` (reads dist/). Absolute times on lavapipe are not GPU times; compare ratios.
import { compile } from "../dist/compiler/index.js";
import { acquireGpu } from "../dist/runtime/gpu/dawn.js";
import { createExecutor } from "../dist/runtime/executor/executor.js";
import { randomWeights } from "../dist/runtime/weights/random-weights.js";
import hash from "../plugins/hash-routing/index.js";
import elastic from "../plugins/elastic-k/index.js";
import mora from "../plugins/mora/index.js";

const arg = (n, d) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const E = arg("E", 64), T = arg("T", 256), D = arg("D", 64), RUNS = arg("runs", 15);
const subgroups = !process.argv.includes("--workgroup");
const K = 4;

const PIPES = [
  `linear |> topk(${K})`,
  `linear |> softmax |> topk(${K}) |> renorm`,
  `linear |> softmax |> topk(${K})`,
  `linear |> sigmoid |> bias(aux_free, rate = 0.001) |> group_topk(${K}, groups = 8, keep = 4) |> renorm |> scale(2.5)`,
  `linear |> softmax |> topp(0.5, max = 8)`,
  `cosine(temp = 0.1) |> softmax |> topk(${K})`,
  `product(size = ${Math.round(Math.sqrt(E))}, norm = batch) |> topk(${K}) |> exp`,
  `linear |> softmax |> choose(capacity = ${K}.0)`,
  `hash(seed = 1) |> topk(1)`,
  `linear |> softmax |> elastic_topk(${K}, max = 8) |> renorm`,
  `linear |> l2norm |> mora_gate(temp = 0.5) |> threshold(0.05, max = 8)`,
];

const gpu = await acquireGpu();
if (!gpu.features.timestamps) throw new Error("needs timestamp-query");
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rows = [];
for (const pipe of PIPES) {
  const src = `layer l(x: [T, D], D = ${D}, N = ${E}) {\n  experts E[N] = ffn(hidden = 16)\n  router r = ${pipe}\n  return moe(x, r, E)\n}`;
  const c = compile({ source: src, plugins: [hash, elastic, mora] });
  if (!c.ok) {
    rows.push({ pipe, skip: c.formatDiagnostics().split("\n")[0] });
    continue;
  }
  const x = Float32Array.from({ length: T * D }, (_, i) => Math.sin(i * 0.731) + Math.cos(i * 0.117));
  const res = {};
  for (const stats of [false, true]) {
    const exec = await createExecutor(gpu, c.program, randomWeights(c.program, 1), { subgroups, stats });
    const route = [], extra = [];
    for (let r = 0; r < RUNS + 2; r++) {
      await exec.run(new Map([["x", x]]), T, { profile: "dispatch" });
      const ks = exec.lastRunInfo.kernels.filter((k) => k.kernel.startsWith("router"));
      if (r < 2) continue; // warm-up
      route.push(ks.filter((k) => k.kernel.startsWith("router-fused") || k.kernel.startsWith("router-choose")).reduce((a, k) => a + k.ns, 0));
      extra.push(ks.filter((k) => k.kernel.startsWith("router-stats")).reduce((a, k) => a + k.ns, 0));
    }
    res[stats ? "stats" : "plain"] = { route: median(route) / 1e3, statsPass: median(extra) / 1e3, dispatches: exec.lastRunInfo.dispatches };
    exec.dispose();
  }
  rows.push({ pipe, ...res });
}
const base = rows[0].plain.route;
console.log(`router GPU time, E = ${E}, T = ${T}, D = ${D}, k = ${K}, ${subgroups ? "subgroup" : "workgroup"} kernel, ${gpu.adapterInfo.description || gpu.adapterInfo.device}; median of ${RUNS}`);
console.log(`${"pipeline".padEnd(112)} ${"µs".padStart(8)} ${"× base".padStart(7)} ${"stats µs".padStart(9)} dispatches`);
for (const r of rows) {
  if (r.skip) {
    console.log(`${r.pipe.padEnd(112)} skipped: ${r.skip}`);
    continue;
  }
  console.log(`${r.pipe.padEnd(112)} ${r.plain.route.toFixed(1).padStart(8)} ${(r.plain.route / base).toFixed(2).padStart(7)} ${r.stats.statsPass.toFixed(1).padStart(9)} ${r.plain.dispatches} (+${r.stats.dispatches - r.plain.dispatches} with stats)`);
}
gpu.dispose();
