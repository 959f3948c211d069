// Hover: a pool's count × kind with its parameters, a router's resolved pipeline, a constant's or
// hyper-parameter's value, a layer's parameter counts, a stage's or kind's documentation.
import type { Hover, Position } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import { toOffset, toRange } from "../analysis.js";
import { refAt } from "../symbol-index.js";
import type { SymbolDef } from "../symbol-index.js";
import type * as A from "../../syntax/ast.js";
import type { ParamSpec } from "../../../stdlib/registry.js";
import { BLOCKS } from "../../semantic/blocks.js";
import { ownerCounts } from "../../semantic/count.js";
import { countInstance } from "../../semantic/count.js";
import { humanCount, formatCount } from "../../report/numbers.js";

export function hover(a: Analysis, pos: Position): Hover | undefined {
  const offset = toOffset(a.lines(a.file), pos);
  const ref = refAt(a.index, a.file, offset);
  if (!ref) return undefined;
  const md = ref.def ? describeDef(a, ref.def) : ref.builtin ? describeBuiltin(a, ref.builtin.kind, ref.builtin.name) : undefined;
  if (!md) return undefined;
  return { contents: { kind: "markdown", value: md }, range: toRange(a.lines(a.file), ref.span) };
}

const code = (s: string) => "```moe\n" + s + "\n```";

function declText(a: Analysis, def: SymbolDef): string {
  const node = def.node as { span: A.Span };
  return a.text(def.file).slice(node.span.start, node.span.end).split("\n").map((l) => l.trimEnd()).join("\n");
}

function describeDef(a: Analysis, def: SymbolDef): string | undefined {
  const el = a.compilation.elaborator;
  switch (def.kind) {
    case "pool":
    case "shared": {
      const pool = el.poolsByDecl.get(def.node as A.PoolDecl);
      const lines = [code(declText(a, def))];
      if (pool) {
        const spec = pool.experts[0];
        const args = spec ? Object.entries(spec.args).map(([k, v]) => `${k} = ${v}`).join(", ") : "";
        lines.push(`**${pool.count ?? "?"} × ${pool.heterogeneous ? "mixed experts" : `${spec?.kind.name}(${args})`}**${pool.split > 1 ? ` (split ${pool.split}: fine experts)` : ""}${pool.shared ? ", always active" : ""}`);
        if (pool.owner) {
          const c = ownerCounts(pool.owner);
          lines.push(`parameters: ${formatCount(c.total)} (${humanCount(c.total)})` + (pool.shared ? "" : `, active per token: ${formatCount(c.active)} (${humanCount(c.active)})${c.activeLabel !== "exact" ? ` — ${c.activeLabel}` : ""}`));
          lines.push(`input width D = ${pool.dim}`);
        } else lines.push("not applied yet: its input width (and so its weights) is unknown");
      }
      return lines.join("\n\n");
    }
    case "router": {
      const r = el.routersByDecl.get(def.node as A.RouterDecl);
      const lines = [code(declText(a, def))];
      if (r) {
        lines.push("pipeline: " + r.stages.map((s) => `\`${s.def.name}${Object.keys(s.args).length ? "(" + Object.entries(s.args).map(([k, v]) => `${k} = ${v}`).join(", ") + ")" : ""}\` *${s.role}*`).join(" → "));
        const sel = r.stages.find((s) => s.role === "select");
        if (sel?.def.scope === "run") lines.push("selection is per run (batch scope)");
      }
      return lines.join("\n\n");
    }
    case "const":
    case "hyper": {
      const val = valueAtDefaults(a, def);
      return code(declText(a, def)) + (val !== undefined ? `\n\nvalue: \`${val}\`` : def.kind === "hyper" ? "\n\nno default: callers must give it" : "");
    }
    case "layer":
    case "model":
    case "graph": {
      const decl = def.node as A.LayerDecl | A.GraphDecl;
      const head = a.text(def.file).slice(decl.span.start).split(/\{|\n/)[0]!.trim();
      const r = el.checkAtDefaults(decl, def.file);
      const c = countInstance(r.instance);
      return code(head) + `\n\nat its defaults: ${humanCount(c.total)} parameters, ${humanCount(c.active)} active per token${c.activeLabel !== "exact" ? ` (${c.activeLabel})` : ""}, ${humanCount(c.flops)} FLOPs per token`;
    }
    case "tensor":
    case "let":
    case "repeat":
      return code(declText(a, def).split("\n")[0]!);
  }
}

function valueAtDefaults(a: Analysis, def: SymbolDef): string | undefined {
  if (def.kind === "hyper") {
    const container = a.compilation.unit.scopes.get(def.file)?.names.get(def.container ?? "");
    if (!container || container.decl.kind === "Const") return undefined;
    const v = a.compilation.elaborator.checkAtDefaults(container.decl, container.file).hyper.get(def.name);
    return v && "v" in v ? String(v.v) : undefined;
  }
  const d = def.node as A.ConstDecl;
  const text = a.text(def.file).slice(d.value.span.start, d.value.span.end);
  return text;
}

export function describeParams(params: readonly ParamSpec[]): string {
  return params.map((p) => `- \`${p.name}\`${p.positional ? " (positional)" : ""}: ${p.type === "enum" ? p.values!.map((v) => "`" + v + "`").join(" | ") : p.type}${p.default !== undefined ? ` = ${p.default}` : p.optional ? " (optional)" : " (required)"} — ${p.doc}`).join("\n");
}

function describeBuiltin(a: Analysis, kind: string, name: string): string | undefined {
  const reg = a.compilation.registry;
  if (kind === "stage") {
    const s = reg.stages.get(name);
    if (!s) return undefined;
    return `**${name}** — router stage (${s.roles.join(" / ")}${s.scope === "run" ? ", per run" : ""}; from ${s.source})\n\n${s.doc}${s.params.length ? "\n\n" + describeParams(s.params) : ""}`;
  }
  if (kind === "expertKind") {
    const k = reg.expertKinds.get(name);
    if (!k) return undefined;
    return `**${name}** — expert kind (from ${k.source})\n\n${k.doc}${k.params.length ? "\n\n" + describeParams(k.params) : ""}`;
  }
  if (kind === "block") {
    const b = BLOCKS[name];
    return b ? `**${name}** — built-in block\n\n${b.doc}\n\n${describeParams(b.params)}` : undefined;
  }
  if (kind === "function") {
    const docs: Record<string, string> = {
      moe: "`moe(x, ROUTER, POOL)`: routes `x` with the router over the pool; the weighted sum of the selected experts' outputs.",
      sigmoid: "`sigmoid(x)`: elementwise logistic function.", silu: "`silu(x)`: x · sigmoid(x).", gelu: "`gelu(x)`: exact (erf) GELU.",
      relu: "`relu(x)`: max(x, 0).", softmax: "`softmax(x)`: softmax over the last dimension.", parallel: "`parallel(A, B, …) |> mean`: agents on the same input, combined.",
    };
    return docs[name];
  }
  return undefined;
}
