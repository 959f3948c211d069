// Bytes one decode step reads per token, for `moec bench --decode`: the active weights (§9's
// active-parameter count, corrected for what a step really reads of an embedding) at the storage
// dtype, plus the KV cache rows attention reads at the step's position.
//
// §9 counts an embedding table in full, as published sizes do; a decode step gathers one row of
// it (D values). A tied LM head (`lm_head(x, tied = emb)`) owns no weight but reads its
// embedding's whole table [V, D] (its macs). Every other active parameter is read once per token:
// attention/MLA projections, norms, routers, shared pools and the k experts a router selects.
import type { EntryInfo } from "../driver.js";
import type { Instance } from "../semantic/instance.js";
import type { AttentionGroup } from "./attention.js";

export interface DecodeWeightRead {
  /** Parameters one decode token reads. */
  params: number;
  /** `exact`, or how to read the active count it comes from (e.g. an upper bound for top-p pools). */
  label: EntryInfo["counts"]["activeLabel"];
}

/** Embedding-table parameters a step does not read ((V − 1)·D per table), and tied heads' tables (V·D). */
function embeddingCorrection(inst: Instance): number {
  let c = 0;
  for (const o of inst.owners) {
    if (o.category === "embedding") {
      const [V, D] = o.members[0]?.[0]?.shape ?? [0, 0];
      c -= (V! - 1) * D!;
    } else if (o.category === "lm_head" && o.info?.args[0]?.tied !== undefined) {
      c += o.macs[0] ?? 0;
    }
  }
  for (const ch of inst.children) c += (ch.copies?.count ?? 1) * embeddingCorrection(ch.instance);
  return c;
}

export function decodeWeightRead(info: EntryInfo): DecodeWeightRead {
  return { params: info.counts.active + embeddingCorrection(info.instance), label: info.counts.activeLabel };
}

/** Positions a query at `position` reads: all of 0…position, or the last `window` of them. */
export function positionsRead(position: number, window: number): number {
  return window > 0 ? Math.min(position + 1, window) : position + 1;
}

/** KV-cache bytes one decode step at `position` reads, over every attention block. */
export function kvReadBytes(groups: AttentionGroup[], kvBytesPerElement: number, position: number): number {
  return groups.reduce((s, g) => s + g.layers * g.cachedWidth * kvBytesPerElement * positionsRead(position, g.window), 0);
}

