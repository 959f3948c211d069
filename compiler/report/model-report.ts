// The designer's report behind `moec info`: §9 totals plus where the parameters are, attention's
// context-dependent FLOPs, the KV cache and weight memory. JSON fields and text sections here;
// the counts themselves come from semantic/count.ts and the sibling modules.
import type { EntryInfo } from "../driver.js";
import type { BreakdownRow } from "./breakdown.js";
import { breakdownRows, orderedCategories } from "./breakdown.js";
import type { AttentionCost, KvCache } from "./attention.js";
import { attentionCost, attentionGroups, kvCache } from "./attention.js";
import { blockMemory, dtypeBytes, humanBytes, weightMemory, WEIGHT_DTYPES } from "./memory.js";
import { formatCount, humanCount } from "./numbers.js";
import { activeText, poolText } from "./describe.js";
import type { Instance } from "../semantic/instance.js";
import type { Owner } from "../semantic/values.js";

export interface ReportOptions {
  /** Context length for attention FLOPs and the KV cache. */
  context: number;
  /** Element type of the KV cache. */
  kvDtype: string;
}

export const DEFAULT_REPORT_OPTIONS: ReportOptions = { context: 4096, kvDtype: "bf16" };

export interface ModelReport {
  info: EntryInfo;
  rows: BreakdownRow[];
  attention: AttentionCost;
  kv: KvCache;
  memory: Record<string, number>;
  /** The same as `--weight-format`'s device blocks, scales included (q8_0, q4_0, fp8_e4m3). */
  blockMemory: Record<string, number>;
  /** Routed pools, one line each: `layers.1–27.mlp.E: 64 × ffn(hidden = 1408, swiglu), 6 per token`. */
  pools: { name: string; layers: number; text: string; active: string; shared: boolean }[];
}

export function buildReport(info: EntryInfo, opts: ReportOptions = DEFAULT_REPORT_OPTIONS): ModelReport {
  const bytes = dtypeBytes(opts.kvDtype);
  if (bytes === undefined) throw new Error(`unknown KV-cache dtype \`${opts.kvDtype}\``);
  const groups = attentionGroups(info.instance);
  return {
    info,
    rows: breakdownRows(info.instance),
    attention: attentionCost(groups, opts.context),
    kv: kvCache(groups, opts.kvDtype.toLowerCase(), bytes, opts.context),
    memory: weightMemory(info.counts.total),
    blockMemory: blockMemory(info.counts.total),
    pools: poolList(info.instance),
  };
}

function poolList(inst: Instance, prefix = "", copies = 1, out: ModelReport["pools"] = []): ModelReport["pools"] {
  for (const o of inst.owners) {
    if (o.category !== "experts" && o.category !== "shared") continue;
    out.push({ name: prefix + o.prefix, layers: copies, text: poolText(o), active: o.category === "experts" ? activeText(o) : "always", shared: o.category === "shared" });
  }
  for (const ch of inst.children) {
    const k = ch.copies?.count ?? 1;
    const p = ch.copies ? (k === 1 ? `${ch.prefix}.${ch.copies.start}.` : `${ch.prefix}.${ch.copies.start}–${ch.copies.start + k - 1}.`) : `${ch.prefix}.`;
    poolList(ch.instance, prefix + p, copies * k, out);
  }
  return out;
}

/** Fields `moec info --json` adds to `entry`, `params`, `flops_per_token`, `weights`. */
export function reportJson(r: ModelReport): Record<string, unknown> {
  const c = r.info.counts;
  return {
    breakdown: {
      by_category: Object.fromEntries(orderedCategories(c.byCategory).map((x) => [x.category, { total: x.total, active: x.active }])),
      by_part: r.rows.map((x) => ({
        name: x.name, what: x.what, copies: x.copies, ...(x.first !== undefined ? { first: x.first } : {}),
        each: { total: x.each.total, active: x.each.active, flops_per_token: x.each.flops, by_category: x.each.byCategory },
        total: x.total, active: x.active, flops_per_token: x.flops,
      })),
    },
    attention_flops_per_token: {
      context: r.attention.context,
      score: r.attention.scoreFlops,
      value: r.attention.valueFlops,
      total: r.attention.scoreFlops + r.attention.valueFlops,
      layers: r.attention.groups.map((g) => ({
        name: g.name, layers: g.layers, kind: g.kind, heads: g.heads, kv_heads: g.kvHeads, qk_dim: g.qkDim, v_dim: g.vDim,
        score_per_layer: g.scoreFlops, value_per_layer: g.valueFlops,
      })),
    },
    kv_cache: {
      dtype: r.kv.dtype,
      bytes_per_element: r.kv.bytesPerElement,
      elements_per_token: r.kv.elementsPerToken,
      bytes_per_token: r.kv.bytesPerToken,
      context: r.kv.context,
      bytes_at_context: r.kv.bytesAtContext,
      layers: r.kv.groups.map((g) => ({ name: g.name, layers: g.layers, elements_per_token_per_layer: g.elementsPerToken, bytes_per_token_per_layer: g.bytesPerToken })),
    },
    weight_memory_bytes: r.memory,
    block_memory_bytes: r.blockMemory,
    pools: r.pools.map((p) => ({ name: p.name, layers: p.layers, experts: p.text, active: p.active, shared: p.shared })),
  };
}

