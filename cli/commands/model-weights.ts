// What the commands that load a model's checkpoint share (`moec run`, `moec generate`): the
// Hugging Face name maps to try for a checkpoint directory or a GGUF file, loading with the unused-tensor warning
// and every binding problem listed, and the progress line of a streamed load (terminal only).
import * as fs from "node:fs";
import * as path from "node:path";
import { statusLine, type CliIO } from "../output.js";
import type { EntryInfo } from "../../compiler/driver.js";
import { hfCheckpointNames } from "../../compiler/hf/checkpoint-names.js";
import { HfMapError } from "../../compiler/hf/map.js";
import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import type { LoadOptions } from "../../runtime/index.js";
import type { HostWeights, LoadProgress } from "../../runtime/weights/host-weights.js";

type Runtime = typeof import("../../runtime/index.js");

/** The name maps to try on a checkpoint directory (undefined after reporting why there are none). */
export function checkpointNamesFor(io: CliIO, command: string, program: IrProgram, info: EntryInfo, dir: string, weightsAs: { family?: string } | undefined): CheckpointNames[] | undefined {
  if (weightsAs && info.kind !== "model") {
    io.err(`moec ${command}: --weights-as: Hugging Face names are for whole models; \`${program.entry}\` is a ${info.kind}`);
    return undefined;
  }
  try {
    return info.kind === "model" ? hfCheckpointNames(info.instance, info.name, { ...weightsAs, modelType: configModelType(dir) }) : [];
  } catch (e) {
    if (!(e instanceof HfMapError)) throw e;
    io.err(`moec ${command}: --weights-as: ${e.message}`);
    return undefined;
  }
}

/** Loads `opts.weights` for `program`; binding problems are listed and give undefined (exit 1). */
export async function loadCheckpointWeights(io: CliIO, command: string, rt: Runtime, program: IrProgram, opts: LoadOptions, shown: string, announce = true): Promise<HostWeights | undefined> {
  if (announce) statusLine(io, `moec ${command}: loading weights from ${shown}…`);
  try {
    const r = await rt.resolveWeightsAsync(program, opts);
    const unused = r.checkpoint?.unused ?? [];
    if (unused.length) {
      const list = unused.length > 6 ? `${unused.slice(0, 6).join(", ")} and ${unused.length - 6} more` : unused.join(", ");
      io.err(`moec ${command}: warning: ${unused.length} tensor${unused.length === 1 ? "" : "s"} of ${shown} (${r.checkpoint!.convention} names) ${unused.length === 1 ? "is" : "are"} not used by \`${program.entry}\`: ${list}`);
    }
    return r.weights;
  } catch (e) {
    if (e instanceof rt.WeightsError) {
      io.err(`moec ${command}: the weights do not fit \`${program.entry}\`:\n${e.errors.map((x) => "  - " + x.message).join("\n")}`);
      return undefined;
    }
    throw e;
  }
}

/** A directory that holds Hugging Face weights (model.safetensors, or an index and its shards). */
export function hasCheckpointWeights(dir: string): boolean {
  return fs.existsSync(path.join(dir, "model.safetensors")) || fs.existsSync(path.join(dir, "model.safetensors.index.json"));
}

/** config.json's model_type, to order the family maps tried (its problems are the loader's to report). */
function configModelType(dir: string): string | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as { model_type?: unknown };
    return typeof c.model_type === "string" ? c.model_type : undefined;
  } catch {
    return undefined;
  }
}

/** The progress line of a streamed load (bytes read, MB/s), drawn only on a terminal. */
export function loadProgress(io: CliIO, command: string): { update?: (p: LoadProgress) => void; start(): void; finish(): void } {
  if (!io.progress) return { start() {}, finish() {} };
  const draw = io.progress.bind(io);
  let t0 = performance.now(), last = 0, latest: LoadProgress | undefined;
  const line = (p: LoadProgress) => {
    const s = Math.max(1e-3, (performance.now() - t0) / 1000);
    return `moec ${command}: loading weights: ${(p.loadedBytes / 1e6).toFixed(1)} of ${(p.totalBytes / 1e6).toFixed(1)} MB (${(p.loadedBytes / 1e6 / s).toFixed(1)} MB/s)`;
  };
  return {
    update(p) {
      latest = p;
      const now = performance.now();
      if (now - last >= 100) {
        last = now;
        draw(line(p));
      }
    },
    start() {
      t0 = performance.now();
    },
    finish() {
      if (latest) draw(line(latest), true);
    },
  };
}
