// Block-quantized decode against f32 decode on a bandwidth-bound shape (issue 16): the GEMV of
// one row through a K × N linear (default 4096 × 4096: 64 MiB of f32 weights, 17 MiB as Q8_0,
// 9 MiB as Q4_0), run by three executors of the same one-op layer in one process on one Dawn
// instance: weights in f32, kept as Q8_0 blocks, kept as Q4_0 blocks (ExecutorOptions.weightFormat;
// the dequantization fused into the GEMV's loads). Each run is one dispatch with its upload of x
// and read-back of y; medians of RUNS, the three sides alternating so machine load falls on all.
// Prints ms, the weight bytes each read and the speed-up over f32.
// MODEL=1: the same three sides as decode steps of a Mixtral-style model instead
// (examples/models/mixtral_8x7b.moe at SET, default V=32000 D=1024 L=4 H=16 KV=4 N=8 I=1024:
// 176.7M parameters), each prefilled with the same 16-token prompt, then RUNS decode steps each,
// alternating; the experts stay f32 (the fused path covers linear and attention only).
//   node bench/quant-decode.mjs          (after npm run build; K=4096 N=4096 RUNS=9 to choose)
//   MODEL=1 node bench/quant-decode.mjs
import { globals } from "webgpu";
import { compile } from "../dist/compiler/index.js";
import { acquireGpu } from "../dist/runtime/gpu/device.js";
import { createExecutor } from "../dist/runtime/executor/executor.js";
import { randomWeights } from "../dist/runtime/weights/random-weights.js";

if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = "/tmp";
Object.assign(globalThis, globals);
const gpu = await acquireGpu({});
const RUNS = Number(process.env.RUNS ?? 9);
const FORMATS = [undefined, "q8_0", "q4_0"];
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const sides = {};
const ms = {};
let title;
if (process.env.MODEL) {
  const set = Object.fromEntries((process.env.SET ?? "V=32000 D=1024 L=4 H=16 KV=4 N=8 I=1024").split(/\s+/).map((kv) => { const [k, v] = kv.split("="); return [k, Number(v)]; }));
  const c = compile({ file: "examples/models/mixtral_8x7b.moe", set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  const weights = randomWeights(c.program, 1);
  const V = set.V;
  const prompt = Int32Array.from({ length: 16 }, (_, i) => (i * 7919 + 3) % V);
  const context = prompt.length + RUNS + 2;
  for (const format of FORMATS) {
    const e = await createExecutor(gpu, c.program, weights, { decode: { context }, ...(format ? { weightFormat: format } : {}) });
    await e.prefill(prompt);
    await e.decodeStep(1); // warm
    sides[format ?? "f32"] = { e, step: (i) => e.decodeStep((i * 31 + 5) % V) };
  }
  title = `mixtral_8x7b ${process.env.SET ?? "V=32000 D=1024 L=4 H=16 KV=4 N=8 I=1024"}: decode steps at positions ${prompt.length + 1}…${prompt.length + RUNS}, medians of ${RUNS}`;
} else {
  const K = Number(process.env.K ?? 4096), N = Number(process.env.N ?? 4096);
  const c = compile({ source: `layer g(x: [T, D], D = ${K}) {\n  let y = linear(x, out = ${N})\n  return y\n}` });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  const weights = randomWeights(c.program, 1);
  const x = new Map([["x", Float32Array.from({ length: K }, (_, i) => Math.sin(i))]]);
  for (const format of FORMATS) {
    const e = await createExecutor(gpu, c.program, weights, format ? { weightFormat: format } : {});
    await e.run(x, 1); // warm
    sides[format ?? "f32"] = { e, step: () => e.run(x, 1) };
  }
  title = `[1, ${K}] × [${N}, ${K}], medians of ${RUNS}`;
}
for (const k of Object.keys(sides)) ms[k] = [];
for (let i = 0; i < RUNS; i++) for (const [k, s] of Object.entries(sides)) { const t0 = performance.now(); await s.step(i); ms[k].push(performance.now() - t0); }
const f32 = median(ms.f32);
console.log(`adapter: ${gpu.adapterInfo.description || gpu.adapterInfo.vendor}; ${title}`);
for (const [k, { e }] of Object.entries(sides)) {
  const t = median(ms[k]);
  console.log(`${k.padEnd(5)} ${t.toFixed(1).padStart(7)} ms  weights on the device ${(e.weightBytes / 2 ** 20).toFixed(1).padStart(6)} MiB  ${(f32 / t).toFixed(2)}× f32  (min ${Math.min(...ms[k]).toFixed(1)}, max ${Math.max(...ms[k]).toFixed(1)})`);
}
for (const { e } of Object.values(sides)) e.dispose();
process.exit(0);
