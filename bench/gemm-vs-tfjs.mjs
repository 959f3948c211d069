// moec's GEMM against TF.js's WebGPU matMul, in one process on one Dawn instance (issue 16's
// yardstick). Shapes: [M, 1024] × [1024, 1024] for M in MS (default 1, 64, 1024). moec runs a
// one-op layer `linear(x, out = 1024)` twice: with the weight layout and GEMM loop gemm-shape.ts
// picks for the adapter (`moec`: on a CPU adapter held [K, N], kn-loop.ts) and with the weights
// kept [N, K] (`moec [N,K]`, gemmWeights "nk", the [N, K] register tile); TF.js runs matMul with
// B as [K, N] and as [N, K] (transposeB), its two layouts. Each
// side: upload-free (inputs resident), one dispatch chain, the result read back; medians of 5,
// the sides alternating so machine load falls on both. Prints GFLOP/s and moec / TF.js.
//   node bench/gemm-vs-tfjs.mjs            (after npm run build; MS=1,64,1024 to choose sizes)
import { globals } from "webgpu";
import { compile } from "../dist/compiler/index.js";
import { acquireGpu } from "../dist/runtime/gpu/dawn.js";
import { createExecutor } from "../dist/runtime/executor/executor.js";
import { randomWeights } from "../dist/runtime/weights/random-weights.js";

if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = "/tmp";
Object.assign(globalThis, globals);
const moecGpu = await acquireGpu({});
// TF.js's WebGPU backend looks for navigator.gpu: the same Dawn instance moec uses.
globalThis.navigator = { gpu: moecGpu.gpu };
const tf = await import("@tensorflow/tfjs-core");
await import("@tensorflow/tfjs-backend-webgpu");
await tf.setBackend("webgpu");
await tf.ready();


const K = 1024, N = 1024;
const MS = (process.env.MS ?? "1,64,1024").split(",").map(Number);
const c = compile({ source: `layer g(x: [T, D], D = ${K}) {\n  let y = linear(x, out = ${N})\n  return y\n}` });
if (!c.ok) throw new Error(c.formatDiagnostics());
const program = c.program;
const weights = randomWeights(program, 1);
const exec = await createExecutor(moecGpu, program, weights);
const execNK = await createExecutor(moecGpu, program, weights, { gemmWeights: "nk" });
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
console.log(`adapter: ${moecGpu.adapterInfo.description || moecGpu.adapterInfo.vendor}`);
for (const M of MS) {
  const x = new Map([["x", Float32Array.from({ length: M * K }, (_, i) => Math.sin(i))]]);
  const a = tf.randomNormal([M, K]), bKN = tf.randomNormal([K, N]), bNK = tf.randomNormal([N, K]);
  const sides = {
    moec: async () => { await exec.run(x, M); },
    "moec [N,K]": async () => { await execNK.run(x, M); },
    "tfjs [K,N]": async () => { const y = tf.matMul(a, bKN); await y.data(); y.dispose(); },
    "tfjs [N,K]": async () => { const y = tf.matMul(a, bNK, false, true); await y.data(); y.dispose(); },
  };
  const ms = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const f of Object.values(sides)) await f(); // compile, warm
  for (let i = 0; i < 5; i++) for (const [k, f] of Object.entries(sides)) { const t0 = performance.now(); await f(); ms[k].push(performance.now() - t0); }
  const gflops = (t) => (2 * M * K * N) / t / 1e6;
  const med = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)]));
  const best = Math.min(med["tfjs [K,N]"], med["tfjs [N,K]"]);
  console.log(`[${M}, ${K}] × [${K}, ${N}]: ` + Object.entries(med).map(([k, t]) => `${k} ${t.toFixed(1)} ms (${gflops(t).toFixed(2)} GFLOP/s)`).join(", ") + `; moec / TF.js best layout = ${(best / med.moec).toFixed(2)}× the speed`);
  for (const t of [a, bKN, bNK]) t.dispose();
}
exec.dispose();
execNK.dispose();
process.exit(0);
