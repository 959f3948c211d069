// Weights: canonical layout, binding files to it, and the reverse for writing test checkpoints.
export { bindWeights, bindWeightsLazy, type BindError, type BindResult, type LazyBindResult, type PlannedTensor, type TensorLike, type LazyTensorLike, type WeightSource } from "./bind-weights.js";
export { openCheckpointDir, isCheckpointDir, type CheckpointDir } from "./checkpoint-dir.js";
export { nameCheckpoint } from "./checkpoint-names.js";
export { loadCheckpointDir, type CheckpointLoadOptions, type CheckpointLoad } from "./load-checkpoint.js";
export { StreamedWeights, type HostWeights, type LoadProgress } from "./host-weights.js";
export { loadWeights, streamWeights } from "./load-weights.js";
export { randomWeights, RandomWeights } from "./random-weights.js";
export { NonFiniteWeightsCheck } from "./nonfinite-weights.js";
export { canonicalToFile, type CanonicalToFileOptions, type FileForm } from "./canonical-to-file.js";
export { canonicalLayout, poolParams, type CanonicalLayout, type PoolParam, type TensorSpec, type PoolTensorSpec } from "./canonical-layout.js";
