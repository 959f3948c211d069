// Check speed of the front end on a generated 2,000-line .moe file: many layers of the varied
// shapes of LANGUAGE.md §12 (top-k, split + shared, gated shared, group-limited top-k with bias,
// top-p, product-key atoms, iterate, expert choice, low-rank, multi-output), layers that call
// them at other sizes, graphs of agents and a model with `repeat`. Times `checkFiles` (load,
// parse, check every declaration at its defaults and at every call's bindings) against a
// baseline of lexing + parsing alone, in the same process, after a warm-up; prints the medians
// and their ratio. Imports the compiled compiler from dist/ (run `npx tsc -b` first).
//
//   node bench/check-speed.mjs [--lines 2000] [--runs 25] [--json] [--write FILE]
import * as fs from "node:fs";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { checkFiles } from "../dist/compiler/driver.js";
import { parseSource } from "../dist/compiler/syntax/parse.js";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const LINES = Number(opt("lines", 2000));
const RUNS = Number(opt("runs", 25));
const WARMUP = 5;
const TARGET_MS = 100;

// ---------------------------------------------------------------- the generated program

const pick = (xs, i) => xs[i % xs.length];

/** One §12-shaped layer per template; `k` makes names unique and varies the sizes. */
const templates = [
  (k) => [
    `// Mixtral-style top-2 (${k})`,
    `layer mix_${k}(x: [T, D], D = ${pick([256, 512, 1024], k)}, N = ${pick([8, 16], k)}, I = ${pick([512, 1024, 1536], k)}) {`,
    `  experts E[N] = ffn(hidden = I, act = swiglu)`,
    `  router r = linear |> softmax |> topk(2) |> renorm`,
    `  report load, entropy`,
    `  return moe(x, r, E)`,
    `}`,
  ],
  (k) => [
    `// DeepSeekMoE: shared experts and a fine-grained split (${k})`,
    `layer dsk_${k}(x: [T, D], D = ${pick([256, 512], k)}, N = 16, I = ${pick([1024, 2048], k)}, SI = 256) {`,
    `  shared S[2] = ffn(hidden = SI)`,
    `  experts E[N] = ffn(hidden = I) split 4`,
    `  router r = linear |> softmax |> topk(6)`,
    `  loss balance(coef = 0.001)`,
    `  return S(x) + moe(x, r, E)`,
    `}`,
  ],
  (k) => [
    `// Qwen-MoE: a shared expert behind a sigmoid gate (${k})`,
    `layer qwen_${k}(x: [T, D], D = ${pick([256, 512], k)}, N = ${pick([30, 60], k)}, I = 256, SI = 1024) {`,
    `  shared S[1] = ffn(hidden = SI)`,
    `  experts E[N] = ffn(hidden = I)`,
    `  router r = linear |> softmax |> topk(4)`,
    `  let g = linear(x, out = 1)`,
    `  return moe(x, r, E) + sigmoid(g) * S(x)`,
    `}`,
  ],
  (k) => [
    `// DeepSeek-V3 routing (${k})`,
    `layer v3_${k}(x: [T, D], D = ${pick([512, 1024], k)}, N = ${pick([64, 128, 256], k)}, I = 256) {`,
    `  shared S[1] = ffn(hidden = I)`,
    `  experts E[N] = ffn(hidden = I)`,
    `  router r = linear |> sigmoid |> bias(aux_free, rate = 0.001)`,
    `           |> group_topk(8, groups = 8, keep = 4) |> renorm |> scale(2.5)`,
    `  report load, maxvio`,
    `  return S(x) + moe(x, r, E)`,
    `}`,
  ],
  (k) => [
    `// Dynamic top-p (${k})`,
    `layer topp_${k}(x: [T, D], D = 512, N = ${pick([8, 16], k)}, I = 512) {`,
    `  experts E[N] = ffn(hidden = I)`,
    `  router r = linear |> softmax |> topp(0.4, max = N)`,
    `  report active_k`,
    `  return moe(x, r, E)`,
    `}`,
  ],
  (k) => [
    `// OmniMoE atoms behind a product-key router (${k})`,
    `layer omni_${k}(x: [T, D], D = 256, P = ${pick([16, 32, 64], k)}, SI = 512) {`,
    `  shared S[1] = ffn(hidden = SI)`,
    `  experts A[P * P] = atom(act = silu)`,
    `  router r = product(parts = 2, size = P, norm = batch) |> topk(16) |> exp`,
    `  return S(x) + moe(x, r, A)`,
    `}`,
  ],
  (k) => [
    `// Chain-of-Experts: a fresh router per iteration (${k})`,
    `layer coe_${k}(x: [T, D], D = 256, N = ${pick([15, 31, 63], k)}, I = 256) {`,
    `  shared S[1] = ffn(hidden = I)`,
    `  experts E[N] = ffn(hidden = I)`,
    `  iterate ${pick([2, 3], k)} {`,
    `    router r = linear |> softmax |> topk(4)`,
    `    x = x + S(x) + moe(x, r, E)`,
    `  }`,
    `  return x`,
    `}`,
  ],
  (k) => [
    `// Expert choice and rank-level experts (${k})`,
    `layer ec_${k}(x: [T, D], D = 512, N = 8, I = 512) {`,
    `  experts E[N] = ffn(hidden = I, act = gelu)`,
    `  router r = linear |> softmax |> choose(capacity = 2.0)`,
    `  return moe(x, r, E)`,
    `}`,
    `layer lr_${k}(x: [T, D], D = 512, N = 64) {`,
    `  experts R[N] = lowrank(rank = ${pick([1, 2, 4], k)})`,
    `  router r = linear |> bias(aux_free, rate = 0.001) |> topk(8)`,
    `  return x + moe(x, r, R)`,
    `}`,
  ],
  (k) => [
    `// MMoE: one dense gate per task (${k})`,
    `layer mmoe_${k}(x: [T, D], D = 256, N = 4, I = 128) {`,
    `  experts E[N] = ffn(hidden = I, act = relu)`,
    `  router g_click = linear |> softmax |> dense`,
    `  router g_like = linear |> softmax |> dense`,
    `  return { click: moe(x, g_click, E), like: moe(x, g_like, E) }`,
    `}`,
  ],
  // Layers that call the ones above at their own sizes (checked again at those bindings).
  (k) => [
    `// A block that calls other layers (${k})`,
    `layer block_${k}(x: [T, D], D = ${pick([128, 256], k)}) {`,
    `  let a = mix_${k - 9}(x, I = ${pick([256, 384], k)})`,
    `  let b = dsk_${k - 8}(x + a)`,
    `  let g = linear(x, out = 1)`,
    `  let c = qwen_${k - 7}(x)`,
    `  x = x + a + b * sigmoid(g) + c`,
    `  return x`,
    `}`,
    `graph chain_${k}(x: [T, D], D = 256) = mix_${k - 9}(D = D, I = 512) -> ec_${k - 2}(D = D) -> coe_${k - 3}(D = D)`,
    `graph vote_${k}(x: [T, D], D = 256) = parallel(mix_${k - 9}(D = D), topp_${k - 5}(D = D), lr_${k - 2}(D = D)) |> mean`,
  ],
];

