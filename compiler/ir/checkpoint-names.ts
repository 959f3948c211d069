// How a checkpoint's tensor names translate to moec's (LANGUAGE.md §7, §13.3): plain data that
// the compiler computes from a model's structure (compiler/hf) and the runtime applies when it
// reads a checkpoint directory, so the runtime needs no part of the compiler beyond the IR.

export interface CheckpointTensorName {
  /** The name in the checkpoint: `model.layers.0.block_sparse_moe.experts.3.w1.weight`. */
  file: string;
  /** The moec name in one of the §7 file forms: a plain tensor, a routed expert's per-member
   *  name (`….E.3.w_gate`) or a shared pool's concatenated name (`….S.w_up` [N·I, D]). */
  moec: string;
  /** The shape the checkpoint must store. */
  shape: number[];
  /** Router state (`e_score_correction_bias` → `e_bias`). */
  state?: boolean;
}

export interface CheckpointNames {
  /** The convention, for messages and `--weights-as`: `hf:mixtral`. */
  convention: string;
  /** Where the names are defined, for messages: `modeling_mixtral.py`. */
  source: string;
  tensors: CheckpointTensorName[];
}
