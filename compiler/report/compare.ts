// `moec info --compare A.moe[:ENTRY] B.moe[:ENTRY] …`: several models side by side, one column
// each, in the units a designer compares (B/M, GiB), with exact numbers in the JSON form.
import { formatCount, humanCount } from "./numbers.js";
import type { ModelReport } from "./model-report.js";
import { firstPool } from "./model-report.js";
import { humanBytes } from "./memory.js";
import { activeText, compactPool } from "./describe.js";

interface Row {
  label: string;
  value(r: ModelReport): string;
}

const pct = (a: number, b: number) => (b === 0 ? "–" : `${((100 * a) / b).toFixed(1)}%`);

function rowsFor(ctx: number, kvDtype: string): Row[] {
  return [
    { label: "file", value: (r) => r.info.file.split(/[\\/]/).pop() ?? r.info.file },
    { label: "layers (attention blocks)", value: (r) => String(r.attention.layers) },
    { label: "total parameters", value: (r) => humanCount(r.info.counts.total) },
    { label: "active parameters", value: (r) => humanCount(r.info.counts.active) + (r.info.counts.activeLabel !== "exact" ? ` (${r.info.counts.activeLabel})` : "") },
    { label: "active share", value: (r) => pct(r.info.counts.active, r.info.counts.total) },
    { label: "routed experts (first pool)", value: (r) => { const p = firstPool(r.info.instance, "experts"); return p ? compactPool(p) : "–"; } },
    { label: "experts per token", value: (r) => { const p = firstPool(r.info.instance, "experts"); return p ? activeText(p).replace(" per token", "") : "–"; } },
    { label: "shared experts", value: (r) => { const p = firstPool(r.info.instance, "shared"); return p ? compactPool(p) : "–"; } },
    { label: "FLOPs/token, weights", value: (r) => humanCount(r.info.counts.flops) },
    { label: `FLOPs/token, attention @${ctx}`, value: (r) => humanCount(r.attention.scoreFlops + r.attention.valueFlops) },
    { label: `KV cache per token (${kvDtype})`, value: (r) => humanBytes(r.kv.bytesPerToken) },
    { label: `KV cache @${ctx}`, value: (r) => humanBytes(r.kv.bytesAtContext) },
    { label: "weights, bf16", value: (r) => humanBytes(r.memory.bf16!) },
    { label: "weights, int8", value: (r) => humanBytes(r.memory.int8!) },
    { label: "weights, int4", value: (r) => humanBytes(r.memory.int4!) },
  ];
}

export function compareText(reports: ModelReport[], ctx: number, kvDtype: string): string {
  const rows = rowsFor(ctx, kvDtype);
  const header = ["", ...reports.map((r) => r.info.name)];
  const table = [header, ...rows.map((row) => [row.label, ...reports.map((r) => row.value(r))])];
  const widths = header.map((_, j) => Math.max(...table.map((t) => t[j]!.length)));
  const line = (t: string[]) => t.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join("   ").trimEnd();
  const out = [line(table[0]!), widths.map((w) => "─".repeat(w)).join("   ")];
  for (const t of table.slice(1)) out.push(line(t));
  out.push("", "exact parameters (total / active):");
  const nw = Math.max(...reports.map((r) => r.info.name.length));
  for (const r of reports) out.push(`  ${r.info.name.padEnd(nw)}  ${formatCount(r.info.counts.total).padStart(19)} / ${formatCount(r.info.counts.active)}`);
  return out.join("\n");
}
