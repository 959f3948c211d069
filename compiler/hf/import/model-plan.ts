// What an imported config becomes, before it is text: the model's hyper-parameters, its sparse
// block (a layer), and one description per decoder layer. Each piece carries the config fields it
// came from, which the emitter writes as comments. Family readers build it; emit-program.ts prints it.
import type { HfFamilyName } from "../families.js";

/** A named argument of a call, its value already written as .moe source. */
export interface Arg {
  name: string;
  value: string;
}

/** A hyper-parameter of the model or the sparse layer, and the field it holds. */
export interface Hyper {
  name: string;
  value: number;
  from: string;
}

/** A statement of the sparse layer's body, with the fields it came from. */
export interface Line {
  code: string;
  from?: string;
}

export interface SparseLayerPlan {
  name: string;
  params: Hyper[];
  body: Line[];
  /** Arguments of the call in a decoder layer (`N = N, I = I`). */
  callArgs: Arg[];
  /** What the layer is, for the comment above it. */
  about: string;
}

export interface AttentionPlan {
  block: "attention" | "mla";
  args: Arg[];
  from: string;
}

export type FfnPlan =
  | { kind: "dense"; args: Arg[]; from: string }
  | { kind: "sparse"; from: string };

/** One decoder layer; consecutive equal layers become one `repeat` stack. */
export interface DecoderLayerPlan {
  attention: AttentionPlan;
  ffn: FfnPlan;
}

export interface ModelPlan {
  /** The config's `model_type`, which is also the entry's name. */
  modelType: string;
  /** The weight-name family (compiler/hf/families.ts) of the checkpoint. */
  family: HfFamilyName;
  modeling: string;
  hyper: Hyper[];
  sparse?: SparseLayerPlan;
  /** The decoder layer's FFN module: `mlp`, or Mixtral's `block_sparse_moe` for sparse layers. */
  sparseModule: string;
  layers: DecoderLayerPlan[];
  normEps: number;
  normFrom: string;
  tied: boolean;
  /** Header notes: fields read that change no weight or need saying (derived head_dim, MTP, fp8). */
  notes: string[];
}

/** A float literal the lexer reads as a float: `1000000.0`, `1e-5`, `0.707`, `1e21`. */
export function floatLit(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return `${v}.0`;
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential().replace("e+", "e");
  const s = String(v).replace("e+", "e");
  return /^-?\d+e/.test(s) ? s.replace(/^(-?\d+)e/, "$1.0e") : s;
}
