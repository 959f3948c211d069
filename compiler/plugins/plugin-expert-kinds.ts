// A plugin's expert kinds (plugin API `expertKinds`): validated against the API, and registered
// through the same adapter as the standard library's (stdlib/expert-kinds/kind-adapter.ts), with
// the plugin's functions guarded so that one that throws becomes a diagnostic naming the plugin
// and the kind, never a crash. The kind's GPU form and reference run in the runtime, which gets
// them with the pools that use the kind (IrPool.pluginKind).
import type { ExpertKindSpec } from "@moec/plugin-api";
import { expertKindDefFromSpec } from "../../stdlib/expert-kinds/kind-adapter.js";
import type { ExpertKindDef, Registry } from "../../stdlib/registry.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LAYOUTS = ["rows", "cols", "hvec", "ovec", "dvec"];
const ACTS = ["swiglu", "geglu", "relu", "gelu", "silu", "identity"];

/** Problems with one expert kind, as messages. */
export function expertKindProblems(k: ExpertKindSpec): string[] {
  const out: string[] = [];
  if (!k || typeof k !== "object") return ["an expert kind is not an object"];
  const fns = ["form", "tensors", "gpu", "reference"] as const;
  if (typeof k.name !== "string" || !IDENT.test(k.name)) out.push("an expert kind's name must be an identifier (letters, digits, `_`)");
  if (k.name === "mixed") out.push("`mixed` is reserved (heterogeneous pools)");
  if (typeof k.doc !== "string") out.push(`expert kind '${k.name}': it has no \`doc\` string`);
  for (const f of fns) if (typeof k[f] !== "function") out.push(`expert kind '${k.name}': \`${f}\` must be a function`);
  if (k.schedule !== undefined && k.schedule !== "expert" && k.schedule !== "token") out.push(`expert kind '${k.name}': schedule must be "expert" or "token"`);
  if (k.splits !== undefined && !(k.params ?? []).some((p) => p.name === k.splits)) out.push(`expert kind '${k.name}': splits names '${k.splits}', which is not one of its parameters`);
  return out;
}

/** Problems with what a kind returns for its default arguments (a dry run at D = 4). */
function dryRun(k: ExpertKindSpec): string | undefined {
  const args: Record<string, number | boolean | string> = {};
  for (const p of k.params ?? []) args[p.name] = p.default ?? (p.type === "enum" ? p.values?.[0] ?? "" : p.type === "bool" ? false : Math.max(1, p.min ?? 1));
  const f = k.form(args);
  if (!f || !Number.isSafeInteger(f.hidden) || f.hidden < 0 || !ACTS.includes(f.act) || typeof f.bias !== "boolean") return "form() must return { hidden: integer ≥ 0, act, bias: boolean }";
  const ts = k.tensors(f, 4);
  if (!Array.isArray(ts) || ts.some((t) => !t || !IDENT.test(t.name) || !LAYOUTS.includes(t.layout) || !(t.fanIn > 0))) return `tensors() must list { name, layout (${LAYOUTS.join(", ")}), fanIn > 0 }`;
  const g = k.gpu(f);
  if (g?.as === "ffn") {
    const names = new Set(ts.map((t) => t.name));
    for (const n of [g.up, g.gate, g.down, g.bias?.up, g.bias?.gate, g.bias?.down]) if (n !== undefined && !names.has(n)) return `gpu() names tensor '${n}', which tensors() does not list`;
  } else if (g?.as !== "identity" && g?.as !== "zero") return 'gpu() must return { as: "ffn", up, down, act, … }, { as: "identity" } or { as: "zero" }';
  return undefined;
}

/** The kind as the checker registers it, its functions guarded. */
export function guardedExpertKindDef(k: ExpertKindSpec, source: string): ExpertKindDef {
  const def = expertKindDefFromSpec(k, source);
  const who = `plugin ${source}, expert kind \`${k.name}\``;
  const check = def.check;
  const weights = def.weights;
  return {
    ...def,
    check(args) {
      try {
        const issues = check ? check(args) : [];
        // Run the other functions once here, so that a throw is reported at the pool.
        weights(args, 1);
        k.gpu(k.form(args));
        return issues;
      } catch (e) {
        return [{ message: `${who}: it threw: ${e instanceof Error ? e.message : String(e)}` }];
      }
    },
    weights(args, dim) {
      try {
        return weights(args, dim);
      } catch {
        return [];
      }
    },
  };
}

/** Validation messages of a plugin's `expertKinds` (empty: valid or absent). */
export function validatePluginExpertKinds(kinds: unknown): string[] {
  if (kinds === undefined) return [];
  if (!Array.isArray(kinds)) return ["`expertKinds` must be an array"];
  const out: string[] = [];
  for (const k of kinds as ExpertKindSpec[]) {
    const problems = expertKindProblems(k);
    if (!problems.length) {
      try {
        const p = dryRun(k);
        if (p) problems.push(`expert kind '${k.name}': ${p}`);
      } catch (e) {
        problems.push(`expert kind '${k.name}': its functions threw on the default arguments: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    out.push(...problems);
  }
  return out;
}

/** Names among `kinds` that `reg` already has (or that repeat), for the all-or-nothing registration. */
export function takenExpertKinds(reg: Registry, kinds: readonly ExpertKindSpec[]): { name: string; by: string }[] {
  const seen = new Set<string>();
  const out: { name: string; by: string }[] = [];
  for (const k of kinds) {
    const prev = reg.expertKinds.get(k.name);
    if (prev || seen.has(k.name)) out.push({ name: k.name, by: prev ? prev.source : "the same plugin" });
    seen.add(k.name);
  }
  return out;
}
