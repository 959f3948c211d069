// The constructs of a program that no Hugging Face family's config can say, each located in the
// source: router stages the families' routers lack (top-p, thresholds, expert choice, plugins'),
// expert kinds other than the gated MLP (atoms, low-rank, null experts, heterogeneous pools),
// `split` pools, and `iterate` (one sparse block per decoder layer is all a family has).
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Compilation, EntryInfo } from "../../driver.js";
import type { Instance } from "../../semantic/instance.js";
import type { Owner } from "../../semantic/values.js";
import type * as A from "../../syntax/ast.js";

/** Stages some family's router has (softmax/sigmoid top-k, DeepSeek's bias, groups, renorm, scale). */
const FAMILY_STAGES = new Set(["linear", "softmax", "sigmoid", "bias", "topk", "group_topk", "renorm", "scale"]);

function error(code: string, message: string, file: string, span: A.Span, help?: string): Diagnostic {
  return { code, severity: "error", message, file, span, secondary: [], ...(help ? { help } : {}) };
}

/** Every distinct instance of the tree (children are shared between identical calls). */
function instances(root: Instance, out = new Set<Instance>()): Set<Instance> {
  if (out.has(root)) return out;
  out.add(root);
  for (const c of root.children) instances(c.instance, out);
  return out;
}

function iterates(stmts: A.Stmt[], out: A.IterateStmt[]): void {
  for (const s of stmts) {
    if (s.kind === "Iterate") out.push(s);
    if (s.kind === "Iterate" || s.kind === "Repeat") iterates(s.body, out);
  }
}

export function unmappableConstructs(c: Compilation, root: Instance): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const push = (d: Diagnostic) => {
    const k = `${d.code} ${d.file} ${d.span.start}`;
    if (!seen.has(k)) (seen.add(k), out.push(d));
  };
  const names = new Set<string>();
  for (const inst of instances(root)) {
    names.add(inst.name);
    for (const o of inst.owners) {
      if (o.category === "router") {
        for (const s of o.info?.stages ?? []) {
          if (!FAMILY_STAGES.has(s.def.name)) {
            push(error("HF002", `router stage \`${s.def.name}\` has no counterpart in any Hugging Face family's router`, o.file, s.call.span,
              "the families route with softmax or sigmoid scores, top-k (DeepSeek-V3: within groups, with a selection bias), renorm and scale"));
          }
        }
      }
      if (o.category === "experts" || o.category === "shared") {
        const kind = o.info?.kind ?? "ffn";
        if (kind !== "ffn") {
          push(error("HF003", `pool \`${o.prefix}\` has ${kind === "mixed" ? "experts of several kinds" : `\`${kind}\` experts`}; Hugging Face families' experts are gated MLPs (ffn)`, o.file, o.span));
        } else if ((o.info?.split ?? 1) > 1) {
          push(error("HF005", `pool \`${o.prefix}\` is split ${o.info!.split} ways; the families store one tensor per fine expert with no coarse grouping`, o.file, o.span,
            "write the pool at its fine size (N·split experts of I/split hidden units) instead of with `split`"));
        }
      }
    }
  }
  // `iterate` is in the source, not the weight tree: scan the declarations the model uses.
  for (const [file, src] of c.unit.files) {
    for (const d of src.program.decls) {
      if ((d.kind === "Layer" || d.kind === "Model") && names.has(d.name.name)) {
        const found: A.IterateStmt[] = [];
        iterates(d.body, found);
        for (const it of found) push(error("HF004", `\`iterate\` in \`${d.name.name}\` applies its body several times per layer; a Hugging Face decoder layer has one sparse block`, file, it.keywordSpan));
      }
    }
  }
  return out;
}

/** The owner whose weights live under `key` (`layers.0.block_sparse_moe.E`), for locations. */
export function ownerAtKey(root: Instance, key: string): Owner | undefined {
  const walk = (inst: Instance, prefix: string): Owner | undefined => {
    for (const o of inst.owners) if (prefix + o.prefix === key) return o;
    for (const ch of inst.children) {
      const heads = ch.copies ? [...Array(ch.copies.count).keys()].map((i) => `${prefix}${ch.prefix}.${ch.copies!.start + i}.`) : [`${prefix}${ch.prefix}.`];
      for (const h of heads) {
        if (!key.startsWith(h)) continue;
        const found = walk(ch.instance, h);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(root, "");
}

/** The entry declaration's name, for refusals about the whole model. */
export function entrySpan(c: Compilation, info: EntryInfo): A.Span {
  const src = c.unit.files.get(info.file);
  const d = src?.program.decls.find((x) => (x.kind === "Layer" || x.kind === "Model" || x.kind === "Graph") && x.name.name === info.name);
  return d && "name" in d ? d.name.span : { start: 0, end: 0 };
}
