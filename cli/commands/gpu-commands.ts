// What the commands that run programs share: lowering the entry (printing diagnostics and the
// constructs that cannot run yet), and a GPU session that is always disposed and that turns a
// missing adapter into the message of what to install.
import * as path from "node:path";
import type { CliIO } from "../output.js";
import { VERSION } from "../../compiler/version.js";
import { parseSets } from "../args.js";
import { lowerEntry, type EntryInfo } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { printDiagnostics } from "./print-diagnostics.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import type { DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import type { Registry } from "../../stdlib/registry.js";
import type { SourceHost } from "../../compiler/semantic/module-loader.js";

/** The entry's IR, or undefined after printing why there is none. */
export function lowerForRun(io: CliIO, fileArg: string, flags: Record<string, unknown>, registry?: Registry, host?: SourceHost): IrProgram | undefined {
  return lowerForRunWithInfo(io, fileArg, flags, registry, host)?.program;
}

/** lowerForRun, with the entry's info (its instance tree, for checkpoint name maps). */
export function lowerForRunWithInfo(io: CliIO, fileArg: string, flags: Record<string, unknown>, registry?: Registry, host?: SourceHost): { program: IrProgram; info: EntryInfo } | undefined {
  const r = lowerForGenerate(io, fileArg, flags, registry, host);
  if (r?.decodingGraph) {
    io.err(`moec: \`${r.info.name}\` is a decoding graph over model agents (LANGUAGE.md §11.2); run it with \`moec generate\``);
    return undefined;
  }
  return r?.program ? { program: r.program, info: r.info } : undefined;
}

/** The entry's IR, or its decoding graph (§11.2), or undefined after printing why there is neither. */
export function lowerForGenerate(io: CliIO, fileArg: string, flags: Record<string, unknown>, registry?: Registry, host?: SourceHost): { program?: IrProgram; decodingGraph?: DecodingGraph; info: EntryInfo } | undefined {
  const file = path.resolve(io.cwd, fileArg);
  const lowered = lowerEntry([file], { entry: flags.entry as string | undefined, set: parseSets(flags.set as string[] | undefined), registry, host });
  printDiagnostics(lowered.diagnostics, undefined, io, false);
  if (hasErrors(lowered.diagnostics)) return undefined;
  if (lowered.decodingGraph) return { decodingGraph: lowered.decodingGraph, info: lowered.info! };
  if (!lowered.program) return undefined;
  if (lowered.unsupported.length) {
    for (const u of lowered.unsupported) io.err(`${displayPath(u.file, io.cwd)}: cannot run yet: ${u.message}`);
    return undefined;
  }
  return { program: lowered.program, info: lowered.info! };
}

export function adapterName(gpu: GpuContext): string {
  return gpu.adapterInfo.description || gpu.adapterInfo.device || gpu.adapterInfo.vendor || "the adapter";
}

/** Runs `body` with a GPU (and the adapter's tuning cache attached, unless `tuning: false`); exit 1
 *  with the install advice when there is no adapter. */
export async function withGpu(io: CliIO, command: string, opts: { adapter?: string; requireF16?: boolean; tuning?: false }, body: (gpu: GpuContext) => Promise<number>): Promise<number> {
  const { GpuUnavailableError } = await import("../../runtime/gpu/device.js");
  const { acquireGpu } = await import("../../runtime/gpu/dawn.js");
  let gpu: GpuContext;
  try {
    gpu = await acquireGpu({ ...(opts.adapter !== undefined ? { adapter: opts.adapter } : {}), ...(opts.requireF16 ? { requireF16: true } : {}) });
  } catch (e) {
    if (e instanceof GpuUnavailableError) {
      io.err(`moec ${command}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (opts.tuning !== false) {
    const { readTuningCache } = await import("../../runtime/tune/tuning-cache.js");
    const table = readTuningCache(gpu.adapterInfo, VERSION, (m) => io.err(`moec ${command}: warning: ${m}`));
    if (table) gpu.tuning = table;
  }
  try {
    return await body(gpu);
  } catch (e) {
    // The runtime's own errors describe a limitation or bad input, not a bug in moec.
    if (e instanceof Error && RUNTIME_ERRORS.has(e.name)) {
      io.err(`moec ${command}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    gpu.dispose();
  }
}

const RUNTIME_ERRORS = new Set([
  "ActivationTooLargeError", "DeviceMemoryError", "ExecutorInputError", "KernelCompileError", "PluginWgslError", "RouterPlanError",
  "RunInputError", "GgufError", "ScheduleUnsupportedError", "TokenChunkError", "UnsupportedStageError", "WeightError", "WeightsError",
]);
