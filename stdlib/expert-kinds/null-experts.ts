// Null experts (AdaMoE, MoE++): `identity()` returns its input, `zero()` returns zeros. No weights;
// on the GPU they cost a branch in the combine (or nothing).
import type { ExpertKindSpec } from "@moec/plugin-api";

export const IDENTITY: ExpertKindSpec = {
  name: "identity",
  doc: "Null expert returning its input.",
  form: () => ({ hidden: 0, act: "identity", bias: false }),
  tensors: () => [],
  gpu: () => ({ as: "identity" }),
  schedule: "token",
  reference: ({ x }) => Float64Array.from(x),
};

export const ZERO: ExpertKindSpec = {
  name: "zero",
  doc: "Null expert returning zeros.",
  form: () => ({ hidden: 0, act: "identity", bias: false }),
  tensors: () => [],
  gpu: () => ({ as: "zero" }),
  schedule: "token",
  reference: ({ dim }) => new Float64Array(dim),
};
