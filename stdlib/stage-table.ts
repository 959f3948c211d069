// Stage implementations by name, for the runtime (GPU kernels and the float64 reference). The
// standard library's stages are constants here; a plugin's stages travel with the routers that
// use them (IrRouter.pluginStages, attached by the compiler from the registry it checked with),
// so there is no process-wide table: two programs compiled with different plugins run side by
// side in one process, and a router whose plugin was not loaded names the missing stage.
import type { StageSpec } from "@moec/plugin-api";
import { SCORE_STAGES } from "./stages/score-stages.js";
import { TRANSFORM_STAGES } from "./stages/transform-stages.js";
import { POST_STAGES, SELECT_STAGES } from "./stages/select-stages.js";
import type { StdStageSpec } from "./stages/std-spec.js";

export const STD_STAGES: readonly StdStageSpec[] = [...SCORE_STAGES, ...TRANSFORM_STAGES, ...SELECT_STAGES, ...POST_STAGES];

const std = new Map<string, StdStageSpec>(STD_STAGES.map((s) => [s.name, s]));

export interface RuntimeStage {
  spec: StageSpec;
  /** `std` or the plugin's `name@version`. */
  source: string;
  /** Std stages: codes of the uniform-driven kernel path. */
  native?: StdStageSpec["native"];
}

/** Plugin stages by name, as a router carries them. */
export type PluginStages = ReadonlyMap<string, RuntimeStage>;

export const isStdStage = (name: string): boolean => std.has(name);

/** The implementation of stage `name`: the standard library's, else the router's plugin stage. */
export function runtimeStage(name: string, plugins?: PluginStages): RuntimeStage | undefined {
  const s = std.get(name);
  if (s) return { spec: s, source: "std", native: s.native };
  return plugins?.get(name);
}

/** Is §10's p the softmax of a pipeline's pre-selection weight stream, as written ("where that
 *  stream can be negative")? Decided from the stages' `nonNegative`, not from values; read by the
 *  runtime's statistics and the PyTorch export alike. */
export function weightStreamCanBeNegative(stages: readonly { name: string; role: string }[], plugins?: PluginStages): boolean {
  const selAt = stages.findIndex((s) => s.role === "select");
  const spec = (i: number) => runtimeStage(stages[i]!.name, plugins)?.spec;
  let nn = spec(0)?.nonNegative === true;
  for (let i = 1; i < selAt; i++) {
    const s = spec(i);
    if (!s || (s.stream ?? "both") === "selection" || s.nonNegative === "preserve") continue;
    nn = s.nonNegative === true;
  }
  return !nn;
}