const pad = (s: string, n: number) => s.padStart(n);

/** Text sections printed after the totals. */
export function reportText(r: ModelReport): string {
  const c = r.info.counts;
  const att = r.attention;
  const lines: string[] = [];
  if (att.layers > 0) {
    const a = att.scoreFlops + att.valueFlops;
    lines.push(
      `  attention FLOPs    ${pad(formatCount(a), 18)}  ${humanCount(a)}  per token at context ${formatCount(att.context)} (scores ${humanCount(att.scoreFlops)} + values ${humanCount(att.valueFlops)})`,
      `  KV cache           ${pad(formatCount(r.kv.bytesPerToken), 18)}  bytes per token (${r.kv.dtype}, ${formatCount(r.kv.elementsPerToken)} elements over ${att.layers} layers); ${humanBytes(r.kv.bytesAtContext)} at context ${formatCount(r.kv.context)}`,
    );
  }
  lines.push(`  weight memory      ${WEIGHT_DTYPES.map((d) => `${d} ${humanBytes(r.memory[d]!)}`).join(" · ")}`);
  lines.push(`  as device blocks   ${Object.entries(r.blockMemory).map(([f, b]) => `${f} ${humanBytes(b)}`).join(" · ")}  (scales included; --weight-format keeps the large matrices so)`);
  lines.push("", "parameters by category:");
  const cats = orderedCategories(c.byCategory);
  const lw = Math.max(16, ...cats.map((x) => x.label.length));
  lines.push(`  ${"".padEnd(lw)}  ${pad("total", 18)}  ${pad("active", 18)}`);
  for (const x of cats) lines.push(`  ${x.label.padEnd(lw)}  ${pad(formatCount(x.total), 18)}  ${pad(formatCount(x.active), 18)}`);
  lines.push(`  ${"sum".padEnd(lw)}  ${pad(formatCount(c.total), 18)}  ${pad(formatCount(c.active), 18)}`);
  lines.push("", r.info.kind === "model" ? "parameters by layer (each: one copy of a stack):" : "parameters by part:");
  const nw = Math.max(18, ...r.rows.map((x) => x.name.length));
  lines.push(`  ${"".padEnd(nw)}  ${pad("each", 16)}  ${pad("copies", 6)}  ${pad("total", 18)}  ${pad("active", 18)}`);
  for (const x of r.rows) {
    lines.push(`  ${x.name.padEnd(nw)}  ${pad(formatCount(x.each.total), 16)}  ${pad(`×${x.copies}`, 6)}  ${pad(formatCount(x.total), 18)}  ${pad(formatCount(x.active), 18)}`);
    if (x.what !== "stack" && x.what !== "layer") continue;
    for (const k of orderedCategories(x.each.byCategory)) {
      lines.push(`    ${k.label.padEnd(nw - 2)}  ${pad(formatCount(k.total), 16)}  ${"".padStart(6)}  ${pad(formatCount(k.total * x.copies), 18)}  ${pad(formatCount(k.active * x.copies), 18)}`);
    }
  }
  if (att.groups.length) {
    lines.push("", "attention:");
    for (const g of att.groups) {
      const heads = g.kind === "mla" ? `${g.heads} heads, latent KV` : g.kvHeads === g.heads ? `${g.heads} heads` : `${g.heads} query / ${g.kvHeads} KV heads`;
      lines.push(`  ${g.name}  ×${g.layers}  ${g.kind}: ${heads}, d_qk ${g.qkDim}, d_v ${g.vDim}; KV cache ${formatCount(g.cachedWidth)} elements (${humanBytes(g.cachedWidth * r.kv.bytesPerElement)}) per token per layer`);
    }
  }
  if (r.pools.length) {
    lines.push("", "expert pools:");
    for (const p of r.pools) lines.push(`  ${p.name}  ×${p.layers}  ${p.shared ? "shared " : ""}${p.text}${p.active ? `, ${p.active}` : ""}`);
  }
  return lines.join("\n");
}

/** The first routed (or shared) pool in weight order, for the compare table. */
export function firstPool(inst: Instance, category: "experts" | "shared"): Owner | undefined {
  for (const o of inst.owners) if (o.category === category) return o;
  for (const ch of inst.children) {
    const p = firstPool(ch.instance, category);
    if (p) return p;
  }
  return undefined;
}
