// Prints fused vs unfused timings of one MoE layer on this machine's adapter:
//   npx tsx runtime/bench/run-moe-bench.ts [--D 64] [--E 8] [--I 128] [--k 2] [--T 64] [--shared 0]
//       [--iterations 10] [--warmup 2] [--dtype f32|f16] [--adapter substring]
// On lavapipe (CPU Vulkan) judge ratios and dispatch counts, not absolute times.

import { acquireGpu } from "../gpu/dawn.js";
import { benchmarkProgram } from "./benchmark.js";
import { benchWeights, moeLayerProgram } from "./bench-programs.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const shape = { D: +arg("D", "64"), E: +arg("E", "8"), I: +arg("I", "128"), k: +arg("k", "2"), shared: +arg("shared", "0") };
const T = +arg("T", "64");
const ctx = await acquireGpu({ adapter: process.argv.includes("--adapter") ? arg("adapter", "") : undefined });
try {
  const program = moeLayerProgram(shape);
  const r = await benchmarkProgram(ctx, program, benchWeights(program), T, {
    warmup: +arg("warmup", "2"),
    iterations: +arg("iterations", "10"),
    dtype: arg("dtype", "f32") as "f32" | "f16",
  });
  const row = (name: string, s: typeof r.fused) =>
    `${name.padEnd(8)} ${s.msPerRun.toFixed(3).padStart(9)} ms (min ${s.minMsPerRun.toFixed(3)})  ${s.wallMsPerRun.toFixed(3).padStart(9)} ms wall  ${s.tokensPerSec.toFixed(0).padStart(9)} tok/s  ${s.gflops.toFixed(2).padStart(7)} GFLOP/s  ${String(s.dispatches).padStart(4)} dispatches  ${s.commandBuffers} cmd buffers  ${s.readbacks} read-backs`;
  console.log(`adapter: ${ctx.adapterInfo.description || ctx.adapterInfo.vendor}; layer ${JSON.stringify(shape)}, T = ${T}, timing: ${r.timing}`);
  console.log(row("fused", r.fused));
  console.log(row("unfused", r.unfused));
  console.log(`ratio (unfused / fused): median ${r.ratio.toFixed(2)}×, min ${r.minRatio.toFixed(2)}×, wall clock ${r.wallRatio.toFixed(2)}×`);
} finally {
  ctx.dispose();
}
