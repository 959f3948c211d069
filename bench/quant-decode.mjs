// Block-quantized decode against f32 decode on a bandwidth-bound shape (issue 16): the GEMV of
// one row through a K × N linear (default 4096 × 4096: 64 MiB of f32 weights, 17 MiB as Q8_0,
// 9 MiB as Q4_0), run by three executors of the same one-op layer in one process on one Dawn
// instance: weights in f32, kept as Q8_0 blocks, kept as Q4_0 blocks (ExecutorOptions.weightFormat;
// the dequantization fused into the GEMV's loads). Each run is one dispatch with its upload of x
// and read-back of y; medians of RUNS, the three sides alternating so machine load falls on all.
// Prints ms, the weight bytes each read and the speed-up over f32.
//   node bench/quant-decode.mjs          (after npm run build; K=4096 N=4096 RUNS=9 to choose)
import { globals } from "webgpu";
import { compile } from "../dist/compiler/index.js";
import { acquireGpu } from "../dist/runtime/gpu/device.js";
import { createExecutor } from "../dist/runtime/executor/executor.js";
import { randomWeights } from "../dist/runtime/weights/random-weights.js";

if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = "/tmp";
Object.assign(globalThis, globals);
const gpu = await acquireGpu({});
const K = Number(process.env.K ?? 4096), N = Number(process.env.N ?? 4096), RUNS = Number(process.env.RUNS ?? 9);
const c = compile({ source: `layer g(x: [T, D], D = ${K}) {\n  let y = linear(x, out = ${N})\n  return y\n}` });
if (!c.ok) throw new Error(c.formatDiagnostics());
const weights = randomWeights(c.program, 1);
const sides = {};
for (const format of [undefined, "q8_0", "q4_0"]) sides[format ?? "f32"] = await createExecutor(gpu, c.program, weights, format ? { weightFormat: format } : {});
const x = new Map([["x", Float32Array.from({ length: K }, (_, i) => Math.sin(i))]]);
const ms = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (const e of Object.values(sides)) await e.run(x, 1); // warm
for (let i = 0; i < RUNS; i++) for (const [k, e] of Object.entries(sides)) { const t0 = performance.now(); await e.run(x, 1); ms[k].push(performance.now() - t0); }
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const f32 = median(ms.f32);
console.log(`adapter: ${gpu.adapterInfo.description || gpu.adapterInfo.vendor}; [1, ${K}] × [${N}, ${K}], medians of ${RUNS}`);
for (const [k, e] of Object.entries(sides)) {
  const t = median(ms[k]);
  const mib = e.weightBytes / 2 ** 20;
  console.log(`${k.padEnd(5)} ${t.toFixed(1).padStart(7)} ms  ${mib.toFixed(1).padStart(6)} MiB  ${(e.weightBytes / t / 1e6).toFixed(2)} GB/s  ${(f32 / t).toFixed(2)}× f32  (min ${Math.min(...ms[k]).toFixed(1)}, max ${Math.max(...ms[k]).toFixed(1)})`);
}
for (const e of Object.values(sides)) e.dispose();
process.exit(0);
