// moec's fused MoE layer against TF.js's WebGPU backend, in one process on one Dawn instance
// (issue 16's benchmark, part 5). The layer is Mixtral's (examples/mixtral.moe): `experts E[N] =
// ffn(hidden = I, act = swiglu)`, router `linear |> softmax |> topk(k) |> renorm`, at three shapes
// (SHAPES, default all):
//   prefill T=256 D=512 I=1024 N=8  k=2      decode  T=1, the prefill layer
//   fine    T=64  D=512 I=128  N=64 k=6
// Sides, all on the same weights (moec's randomWeights, seed 1) and the same x:
//   moec             the fused layer through createExecutor, default options (`auto` schedule)
//   moec token       the same with fineSchedule "token" (decode and fine only)
//   moec dense       a moec layer of one `ffn(hidden = k·I, act = swiglu)` over the T rows: the
//                    routed experts' FLOPs as one dense FFN
//   tfjs composed    the layer as a TF.js user writes it: router matMul, softmax, topk, renorm;
//                    the top-k ids read back to the host (the only read-back, timed) to list each
//                    expert's tokens; per expert gather its rows, gate and up matMuls,
//                    silu(gate)·up, down matMul, times the routing weight (gathered on the GPU);
//                    one unsortedSegmentSum adds the rows back to their tokens
//   tfjs dense       three dense matMuls of the routed FLOPs, inputs resident: [T·k, D]×[D, I]
//                    twice and [T·k, I]×[I, D], the last one's [T·k, D] read back
// TF.js holds the weights [K, N] (transposed once at setup: tf.layers.dense's layout, and its
// faster one at 64+ rows in bench/gemm-vs-tfjs.mjs). Every side's time includes writing x (moec's
// exec.run; TF.js's tensor2d) and reading y back (exec.run; `await y.data()`). Warm-up rounds
// first (shader compiles), then ROUNDS (default 5) rounds with the sides alternating, so machine
// load falls on all; medians. Before timing, moec's output (both schedules) is checked against TF.js
// composed's (max |Δ| / max |y|, must be under 1e-4) — else it exits 1: different math would not be
// a benchmark. Prints ms per side and the ratios issue 16's targets are stated in (lavapipe):
// prefill fused ≥ 1× TF.js dense and ≥ 2× TF.js composed; fine fused ≤ 1.3× moec dense; decode
// ≥ 5× TF.js composed.
//   npx tsc -b && node bench/moe-vs-tfjs.mjs      (SHAPES=prefill,decode,fine ROUNDS=5 to choose)
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

const SHAPES = {
  prefill: { T: 256, D: 512, I: 1024, N: 8, k: 2 },
  decode: { T: 1, D: 512, I: 1024, N: 8, k: 2 },
  fine: { T: 64, D: 512, I: 128, N: 64, k: 6 },
};
const chosen = (process.env.SHAPES ?? "prefill,decode,fine").split(",").filter(Boolean);
for (const s of chosen) if (!SHAPES[s]) throw new Error(`SHAPES: unknown shape '${s}' (prefill, decode, fine)`);
const ROUNDS = Number(process.env.ROUNDS ?? "5");
if (!(Number.isInteger(ROUNDS) && ROUNDS > 0)) throw new Error(`ROUNDS: '${process.env.ROUNDS}' is not a positive integer`);
const WARMUP = 2;
const TOLERANCE = 1e-4;

function compileLayer(source) {
  const c = compile({ source });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program;
}
const moeSource = ({ D, I, N, k }) => `layer mixtral_moe(x: [T, D], D = ${D}, N = ${N}, I = ${I}) {
  experts E[N] = ffn(hidden = I, act = swiglu)
  router r = linear |> softmax |> topk(${k}) |> renorm
  return moe(x, r, E)
}`;
const denseSource = ({ D, I, k }) => `layer dense_ffn(x: [T, D], D = ${D}) {
  let y = ffn(x, hidden = ${k * I}, act = swiglu)
  return y
}`;

