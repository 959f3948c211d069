// Plugin stages travel with the program: every router of a lowered program gets the
// implementations (plugin-API StageSpecs) of the plugin stages it names, taken from the registry
// the program was checked with. The runtime reads them from the router (stdlib/stage-table.ts),
// so programs compiled with different plugins run in one process without a shared table.
import type { IrProgram } from "../ir/ir.js";
import type { Registry } from "../../stdlib/registry.js";
import { isStdStage, type RuntimeStage } from "../../stdlib/stage-table.js";

export function attachPluginStages(program: IrProgram, registry: Registry): void {
  for (const op of program.ops) {
    if (op.op !== "moe") continue;
    const own = new Map<string, RuntimeStage>();
    for (const s of op.router.stages) {
      if (isStdStage(s.name) || own.has(s.name)) continue;
      const def = registry.stages.get(s.name);
      if (def?.spec) own.set(s.name, { spec: def.spec, source: def.source });
    }
    if (own.size) op.router.pluginStages = own;
  }
}