function generate(lines) {
  const out = ["// Generated by bench/check-speed.mjs: §12 shapes, repeated with other names and sizes.", "const WIDTH = 256", ""];
  let k = 0;
  let lastBlock = -1;
  while (out.length < lines - 16) {
    templates.forEach((t, i) => {
      out.push(...t(k), "");
      if (i === templates.length - 1) lastBlock = k;
      k++;
    });
  }
  out.push(
    "// A model over the generated layers",
    `model stack(tokens: [T], V = 32000, D = WIDTH, L = 24) {`,
    `  let h = embed(tokens, vocab = V, dim = D)`,
    `  repeat L as layers {`,
    `    let n1 = rmsnorm(h)`,
    `    let attn = attention(n1, heads = 8, kv_heads = 2)`,
    `    h = h + attn`,
    `    let n2 = rmsnorm(h)`,
    `    let mlp = block_${lastBlock}(n2)`,
    `    h = h + mlp`,
    `  }`,
    `  let norm = rmsnorm(h)`,
    `  let logits = lm_head(norm, vocab = V)`,
    `  return logits`,
    `}`,
  );
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- timing

const FILE = "/bench/generated.moe";
const text = generate(LINES);
const host = { readFile: (f) => (f === FILE ? text : undefined) };

const first = checkFiles([FILE], { host });
const errors = first.diagnostics.filter((d) => d.severity === "error");
if (errors.length) {
  console.error(`the generated program has ${errors.length} errors, e.g. ${errors[0].code} ${errors[0].message} at offset ${errors[0].span.start}`);
  process.exit(1);
}
const program = first.unit.files.get(FILE).program;
const decls = program.decls.length;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function time(fn) {
  for (let i = 0; i < WARMUP; i++) fn();
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return { median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
}

const parse = time(() => parseSource(text, FILE));
const check = time(() => checkFiles([FILE], { host }));
const result = {
  lines: text.split("\n").length - 1,
  declarations: decls,
  runs: RUNS,
  warmup: WARMUP,
  parse_ms: +parse.median.toFixed(2),
  parse_min_ms: +parse.min.toFixed(2),
  check_ms: +check.median.toFixed(2),
  check_min_ms: +check.min.toFixed(2),
  check_max_ms: +check.max.toFixed(2),
  ratio: +(check.median / parse.median).toFixed(2),
  target_ms: TARGET_MS,
  within_target: check.median < TARGET_MS,
  machine: {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: (os.cpus()[0]?.model ?? "unknown").trim(),
    node: process.version,
  },
};

const write = opt("write", undefined);
if (write) fs.writeFileSync(write, text);
if (argv.includes("--json")) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`check-speed: ${result.lines} lines, ${decls} declarations; median of ${RUNS} runs after ${WARMUP} warm-up runs`);
  console.log(`  lex + parse     ${result.parse_ms.toFixed(2).padStart(8)} ms   (min ${result.parse_min_ms.toFixed(2)})`);
  console.log(`  checkFiles      ${result.check_ms.toFixed(2).padStart(8)} ms   (min ${result.check_min_ms.toFixed(2)}, max ${result.check_max_ms.toFixed(2)})`);
  console.log(`  ratio           ${result.ratio.toFixed(2).padStart(8)} ×   check / parse`);
  console.log(`  target          ${result.within_target ? "met" : "MISSED"}: check < ${TARGET_MS} ms`);
  console.log(`  machine         ${result.machine.nproc} × ${result.machine.cpu}, Node ${result.machine.node}`);
}
