// The standard library: every name a .moe file sees without importing it.
import { Registry } from "./registry.js";
import { registerExpertKinds } from "./expert-kinds.js";
import { registerRouterStages } from "./router-stages.js";

export * from "./registry.js";
export { isGatedAct, GATED_ACTS, PLAIN_ACTS } from "./expert-kinds.js";

/** A fresh registry holding the standard library; plugins add to it. */
export function createStdRegistry(): Registry {
  const reg = new Registry();
  registerExpertKinds(reg);
  registerRouterStages(reg);
  return reg;
}
