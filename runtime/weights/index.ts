// Weights: canonical layout, binding files to it, and the reverse for writing test checkpoints.
export { bindWeights, type BindError, type BindResult, type TensorLike, type WeightSource } from "./bind-weights.js";
export { loadWeights } from "./load-weights.js";
export { randomWeights } from "./random-weights.js";
export { canonicalToFile, type CanonicalToFileOptions, type FileForm } from "./canonical-to-file.js";
export { canonicalLayout, poolParams, type CanonicalLayout, type PoolParam, type TensorSpec, type PoolTensorSpec } from "./canonical-layout.js";
