// What a whole-model IR program is, read as a Hugging Face decoder: the embedding, one entry per
// decoder layer (its attention block, and its FFN: a dense MLP, or routed experts with their
// router, shared experts and Qwen's shared-expert gate), the norm eps and whether lm_head is tied.
// The family config writers (family-config.ts) turn these facts into config.json fields; what the
// facts cannot say is caught afterwards, when the config is imported back and compared.
import type { IrAttention, IrMla, IrPool, IrProgram, IrRouter } from "../../ir/ir.js";

export interface LayerFacts {
  attention?: { kind: "attention"; attn: IrAttention } | { kind: "mla"; attn: IrMla };
  /** Routed experts of the layer (a sparse layer has exactly one). */
  moe: { router: IrRouter; pool: IrPool }[];
  /** Pools applied whole: a dense layer's MLP, or a sparse layer's shared experts. */
  shared: IrPool[];
  /** Linear maps of width 1 (Qwen2-MoE's shared_expert_gate). */
  gates: number;
}

export interface ModelFacts {
  vocab: number;
  dim: number;
  /** The first norm's eps (the families have one `rms_norm_eps`). */
  eps: number;
  tied: boolean;
  layers: LayerFacts[];
  /** The gated activation of the first pool, as `hidden_act` writes it. */
  act?: string;
}

const ACT: Record<string, string> = { swiglu: "silu", geglu: "gelu" };

export function modelFacts(p: IrProgram): ModelFacts {
  let vocab = 0, dim = 0, eps = 1e-6, tied = false, embedWeight = "";
  let sawNorm = false;
  const layers: LayerFacts[] = [];
  const current = () => layers[layers.length - 1];
  for (const op of p.ops) {
    switch (op.op) {
      case "embed":
        vocab = op.vocab;
        dim = p.values[op.out]!.width;
        embedWeight = op.weight;
        break;
      case "norm":
        if (!sawNorm) eps = op.eps;
        sawNorm = true;
        break;
      case "attention": case "mla":
        layers.push({ attention: op.op === "attention" ? { kind: "attention", attn: op.attn } : { kind: "mla", attn: op.attn }, moe: [], shared: [], gates: 0 });
        break;
      case "moe":
        current()?.moe.push({ router: op.router, pool: op.pool });
        break;
      case "shared":
        current()?.shared.push(op.pool);
        break;
      case "linear":
        if (op.weight === embedWeight) tied = true;
        else if (op.outDim === 1) { const l = current(); if (l) l.gates++; }
        break;
      default:
        break;
    }
  }
  const pools = layers.flatMap((l) => [...l.moe.map((m) => m.pool), ...l.shared]);
  const act = pools[0] ? ACT[pools[0].act] ?? pools[0].act : undefined;
  return { vocab, dim, eps, tied, layers, ...(act ? { act } : {}) };
}

/** The layer's routed experts, when it is sparse. */
export const sparseOf = (l: LayerFacts) => l.moe[0];
