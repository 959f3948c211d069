// One-line descriptions of weight owners with their evaluated arguments, shared by `moec info`
// (compare table) and `moec draw`: `8 × ffn(hidden = 14336, swiglu)`, `linear |> softmax |> topk(2)`.
import type { ArgValues } from "../../stdlib/registry.js";
import type { Owner, StageUse } from "../semantic/values.js";

// Small floats as written in configs (`1e-5`), others without binary noise.
const num = (v: number | boolean | string): string => {
  if (typeof v !== "number" || Number.isInteger(v)) return String(v);
  return Math.abs(v) < 1e-3 ? v.toExponential().replace(/\.?0+e/, "e").replace("e-", "e-") : String(Number(v.toPrecision(6)));
};

/** A stage as the source wrote it (named or positional arguments), with evaluated values. */
export function stageText(s: StageUse): string {
  const args = s.call.args ?? [];
  if (args.length === 0) return s.def.name;
  const positional = s.def.params.filter((p) => p.positional);
  let next = 0;
  const parts = args.map((a) => {
    const name = a.name?.name ?? positional[next++]?.name;
    const v = name !== undefined ? s.args[name] : undefined;
    if (v === undefined) return "?";
    return a.name ? `${name} = ${num(v)}` : num(v);
  });
  return `${s.def.name}(${parts.join(", ")})`;
}

export function pipelineText(stages: StageUse[]): string {
  return stages.map(stageText).join(" |> ");
}

/** `ffn(hidden = 1408, swiglu)`: the kind with its size arguments; defaults that change nothing are left out. */
export function kindText(kind: string, args: ArgValues): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (v === false || v === undefined) continue;
    if (k === "act") parts.push(String(v));
    else if (v === true) parts.push(k);
    else parts.push(`${k} = ${num(v)}`);
  }
  return `${kind}(${parts.join(", ")})`;
}

/** `64 × ffn(hidden = 1408, swiglu)`, `split 4` noted; heterogeneous pools list their members. */
export function poolText(o: Owner): string {
  const info = o.info;
  const n = o.members.length;
  if (!info) return `${n} experts`;
  if (info.kind === "mixed") return `[${info.args.map((a, i) => kindText(info.kinds?.[i] ?? "expert", a)).join(", ")}]`;
  const split = info.split && info.split > 1 ? ` (split ${info.split})` : "";
  return `${n} × ${kindText(info.kind, info.args[0] ?? {})}${split}`;
}

/** `64 × ffn(1408)`: count and size only, for tables. */
export function compactPool(o: Owner): string {
  const info = o.info;
  if (!info || info.kind === "mixed") return `${o.members.length} experts`;
  const a = info.args[0] ?? {};
  const size = a.hidden ?? a.rank;
  return `${o.members.length} × ${info.kind}${size !== undefined ? `(${size})` : ""}`;
}

export function routerText(o: Owner): string {
  return o.info?.stages ? pipelineText(o.info.stages) : "router";
}

/** How many experts a pool's routers pick per token: `top-2`, `≤ 16`, `≈ 2`. */
export function activeText(o: Owner): string {
  const a = o.active;
  if (!a) return "";
  const k = Number.isInteger(a.count) ? String(a.count) : a.count.toFixed(2);
  return a.label === "upper bound" ? `≤ ${k} per token` : a.label === "expectation" ? `≈ ${k} per token` : `${k} per token`;
}