/** [rows, cols] row-major → [cols, rows] row-major. */
function transpose(a, rows, cols) {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** TF.js tensors of the moec layer's weights, [K, N] (x · W). */
function tfWeights(w, { D, I, N }) {
  const get = (name, length) => {
    const t = w.get(name);
    if (!t || t.length !== length) throw new Error(`weights: '${name}' missing or not ${length} values`);
    return t;
  };
  const gate = get("E.w_gate", N * I * D), up = get("E.w_up", N * I * D), down = get("E.w_down", N * D * I);
  const expert = (a, e, rows, cols) => tf.tensor2d(transpose(a.subarray(e * rows * cols, (e + 1) * rows * cols), rows, cols), [cols, rows]);
  return {
    router: tf.tensor2d(transpose(get("r.weight", N * D), N, D), [D, N]),
    gate: Array.from({ length: N }, (_, e) => expert(gate, e, I, D)), // [D, I]
    up: Array.from({ length: N }, (_, e) => expert(up, e, I, D)), // [D, I]
    down: Array.from({ length: N }, (_, e) => expert(down, e, D, I)), // [I, D]
  };
}

/** The layer in TF.js ops; resolves to y [T, D] on the host. */
async function tfComposed(W, xHost, { T, D, N, k }) {
  const x = tf.tensor2d(xHost, [T, D]);
  const [ids, weights] = tf.tidy(() => {
    const probs = tf.softmax(tf.matMul(x, W.router));
    const { values, indices } = tf.topk(probs, k);
    return [indices, tf.reshape(tf.div(values, tf.sum(values, -1, true)), [T * k])];
  });
  const idsHost = await ids.data(); // which tokens each expert gets: the host builds the lists
  const tokens = Array.from({ length: N }, () => []), slots = Array.from({ length: N }, () => []);
  for (let s = 0; s < T * k; s++) {
    tokens[idsHost[s]].push(Math.floor(s / k));
    slots[idsHost[s]].push(s);
  }
  const y = tf.tidy(() => {
    const parts = [], segments = [];
    for (let e = 0; e < N; e++) {
      if (tokens[e].length === 0) continue;
      const rows = tf.tensor1d(tokens[e], "int32");
      const xe = tf.gather(x, rows);
      const g = tf.matMul(xe, W.gate[e]);
      const h = tf.mul(tf.mul(g, tf.sigmoid(g)), tf.matMul(xe, W.up[e]));
      const we = tf.reshape(tf.gather(weights, tf.tensor1d(slots[e], "int32")), [-1, 1]);
      parts.push(tf.mul(tf.matMul(h, W.down[e]), we));
      segments.push(rows);
    }
    return tf.unsortedSegmentSum(tf.concat(parts), tf.concat(segments), T);
  });
  const out = await y.data();
  for (const t of [x, ids, weights, y]) t.dispose();
  return out;
}

/** max |a − b| over max |b|. */
function relativeDiff(a, b) {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return { abs: d, rel: d / m };
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
console.log(`adapter: ${moecGpu.adapterInfo.description || moecGpu.adapterInfo.vendor}; ${ROUNDS} rounds, medians`);
let layer = null; // prefill and decode share one layer (program, weights, executors)
for (const name of chosen) {
  const shape = SHAPES[name];
  const { T, D, I, N, k } = shape;
  const key = `${D},${I},${N},${k}`;
  if (layer?.key !== key) {
    if (layer) layer.dispose();
    const program = compileLayer(moeSource(shape));
    const weights = randomWeights(program, 1);
    const dense = compileLayer(denseSource(shape));
    const execs = {
      fused: await createExecutor(moecGpu, program, weights),
      token: await createExecutor(moecGpu, program, weights, { fineSchedule: "token" }),
      dense: await createExecutor(moecGpu, dense, randomWeights(dense, 1)),
    };
    const W = tfWeights(weights, shape);
    layer = { key, execs, W, dispose: () => { for (const e of Object.values(execs)) e.dispose(); tf.dispose([W.router, ...W.gate, ...W.up, ...W.down]); } };
  }
  const { execs, W } = layer;
  const xHost = Float32Array.from({ length: T * D }, (_, i) => Math.sin(0.37 * i + 0.1));
  const x = new Map([["x", xHost]]);
  const only = (out) => { if (out.size !== 1) throw new Error(`moec returned ${out.size} outputs`); return [...out.values()][0]; };

  // Same math first: moec (both schedules) against TF.js composed.
  const ref = await tfComposed(W, xHost, shape);
  for (const [label, exec] of [["moec", execs.fused], ["moec token", execs.token]]) {
    const { abs, rel } = relativeDiff(only(await exec.run(x, T)), ref);
    console.log(`${name}: ${label} vs tfjs composed: max |Δ| ${abs.toExponential(2)}, relative ${rel.toExponential(2)}`);
    if (!(rel < TOLERANCE)) {
      console.error(`${name}: ${label}'s output differs from TF.js composed's by ${rel.toExponential(2)} relative (> ${TOLERANCE}): not the same layer, not benchmarking`);
      process.exit(1);
    }
  }

  const Tk = T * k;
  const a = tf.randomNormal([Tk, D]), h = tf.randomNormal([Tk, I]);
  const bGate = tf.randomNormal([D, I]), bUp = tf.randomNormal([D, I]), bDown = tf.randomNormal([I, D]);
  const sides = {
    moec: async () => { await execs.fused.run(x, T); },
    ...(name === "prefill" ? {} : { "moec token": async () => { await execs.token.run(x, T); } }),
    "moec dense": async () => { await execs.dense.run(x, T); },
    "tfjs composed": async () => { await tfComposed(W, xHost, shape); },
    "tfjs dense": async () => {
      const ys = tf.tidy(() => [tf.matMul(a, bGate), tf.matMul(a, bUp), tf.matMul(h, bDown)]);
      await ys[2].data(); // the queue runs in order: the first two are done too
      tf.dispose(ys);
    },
  };
  const ms = Object.fromEntries(Object.keys(sides).map((s) => [s, []]));
  for (let i = 0; i < WARMUP; i++) for (const f of Object.values(sides)) await f();
  for (let i = 0; i < ROUNDS; i++) {
    for (const [s, f] of Object.entries(sides)) {
      const t0 = performance.now();
      await f();
      ms[s].push(performance.now() - t0);
    }
  }
  tf.dispose([a, h, bGate, bUp, bDown]);
  const med = Object.fromEntries(Object.entries(ms).map(([s, v]) => [s, median(v)]));
  const gflop = (2 * 3 * T * k * D * I) / 1e9; // the routed experts' FLOPs (router excluded)
  console.log(`${name} T=${T} D=${D} I=${I} N=${N} k=${k} (${(gflop * 1e3).toFixed(1)} MFLOP routed): ` +
    Object.entries(med).map(([s, t]) => `${s} ${t.toFixed(1)} ms`).join(", "));
  const lines = [
    `moec / tfjs dense ${ratio(med["tfjs dense"], med.moec)} the speed${name === "prefill" ? " (target ≥ 1×)" : ""}`,
    `moec / tfjs composed ${ratio(med["tfjs composed"], med.moec)} the speed${name === "prefill" ? " (target ≥ 2×)" : name === "decode" ? " (target ≥ 5×)" : ""}`,
    `moec / moec dense ${ratio(med.moec, med["moec dense"])} the time${name === "fine" ? " (target ≤ 1.3×)" : ""}`,
  ];
  if (med["moec token"] !== undefined) lines.push(`moec token / tfjs composed ${ratio(med["tfjs composed"], med["moec token"])} the speed, moec token / moec dense ${ratio(med["moec token"], med["moec dense"])} the time`);
  console.log(`  ${lines.join("; ")}`);
}
layer?.dispose();
process.exit(0);
