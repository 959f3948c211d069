// Dispatches per decoder layer of a model, from a run's recorded dispatches per op: an op belongs
// to the decoder layer its weights are under (`layers.3.self_attn` → `layers.3`, the first
// `NAME.INDEX` of its weight key); ops without weights (adds, products) belong to the layer they
// sit in, so the residual add at a layer's end counts there, with the next norm it carries
// (fuse.ts). Ops under no indexed prefix (embedding, final norm, LM head) belong to no layer.

import type { IrOp, IrProgram } from "../../compiler/ir/ir.js";
import type { OpDispatches } from "../executor/types.js";

export interface DecoderLayerDispatches {
  /** `layers.3`. */
  layer: string;
  dispatches: number;
  /** Per lowering kind (`attention`, `moe`, `add+norm`, …). */
  byKind: Record<string, number>;
}

/** The weight prefix an op works under; "" for ops without weights. */
function weightKey(op: IrOp): string {
  switch (op.op) {
    case "attention": case "mla": return op.attn.key;
    case "norm": case "embed": case "linear": return op.weight;
    case "moe": case "shared": return op.pool.key;
    default: return "";
  }
}

const LAYER = /^((?:[A-Za-z_]\w*\.)+?\d+)\./;

export function decoderLayerDispatches(program: IrProgram, perOp: readonly OpDispatches[]): DecoderLayerDispatches[] {
  const layerOf: (string | undefined)[] = [];
  let current: string | undefined;
  program.ops.forEach((op, i) => {
    const key = weightKey(op);
    if (key !== "") current = LAYER.exec(key)?.[1];
    layerOf[i] = current;
  });
  const out = new Map<string, DecoderLayerDispatches>();
  for (const o of perOp) {
    const layer = layerOf[o.op];
    if (layer === undefined || o.dispatches === 0) continue;
    let l = out.get(layer);
    if (!l) out.set(layer, (l = { layer, dispatches: 0, byKind: {} }));
    l.dispatches += o.dispatches;
    l.byKind[o.kind] = (l.byKind[o.kind] ?? 0) + o.dispatches;
  }
  return [...out.values()];
}

/** The most common count among the layers (ties: the later layer's), or undefined without layers. */
export function typicalLayer(layers: readonly DecoderLayerDispatches[]): DecoderLayerDispatches | undefined {
  const freq = new Map<number, number>();
  for (const l of layers) freq.set(l.dispatches, (freq.get(l.dispatches) ?? 0) + 1);
  let best: DecoderLayerDispatches | undefined;
  for (const l of layers) if (!best || freq.get(l.dispatches)! >= freq.get(best.dispatches)!) best = l;
  return best;
}
