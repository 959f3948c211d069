// `moec tune`: measures the GEMM shape classes on an adapter (runtime/tune/), prints each class's
// choice against the deterministic fallback, then each pool class's schedule by T and its
// crossovers (the schedule step), and writes the table to the adapter's tuning cache,
// which every GPU command then reads. Explicit only: on a CPU adapter the search compiles a few
// dozen pipelines at 1–10 s each, too slow to start unasked on a first run.
import type { CommandSpec } from "../args.js";
import { parseArgs } from "../args.js";
import { statusLine, type CliIO } from "../output.js";
import { adapterName, withGpu } from "./gpu-commands.js";
import { compile } from "../../compiler/index.js";
import { VERSION } from "../../compiler/version.js";
import type { TuningTable } from "../../runtime/tune/tuning-table.js";
import { shapeName } from "../../runtime/tune/tuned-shape.js";
import type { ScheduleStep } from "../../runtime/tune/schedule-table.js";

export const tuneSpec: CommandSpec = {
  name: "tune",
  summary: "measure the GEMM shapes and the routed pools' schedule crossovers on this adapter and cache them",
  usage: "moec tune [--adapter NAME] [--quick] [--json] [--dry-run]",
  positionals: { name: "no arguments", min: 0, max: 0 },
  flags: [
    { name: "adapter", type: "string", value: "NAME", help: "tune the WebGPU adapter whose name contains NAME (or MOEC_ADAPTER)" },
    { name: "quick", type: "boolean", help: "fewer candidates, smaller problems, median of 3 (instead of 7) runs; the schedule step at the small width only, T up to 64" },
    { name: "json", type: "boolean", help: "print the tuning table as JSON (the cache file's contents) instead of the summary" },
    { name: "dry-run", type: "boolean", help: "measure and print, but do not write the cache" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details:
    "Each shape class (dense products by rows 1, 2-4, 5-8, 9-64, 65+ and K up to 1024 or above; grouped expert GEMMs by K)\n" +
    "runs its candidate GEMM shapes on a problem of its size, checks each output against the default shape's, and keeps\n" +
    "the fastest (GPU timestamps where the adapter has them, else wall clock). Then the schedule step: routed SwiGLU pools\n" +
    "(coarse: 8 experts top-2; fine: 64 experts top-6; all: 8 experts, every token to every expert; D 128 and 512) run\n" +
    "token-centric, on grouped expert GEMMs and (all) on dense GEMMs at T = 1, 2, 4, … (up to 256); where another\n" +
    "schedule takes over and holds at the next T too is the class's crossover (the sweep stops there), which\n" +
    "`--schedule auto` of run, generate and bench follows. The table is written to $XDG_CACHE_HOME/moec/tuning/\n" +
    "(default ~/.cache/moec/tuning/), one file per adapter and driver, and read by every GPU command; MOEC_TUNING=off\n" +
    "ignores it. Tuning runs only when asked: without a cache, the default shapes and schedules apply.",
};

const ms = (t: number): string => `${t.toFixed(t < 10 ? 3 : 1)} ms`;

const stepsText = (steps: readonly ScheduleStep[]): string => steps.map((s, i) => (i === 0 ? s.schedule : `${s.schedule} from T = ${s.from}`)).join(", ");

/** The schedule step's summary: one line per pool class, the winner at each T and the crossovers. */
export function scheduleSummary(t: TuningTable): string[] {
  const rows = Object.entries(t.schedules).map(([cls, e]) => [cls, e.problem, e.points.map((p) => `${p.tokens}:${p.winner}`).join(" "), stepsText(e.steps)]);
  if (rows.length === 0) return [];
  const head = ["pool class", "problem", "winner by T", "schedule (auto)"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The summary: one line per class. */
export function tuningSummary(t: TuningTable): string[] {
  const rows = Object.entries(t.entries).map(([cls, e]) => {
    return [cls, e.problem, shapeName(e.shape), ms(e.ms), shapeName(e.fallback), ms(e.fallbackMs), `${(e.fallbackMs / e.ms).toFixed(2)}×`];
  });
  const head = ["class", "problem", "chosen", "time", "fallback", "time", "speed-up"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd();
  return [line(head), ...rows.map(line)];
}

export async function runTune(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, tuneSpec);
  const f = args.flags;
  return withGpu(io, "tune", { adapter: f.adapter as string | undefined, tuning: false }, async (gpu) => {
    const { runTuning } = await import("../../runtime/tune/tune-search.js");
    const { writeTuningCache, tuningCacheFile } = await import("../../runtime/tune/tuning-cache.js");
    statusLine(io, `moec tune: measuring GEMM shapes on ${adapterName(gpu)}${f.quick ? " (quick)" : ""}…`);
    const table = await runTuning(gpu, {
      quick: Boolean(f.quick),
      version: VERSION,
      compile(source) {
        const c = compile({ source });
        if (!c.ok || !c.program) throw new Error(`internal: a tuning problem does not compile:\n${c.formatDiagnostics()}`);
        return c.program;
      },
      ...(io.progress ? { progress: (t: string) => io.progress!(t) } : {}),
    });
    io.progress?.(`moec tune: ${Object.keys(table.entries).length} GEMM classes and ${Object.keys(table.schedules).length} pool classes measured`, true);
    let written: string | undefined;
    if (!f["dry-run"]) {
      try {
        written = writeTuningCache(table);
      } catch (e) {
        io.err(`moec tune: cannot write the tuning cache ${tuningCacheFile(table.key)}: ${(e as Error).message}`);
        return 1;
      }
    }
    if (f.json) io.out(JSON.stringify(table, null, 2));
    else {
      io.out(`${adapterName(gpu)} (${table.clock === "gpu-timestamps" ? "GPU timestamps" : "wall clock"}, medians of ${f.quick ? 3 : 7})`);
      for (const l of tuningSummary(table)) io.out(l);
      for (const l of scheduleSummary(table)) io.out(l);
      io.out(written ? `written to ${written}` : "not written (--dry-run)");
    }
    return 0;
  });
}
