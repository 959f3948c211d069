// `moec bench MODEL --tokens T`: a model's prefill timed against moec's own dense GEMM of about
// equal FLOPs in the same process (runtime/bench/model-bench.ts), with the FLOPs from the
// compiler's counter (compiler/report/prefill-flops.ts) and the dispatches per decoder layer
// from the recorded command stream.
import type { Schedule } from "./schedule-flag.js";
import * as path from "node:path";
import { entryInfo } from "../../compiler/driver.js";
import type { SourceHost } from "../../compiler/semantic/module-loader.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { humanBytes } from "../../compiler/report/memory.js";
import { formatCount } from "../../compiler/report/numbers.js";
import { prefillFlops } from "../../compiler/report/prefill-flops.js";
import { parseSets } from "../args.js";
import type { CliIO } from "../output.js";
import { adapterName, withGpu } from "./gpu-commands.js";

interface ModelBenchFlags {
  tokens: number;
  dtype: "f32" | "f16";
  iterations: number;
  warmup: number;
  seed: number;
  schedule?: Schedule;
}

const gflop = (n: number) => (n >= 1e9 ? (n / 1e9).toFixed(2) : (n / 1e9).toPrecision(3));
const kinds = (byKind: Record<string, number>) => Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(", ");

export async function runModelBench(io: CliIO, fileArg: string, f: Record<string, unknown>, program: IrProgram, o: ModelBenchFlags, host?: SourceHost): Promise<number> {
  const lastLogits = f["last-logits"] === true;
  const info = entryInfo([path.resolve(io.cwd, fileArg)], { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined), host }).info;
  if (!info) throw new Error(`internal: \`${program.entry}\` lowered but has no counts`);
  const flops = prefillFlops(info, o.tokens, { lastLogits });
  const params = program.weights.filter((w) => w.role === "param");
  const largest = params.reduce((a, w) => (w.shape.reduce((x, y) => x * y, 1) > a.shape.reduce((x, y) => x * y, 1) ? w : a), params[0]!);
  const largestBytes = largest.shape.reduce((x, y) => x * y, 1) * (o.dtype === "f16" ? 2 : 4);
  const rt = await import("../../runtime/index.js");
  const { benchmarkModel } = await import("../../runtime/bench/model-bench.js");
  const { typicalLayer } = await import("../../runtime/bench/decoder-layers.js");
  return withGpu(io, "bench", { adapter: f.adapter as string | undefined, requireF16: o.dtype === "f16" }, async (gpu) => {
    const adapter = adapterName(gpu);
    // Progress only on a terminal: a forward of a large model can take minutes.
    if (process.stderr.isTTY) io.err(`moec bench: ${program.entry} (${formatCount(info.counts.total)} parameters) at ${o.tokens} tokens on ${adapter}: drawing weights, compiling, ${o.warmup} warm-up and ${o.iterations} timed forwards each…`);
    const weights = rt.randomWeights(program, o.seed);
    const r = await benchmarkModel(gpu, program, weights, o.tokens, { flopsPerForward: flops.total, warmup: o.warmup, iterations: o.iterations, dtype: o.dtype, seed: o.seed, lastLogits, ...(o.schedule ? { fineSchedule: o.schedule } : {}) });
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const typical = typicalLayer(r.layers);
    if (f.json) {
      io.out(JSON.stringify({
        entry: program.entry, adapter, dtype: o.dtype, lastLogits,
        params: info.counts.total, largestTensor: { name: largest.name, shape: largest.shape, bytes: largestBytes },
        flops, ...r, dispatchesPerLayer: typical?.dispatches, peakRssBytes,
      }, null, 2));
      return 0;
    }
    const g = r.gemm;
    const row = (name: string, s: { msPerRun: number; gflops: number; dispatches: number; commandBuffers: number; readbacks: number }, rest: string) =>
      `  ${name.padEnd(10)} ${s.msPerRun.toFixed(2).padStart(10)} ms  ${s.gflops.toFixed(2).padStart(8)} GFLOP/s  ${String(s.dispatches).padStart(5)} dispatches  ${s.commandBuffers} cmd buf  ${s.readbacks} read-back  ${rest}`;
    const others = r.layers.filter((l) => l.dispatches !== typical?.dispatches);
    io.out([
      `${program.entry}: prefill of ${o.tokens} tokens, ${o.dtype}${lastLogits ? ", last logits only" : ""}, ${adapter} (${r.timing}, median of ${o.iterations})`,
      `  ${formatCount(info.counts.total)} parameters; largest tensor ${largest.name} [${largest.shape.join(", ")}] ${humanBytes(largestBytes)}; ${gflop(flops.total)} GFLOP per forward${flops.label === "exact" ? "" : ` (${flops.label})`} (attention ${gflop(flops.attention)})`,
      row("model", r.model, `${Math.round(r.model.tokensPerSec).toLocaleString("en-US")} tokens/s`),
      row("dense GEMM", g, `${g.count} × [${g.rows}, ${g.dim}] × [${g.dim}, ${g.dim}]`),
      `  model / dense GEMM = ${r.ratio.toFixed(2)}× GFLOP/s (fastest runs ${r.minRatio.toFixed(2)}×)`,
      typical
        ? `  dispatches per decoder layer: ${typical.dispatches} (${kinds(typical.byKind)})${others.length ? `; ${others.map((l) => `${l.layer}: ${l.dispatches} (${kinds(l.byKind)})`).join("; ")}` : ""}`
        : "  dispatches per decoder layer: none (no repeated layers)",
      `  setup ${(r.setupMs / 1000).toFixed(1)} s (upload, pipelines); peak resident memory ${humanBytes(peakRssBytes)}`,
    ].join("\n"));
    return 0;
  });
}
