// The router kernels. The fused path (runtime/executor/lower-router.ts) plans a router with
// router-plan.ts and runs router-fused.ts (one pipeline for every std-only router; plugin stages
// add cases), plus router-aux-kernels.ts (expert choice thresholds, statistics, state update).
// router-options.ts maps a router onto the stages the unfused baseline implements.

export * from "./router-options.js";
export { fusedRouterKernel, fusedRouterTokensPerWorkgroup } from "./router-fused.js";
export { planRouter, RouterPlanError } from "./router-plan.js";
