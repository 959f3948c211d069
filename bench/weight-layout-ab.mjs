// A whole model's prefill and decode step with its linear weights held [K, N] (kn-loop.ts) and
// [N, K] (the [N, K] register tile), in one process on one adapter: the two executors share the
// random weights and alternate, medians of ROUNDS (default 3). The model: examples/models/
// mixtral_8x7b.moe at SET (default V=32000 D=1024 L=4 H=16 KV=4 N=8 I=1024), T = TOKENS (64).
//   node bench/weight-layout-ab.mjs        (after npm run build)
import { compile } from "../dist/compiler/index.js";
import { acquireGpu } from "../dist/runtime/gpu/dawn.js";
import { createExecutor } from "../dist/runtime/executor/executor.js";
import { randomWeights } from "../dist/runtime/weights/random-weights.js";

if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = "/tmp";
const gpu = await acquireGpu({});
const set = Object.fromEntries((process.env.SET ?? "V=32000 D=1024 L=4 H=16 KV=4 N=8 I=1024").split(/\s+/).map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]));
const T = Number(process.env.TOKENS ?? 64), ROUNDS = Number(process.env.ROUNDS ?? 3);
const c = compile({ file: "examples/models/mixtral_8x7b.moe", set });
if (!c.ok) throw new Error(c.formatDiagnostics());
const program = c.program;
const weights = randomWeights(program, 1);
const tokens = Int32Array.from({ length: T }, (_, t) => (t * 7919 + 13) % set.V);
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
console.log(`adapter: ${gpu.adapterInfo.description || gpu.adapterInfo.vendor}; model ${JSON.stringify(set)}; prefill T = ${T}`);
const sides = {};
for (const layout of ["kn", "nk"]) {
  const exec = await createExecutor(gpu, program, weights, { gemmWeights: layout, decode: { context: T + 8 } });
  sides[layout] = { exec, prefill: [], step: [] };
}
let first;
for (let r = -1; r < ROUNDS; r++) {
  for (const [layout, s] of Object.entries(sides)) {
    let t0 = performance.now();
    const logits = await s.exec.prefill(tokens);
    const tp = performance.now() - t0;
    t0 = performance.now();
    await s.exec.decodeStep(tokens[0]);
    const ts = performance.now() - t0;
    if (r >= 0) { s.prefill.push(tp); s.step.push(ts); }
    // Both layouts compute the same logits (the same weights, a different GEMM order).
    if (r === -1) {
      if (!first) first = logits;
      else { let d = 0, m = 0; for (let i = 0; i < logits.length; i++) { d = Math.max(d, Math.abs(logits[i] - first[i])); m = Math.max(m, Math.abs(first[i])); } console.log(`max |logits kn − nk| = ${d.toExponential(2)} (largest |logit| ${m.toFixed(2)})`); }
    }
  }
}
for (const [layout, s] of Object.entries(sides)) console.log(`${layout === "kn" ? "[K, N]" : "[N, K]"}: prefill ${median(s.prefill).toFixed(0)} ms (${(T / median(s.prefill) * 1e3).toFixed(1)} tokens/s), decode step ${median(s.step).toFixed(1)} ms`);
console.log(`[K, N] / [N, K] speed: prefill ${(median(sides.nk.prefill) / median(sides.kn.prefill)).toFixed(2)}×, decode ${(median(sides.nk.step) / median(sides.kn.step)).toFixed(2)}×`);
for (const s of Object.values(sides)) s.exec.dispose();
process.exit(0);
