// Standard expert kinds (LANGUAGE.md §4). Weights are per expert, PyTorch [out, in] layout.
import type { ExpertKindDef, Registry } from "./registry.js";

export const GATED_ACTS = ["swiglu", "geglu"] as const;
export const PLAIN_ACTS = ["relu", "gelu", "silu", "identity"] as const;
const ALL_ACTS = [...GATED_ACTS, ...PLAIN_ACTS];

export function isGatedAct(act: unknown): boolean {
  return act === "swiglu" || act === "geglu";
}

const ffn: ExpertKindDef = {
  name: "ffn",
  doc: "Feed-forward expert: `w_down · (act(w_gate·x) ⊙ (w_up·x))` for gated acts, `w_down · act(w_up·x)` otherwise.",
  params: [
    { name: "hidden", type: "int", min: 1, positional: true, doc: "hidden units I" },
    { name: "act", type: "enum", values: ALL_ACTS, default: "swiglu", doc: "activation; swiglu/geglu are gated" },
    { name: "bias", type: "bool", default: false, doc: "adds b_up, b_down (and b_gate for gated acts)" },
  ],
  splits: "hidden",
  weights(args, dim) {
    const I = args.hidden as number;
    const gated = isGatedAct(args.act);
    const w = [];
    if (gated) w.push({ name: "w_gate", shape: [I, dim], matmul: true });
    w.push({ name: "w_up", shape: [I, dim], matmul: true });
    w.push({ name: "w_down", shape: [dim, I], matmul: true });
    if (args.bias === true) {
      if (gated) w.push({ name: "b_gate", shape: [I] });
      w.push({ name: "b_up", shape: [I] });
      w.push({ name: "b_down", shape: [dim] });
    }
    return w;
  },
  source: "std",
};

const atom: ExpertKindDef = {
  name: "atom",
  doc: "Single-neuron expert (PEER, OmniMoE): `act(u·x) · v`; gated: `silu(u_gate·x) · (u_up·x) · v`.",
  params: [{ name: "act", type: "enum", values: ALL_ACTS, default: "silu", positional: true, doc: "activation" }],
  weights(args, dim) {
    if (isGatedAct(args.act)) {
      return [
        { name: "u_gate", shape: [dim], matmul: true },
        { name: "u_up", shape: [dim], matmul: true },
        { name: "v", shape: [dim], matmul: true },
      ];
    }
    return [
      { name: "u", shape: [dim], matmul: true },
      { name: "v", shape: [dim], matmul: true },
    ];
  },
  source: "std",
};

const lowrank: ExpertKindDef = {
  name: "lowrank",
  doc: "Rank-R expert `b · (a · x)` (FlexMoRE; rank = 1 for SMoRA/MoRA).",
  params: [{ name: "rank", type: "int", min: 1, positional: true, doc: "rank R" }],
  weights(args, dim) {
    const R = args.rank as number;
    return [
      { name: "a", shape: [R, dim], matmul: true },
      { name: "b", shape: [dim, R], matmul: true },
    ];
  },
  source: "std",
};

const identity: ExpertKindDef = { name: "identity", doc: "Null expert returning its input.", params: [], weights: () => [], source: "std" };
const zero: ExpertKindDef = { name: "zero", doc: "Null expert returning zeros.", params: [], weights: () => [], source: "std" };

export function registerExpertKinds(reg: Registry): void {
  for (const k of [ffn, atom, lowrank, identity, zero]) reg.addExpertKind(k);
}
