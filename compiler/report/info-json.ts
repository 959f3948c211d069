// The stable JSON shape of `moec info` (and the language server's `moec/info` request).
import type { EntryInfo } from "../compile-pipeline.js";

/** The stable JSON shape (`entry`, `params`, `flops_per_token`, `weights`); `weights` optional for --compare. */
export function infoJson(info: EntryInfo, withWeights = true): Record<string, unknown> {
  const c = info.counts;
  return {
    entry: info.name,
    kind: info.kind,
    hyper_parameters: info.hyper,
    params: { total: c.total, active: c.active, ...(c.activeLabel !== "exact" ? { active_is: c.activeLabel } : {}) },
    flops_per_token: c.flops,
    ...(c.flopsLabel !== "exact" ? { flops_per_token_is: c.flopsLabel } : {}),
    params_by_category: c.byCategory,
    ...(withWeights ? { weights: info.weights } : {}),
  };
}
