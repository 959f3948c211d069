// Stage implementations by name, for the runtime (GPU kernels and the float64 reference): the
// IR names its stages; the standard library's are always here, plugin stages are added when a
// plugin is loaded (compiler/plugins/loader.ts). A process loads plugins explicitly (CLI flags,
// trusted configuration, `compile({ plugins })`), never because of a .moe file.
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

const plugins = new Map<string, RuntimeStage>();

/** Makes a plugin stage executable. A later registration of the same name replaces it. */
export function registerRuntimeStage(spec: StageSpec, source: string): void {
  if (std.has(spec.name)) throw new Error(`stage '${spec.name}' is a standard-library stage; ${source} cannot replace it`);
  plugins.set(spec.name, { spec, source });
}

export function unregisterRuntimeStage(name: string): void {
  plugins.delete(name);
}

export function runtimeStage(name: string): RuntimeStage | undefined {
  const s = std.get(name);
  if (s) return { spec: s, source: "std", native: s.native };
  return plugins.get(name);
}
