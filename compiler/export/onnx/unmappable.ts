// The constructs of a lowered program that `moec export onnx` cannot write, found on the IR: each
// problem names the construct and carries the weight key of the block it belongs to, so the front
// door can locate it in the source (locate.ts). Codes ONNX001–ONNX005 (docs/scale-out.md).
import type { IrOp, IrPool, IrProgram } from "../../ir/ir.js";
import { moeRouting } from "./moe-routing.js";

export interface OnnxProblem {
  code: string;
  message: string;
  /** The weight key of the block (`layers.0.mlp.r`), for the source location. */
  key?: string;
  help?: string;
}

/** Activations com.microsoft.MoE applies inside its experts (`activation_type`). */
const MOE_ACTS = new Set(["swiglu", "silu", "relu", "identity"]);

function poolProblem(pool: IrPool, routed: boolean): OnnxProblem | undefined {
  if (pool.kind !== "ffn" || pool.members || pool.pluginKind) {
    const what = pool.kind === "mixed" ? "experts of several kinds" : `\`${pool.kind}\` experts`;
    return { code: "ONNX002", key: pool.key, message: `pool \`${pool.key}\` has ${what}; the ONNX export writes feed-forward (ffn) experts only` };
  }
  if (routed && !MOE_ACTS.has(pool.act)) {
    return {
      code: "ONNX002", key: pool.key,
      message: `pool \`${pool.key}\` uses act = ${pool.act}, which com.microsoft.MoE does not apply`,
      help: "the operator's activations are swiglu, silu, relu and identity",
    };
  }
  return undefined;
}

function opProblems(op: IrOp): OnnxProblem[] {
  switch (op.op) {
    case "moe": {
      const out: OnnxProblem[] = [];
      const r = moeRouting(op.router);
      if (op.router.unit === "sequence") out.push({ code: "ONNX001", key: op.router.key, message: `router \`${op.router.key}\` routes per sequence (one decision from the mean of the run's rows); com.microsoft.MoE routes each token`, help: "export it with `moec export torch`" });
      else if ("refused" in r) out.push({ code: "ONNX001", key: op.router.key, message: r.refused, help: "com.microsoft.MoE routes by a softmax over linear logits, top-k, optionally renormalized (renorm) and scaled" });
      const p = poolProblem(op.pool, true);
      if (p) out.push(p);
      return out;
    }
    case "shared": {
      const p = poolProblem(op.pool, false);
      return p ? [p] : [];
    }
    case "mla":
      return [{ code: "ONNX003", key: op.attn.key, message: `multi-head latent attention \`${op.attn.key}\` has no com.microsoft operator; the ONNX export writes GroupQueryAttention only`, help: "export this model with `moec export hf` (deepseek_v3) or `moec export torch`" }];
    case "moe_agents":
      return [{ code: "ONNX002", key: op.key, message: `pool \`${op.key}\` has agents as experts (members that are layers, each run on its own routed tokens); the ONNX export writes feed-forward (ffn) experts only`, help: "export it with `moec export torch`" }];
    case "peer_attention":
      return [{ code: "ONNX003", key: op.key, message: `peer attention \`${op.key}\` (Mixture of Thoughts: one softmax over every peer's positions) has no com.microsoft operator`, help: "export it with `moec export torch`" }];
    case "attention": {
      const a = op.attn;
      if (a.rope.kind !== "none" && a.rope.dim !== a.headDim) {
        return [{ code: "ONNX004", key: a.key, message: `attention \`${a.key}\` rotates ${a.rope.dim} of its ${a.headDim} head values (partial rotary), which the export does not write` }];
      }
      return [];
    }
    default:
      return [];
  }
}

/** Every construct of `program` the export refuses (deduplicated by code and key). */
export function onnxProblems(program: IrProgram): OnnxProblem[] {
  const seen = new Set<string>();
  const out: OnnxProblem[] = [];
  for (const op of program.ops) {
    for (const p of opProblems(op)) {
      const k = `${p.code} ${p.key}`;
      if (!seen.has(k)) (seen.add(k), out.push(p));
    }
  }
  return out;
}
