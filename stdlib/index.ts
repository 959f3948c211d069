// The standard library: every name a .moe file sees without importing it.
import { Registry } from "./registry.js";
import { expertKindDefFromSpec } from "./expert-kinds/kind-adapter.js";
import { STD_EXPERT_KINDS } from "./expert-kinds/index.js";
import { registerRouterStages } from "./router-stages.js";

export * from "./registry.js";
export { isGatedAct, GATED_ACTS, PLAIN_ACTS } from "./expert-kinds/index.js";

/** A fresh registry holding the standard library; plugins add to it. */
export function createStdRegistry(): Registry {
  const reg = new Registry();
  for (const k of STD_EXPERT_KINDS) reg.addExpertKind(expertKindDefFromSpec(k, "std"));
  registerRouterStages(reg);
  return reg;
}
