// `moec bench MODEL --decode`: a model's decode steps (the real generation step: model + greedy GPU
// sampler, one command buffer, 8 bytes read back) timed against a plain streaming read of the same
// device in the same process (runtime/bench/decode-bench.ts), with the bytes a step reads from the
// compiler's counts (compiler/report/decode-bytes.ts): active weights at the storage dtype plus the
// KV rows attention reads at each step's position.
import type { EntryInfo } from "../../compiler/driver.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { attentionGroups } from "../../compiler/report/attention.js";
import { decodeWeightRead, kvReadBytes } from "../../compiler/report/decode-bytes.js";
import { humanBytes } from "../../compiler/report/memory.js";
import { formatCount } from "../../compiler/report/numbers.js";
import { UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { adapterName, withGpu } from "./gpu-commands.js";
import type { WeightFormat } from "./weight-format.js";
import type { Schedule } from "./schedule-flag.js";

export interface DecodeBenchFlags {
  context: number;
  steps: number;
  warmup: number;
  dtype: "f32" | "f16";
  kvDtype: "f32" | "f16";
  weightFormat: WeightFormat | undefined;
  schedule: Schedule | undefined;
  seed: number;
  batch: number;
}

const gbps = (bytesPerSec: number) => `${(bytesPerSec / 1e9).toFixed(2)} GB/s`;
const kinds = (byKind: Record<string, number>) => Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(", ");

export async function runDecodeBench(io: CliIO, f: Record<string, unknown>, program: IrProgram, info: EntryInfo, o: DecodeBenchFlags): Promise<number> {
  if (o.context <= o.steps + o.warmup) {
    throw new UsageError(`--context ${o.context} leaves no prompt before ${o.warmup} warm-up and ${o.steps} timed steps (--warmup, --tokens); give a context above ${o.steps + o.warmup}`);
  }
  const groups = attentionGroups(info.instance);
  if (groups.length === 0) throw new UsageError(`--decode needs a model with attention (a KV cache to decode over); \`${program.entry}\` has none`);
  const B = o.batch;
  const weightRead = decodeWeightRead(info);
  // B rows read the dense weights once; routed experts at most B times their active share, never
  // more than the whole pool (rows may share experts, so for B > 1 this is an upper bound).
  const experts = info.counts.byCategory.experts;
  const weightParams = experts && B > 1 ? weightRead.params - experts.active + Math.min(experts.total, B * experts.active) : weightRead.params;
  const weightBytes = weightParams * (o.dtype === "f16" ? 2 : 4);
  const bound = experts !== undefined && B > 1;
  const kvBytes = o.kvDtype === "f16" ? 2 : 4;
  // Blocks (--weight-format): dense matrices are read whole each step, routed experts by the share
  // counted above (their whole pool's saving times read / total); an embedding row stays counted in --dtype.
  const expertShare = experts ? (weightParams - (weightRead.params - experts.active)) / experts.total : 0;
  const weightsReadAs = (saved: { whole: number; routed: number }) => weightBytes - saved.whole - saved.routed * expertShare;
  const bytesPerStep = (position: number, saved: { whole: number; routed: number }) => weightsReadAs(saved) + B * kvReadBytes(groups, kvBytes, position);
  const rt = await import("../../runtime/index.js");
  const { benchmarkDecode } = await import("../../runtime/bench/decode-bench.js");
  const { typicalLayer } = await import("../../runtime/bench/decoder-layers.js");
  return withGpu(io, "bench", { adapter: f.adapter as string | undefined, requireF16: o.dtype === "f16" || o.kvDtype === "f16" }, async (gpu) => {
    const adapter = adapterName(gpu);
    if (process.stderr.isTTY) io.err(`moec bench: ${program.entry} (${formatCount(info.counts.total)} parameters): drawing weights, compiling, prefilling ${o.context - o.steps - o.warmup} tokens, ${o.warmup} warm-up and ${o.steps} timed decode steps…`);
    const weights = rt.randomWeights(program, o.seed);
    const r = await benchmarkDecode(gpu, program, weights, { context: o.context, steps: o.steps, warmup: o.warmup, dtype: o.dtype, kvDtype: o.kvDtype, seed: o.seed, batch: B, bytesPerStep, ...(o.weightFormat ? { weightFormat: o.weightFormat } : {}), ...(o.schedule ? { fineSchedule: o.schedule } : {}) });
    // Dense matrices kept as blocks are read as blocks (Executor.blockBytesSaved).
    const weightsRead = weightsReadAs(r.blockBytesSaved);
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const kvPerStep = r.decode.bytesPerStep - weightsRead;
    const typical = typicalLayer(r.layers);
    if (f.json) {
      io.out(JSON.stringify({
        entry: program.entry, adapter, dtype: o.dtype, kvDtype: o.kvDtype, weightFormat: o.weightFormat ?? null,
        params: info.counts.total, activeParams: info.counts.active, activeLabel: info.counts.activeLabel,
        bytesPerStep: { weights: weightsRead, weightParams, kv: kvPerStep, total: r.decode.bytesPerStep, ...(bound ? { bound: "upper: the rows' experts counted as distinct" } : {}) },
        ...r, dispatchesPerLayer: typical?.dispatches, peakRssBytes,
      }, null, 2));
      return 0;
    }
    const d = r.decode;
    const s = r.stream;
    const others = r.layers.filter((l) => l.dispatches !== typical?.dispatches);
    io.out([
      `${program.entry}: decode at positions ${r.positions[0]}…${r.positions[1]} (context ${r.context}), batch ${B}, ${o.dtype} weights${o.weightFormat ? ` (as ${o.weightFormat} blocks where --weight-format applies)` : ""}, ${o.kvDtype} KV cache, ${adapter} (${r.timing}, median of ${r.steps} steps)`,
      `  ${formatCount(info.counts.total)} parameters, ${formatCount(weightParams)} read per step${weightRead.label === "exact" ? "" : ` (${weightRead.label})`}${bound ? ` (at most: ${B} rows' experts counted as distinct)` : ""}; bytes per step ${humanBytes(d.bytesPerStep)} (weights ${humanBytes(weightsRead)} + KV ${humanBytes(kvPerStep)})`,
      `  decode      ${d.msPerStep.toFixed(2).padStart(9)} ms/step  ${d.tokensPerSec.toFixed(2).padStart(8)} tokens/s  host ${d.hostMsPerStep.toFixed(2)} ms/step (${(100 * d.hostShare).toFixed(1)}% of a step; submit ${d.submitCallMs.toFixed(2)} ms)  ${gbps(d.bytesPerSec)}  ${d.dispatches} dispatches  ${d.commandBuffers} cmd buf  ${d.readbacks} read-back`,
      `  stream read ${s.msPerRun.toFixed(2).padStart(9)} ms/run   over ${humanBytes(s.bytes)} (${s.buffers} buffer${s.buffers === 1 ? "" : "s"})  ${gbps(s.bytesPerSec)}`,
      `  decode / stream bandwidth = ${r.ratio.toFixed(2)}×`,
      typical
        ? `  dispatches per decoder layer: ${typical.dispatches} (${kinds(typical.byKind)})${others.length ? `; ${others.map((l) => `${l.layer}: ${l.dispatches} (${kinds(l.byKind)})`).join("; ")}` : ""}`
        : "  dispatches per decoder layer: none (no repeated layers)",
      `  setup ${(r.setupMs / 1000).toFixed(1)} s (upload, pipelines); prefill of ${r.promptTokens} tokens ${(r.prefillMs / 1000).toFixed(1)} s; peak resident memory ${humanBytes(peakRssBytes)}`,
    ].join("\n"));
    return 0;
  });
}
