// Standard router stages (LANGUAGE.md §5), registered through the plugin API's adapter: their
// StageSpecs (stdlib/stages/) carry parameters, checks, weights, state, the float64 reference
// and the native kernel codes.
import type { Registry } from "./registry.js";
import { stageDefFromSpec } from "./stage-adapter.js";
import { STD_STAGES } from "./stage-table.js";

export function registerRouterStages(reg: Registry): void {
  for (const s of STD_STAGES) reg.addStage(stageDefFromSpec(s, "std"));
}
