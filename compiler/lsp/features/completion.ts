// Completion by position: stages after `|>`, expert kinds after `experts E[N] =`, keywords at a
// statement start, parameters inside a call, enum values after `act =`, names in scope elsewhere.
import type { CompletionItem, Position } from "vscode-languageserver";
import { CompletionItemKind, InsertTextFormat } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import { toOffset } from "../analysis.js";
import type { ParamSpec } from "../../../stdlib/registry.js";
import { BUILTIN_FUNCTIONS, REPORT_NAMES } from "../../../stdlib/registry.js";
import { BLOCKS } from "../../semantic/blocks.js";
import { enclosingCall, positionKind } from "./context.js";
import { describeParams } from "./hover.js";

const STATEMENT_KEYWORDS = ["experts", "shared", "router", "let", "iterate", "repeat", "loss", "report", "return"];
const TOP_KEYWORDS = ["layer", "model", "graph", "const", "import"];

function snippetFor(name: string, params: readonly ParamSpec[]): string {
  const required = params.filter((p) => p.default === undefined && !p.optional);
  if (params.length === 0) return name;
  if (required.length === 0) return name;
  return `${name}(${required.map((p, i) => (p.positional ? `\${${i + 1}:${p.name}}` : `${p.name} = \${${i + 1}}`)).join(", ")})`;
}

export function completion(a: Analysis, pos: Position, text = a.text(a.file)): CompletionItem[] {
  const offset = toOffset(a.lines(a.file), pos);
  const reg = a.compilation.registry;
  const call = enclosingCall(text, offset);
  const kind = positionKind(text, offset);

  // Inside a call: the value of an enum parameter, or the parameter names still missing.
  if (call) {
    const specs = paramsOf(a, call.callee);
    if (call.namedArg && specs) {
      const spec = specs.find((p) => p.name === call.namedArg);
      if (spec?.type === "enum") return spec.values!.map((v) => ({ label: v, kind: CompletionItemKind.EnumMember, detail: `${call.callee}(${spec.name} = …)` }));
      if (spec?.type === "bool") return ["true", "false"].map((v) => ({ label: v, kind: CompletionItemKind.Keyword }));
    }
    if (specs && !call.namedArg) {
      const items: CompletionItem[] = specs.filter((p) => !call.givenNames.includes(p.name)).map((p) => ({
        label: `${p.name} =`, kind: CompletionItemKind.Property, insertText: `${p.name} = `,
        detail: `${p.type}${p.default !== undefined ? ` (default ${p.default})` : ""}`, documentation: p.doc,
      }));
      if (call.callee !== "report") return [...items, ...valueNames(a, offset)];
    }
  }
  if (kind === "stage") {
    return [...reg.stages.values()].map((s) => ({
      label: s.name, kind: CompletionItemKind.Function, detail: `${s.roles.join("/")} stage${s.source !== "std" ? ` — ${s.source}` : ""}`,
      documentation: { kind: "markdown", value: s.doc + (s.params.length ? "\n\n" + describeParams(s.params) : "") },
      insertText: snippetFor(s.name, s.params), insertTextFormat: InsertTextFormat.Snippet,
    }));
  }
  if (kind === "expertKind") {
    return [...reg.expertKinds.values()].map((k) => ({
      label: k.name, kind: CompletionItemKind.Class, detail: "expert kind",
      documentation: { kind: "markdown", value: k.doc + (k.params.length ? "\n\n" + describeParams(k.params) : "") },
      insertText: snippetFor(k.name, k.params) === k.name ? `${k.name}()` : snippetFor(k.name, k.params), insertTextFormat: InsertTextFormat.Snippet,
    }));
  }
  if (/\breport\s+[\w\s,]*$/.test(text.slice(text.lastIndexOf("\n", offset - 1) + 1, offset))) {
    return REPORT_NAMES.map((n) => ({ label: n, kind: CompletionItemKind.EnumMember, detail: "statistic" }));
  }
  if (kind === "topLevel") return TOP_KEYWORDS.map((k) => ({ label: k, kind: CompletionItemKind.Keyword }));
  const items: CompletionItem[] = [];
  if (kind === "statement") items.push(...STATEMENT_KEYWORDS.map((k) => ({ label: k, kind: CompletionItemKind.Keyword })));
  items.push(...valueNames(a, offset));
  return items;
}

function paramsOf(a: Analysis, callee: string): readonly ParamSpec[] | undefined {
  const reg = a.compilation.registry;
  return reg.stages.get(callee)?.params ?? reg.expertKinds.get(callee)?.params ?? BLOCKS[callee]?.params;
}

/** Names visible at an offset: declarations of the enclosing layer before it, file scope, built-ins. */
function valueNames(a: Analysis, offset: number): CompletionItem[] {
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  const push = (label: string, kind: CompletionItemKind, detail: string) => {
    if (seen.has(label)) return;
    seen.add(label);
    items.push({ label, kind, detail });
  };
  for (const d of a.index.defs) {
    if (d.file !== a.file) continue;
    const topLevel = !d.container;
    const container = a.index.defs.find((c) => c.name === d.container && !c.container && c.file === d.file);
    // A layer ends at its closing brace (`endSpan`); a graph, which has none, at the end of its node.
    const node = container?.node as { endSpan?: { end: number }; span?: { end: number } } | undefined;
    const end = node?.endSpan?.end ?? node?.span?.end ?? container?.declSpan.end ?? 0;
    const inside = container && container.declSpan.start <= offset && offset <= end + 1;
    if (topLevel || (inside && d.span.start < offset)) {
      push(d.name, d.kind === "pool" || d.kind === "shared" ? CompletionItemKind.Struct : d.kind === "router" ? CompletionItemKind.Interface : d.kind === "layer" || d.kind === "model" || d.kind === "graph" ? CompletionItemKind.Module : d.kind === "const" || d.kind === "hyper" ? CompletionItemKind.Constant : CompletionItemKind.Variable, d.kind);
    }
  }
  for (const [name, entry] of a.compilation.unit.scopes.get(a.file)?.names ?? []) {
    if (entry.file !== a.file) push(name, CompletionItemKind.Module, `imported ${entry.decl.kind.toLowerCase()}`);
  }
  for (const f of [...BUILTIN_FUNCTIONS.elementwise, "moe"]) push(f, CompletionItemKind.Function, "built-in function");
  for (const b of Object.keys(BLOCKS)) push(b, CompletionItemKind.Function, "built-in block");
  return items;
}
