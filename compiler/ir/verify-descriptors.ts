// The verifier's checks of the typed descriptors of `moe` and `shared` ops (compiler/ir/verify.ts):
// a pool's kind, sizes and members; a router's sizes, its stage list in order (one score first,
// transforms, exactly one select, post-select stages) against each stage's definition, and the
// tensors its stages own. Each function returns messages without the op's label.
import type { ExpertKindSpec, StageSpec } from "@moec/plugin-api";
import type { IrExpertSpec, IrPool, IrRouter } from "./ir.js";
import { expertKindOf, formOf } from "../../stdlib/expert-kinds/index.js";
import { REPORT_NAMES } from "../../stdlib/registry.js";
import { kindsOf, stageDefFromSpec } from "../../stdlib/stage-adapter.js";

export const posInt = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
const nonNegInt = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

const ACTS = new Set(["swiglu", "geglu", "relu", "gelu", "silu", "identity"]);
/** Is the kind one whose implementation the program has (stdlib's, or carried by the pool)? Then
 *  what hidden must be, from the kind's GPU form: ≥ 1 hidden units for an FFN form, 0 for a null expert. */
function kindProblem(e: IrPool | IrExpertSpec): string | undefined {
  let kind: ExpertKindSpec;
  try {
    kind = expertKindOf(e);
  } catch {
    return `unknown expert kind \`${e.kind}\` (not in the standard library, and the pool carries no plugin kind)`;
  }
  const ffn = kind.gpu(formOf(e)).as === "ffn";
  if (ffn) return posInt(e.hidden) ? undefined : `a ${e.kind} expert needs hidden ≥ 1, found ${e.hidden}`;
  return e.hidden === 0 ? undefined : `a ${e.kind} expert has no hidden units, found hidden = ${e.hidden}`;
}

export function poolProblems(p: IrPool): string[] {
  const out: string[] = [];
  const at = `pool ${p.key}`;
  if (!p.key) out.push("pool has an empty key");
  if (!ACTS.has(p.act)) out.push(`${at}: unknown activation \`${p.act}\``);
  for (const [f, v] of [["count", p.count], ["dim", p.dim], ["split", p.split]] as const) {
    if (!posInt(v)) out.push(`${at}: ${f} ${v} is not a positive integer`);
  }
  if (posInt(p.count) && posInt(p.split) && p.count % p.split !== 0) out.push(`${at}: split ${p.split} does not divide its ${p.count} experts`);
  if (p.kind !== "mixed") {
    const h = kindProblem(p);
    if (h) out.push(`${at}: ${h}`);
    if (p.members) out.push(`${at}: only a mixed pool has members; this one is ${p.kind}`);
    return out;
  }
  const ms = p.members;
  if (!ms || ms.length === 0) return [...out, `${at}: a mixed pool needs its members`];
  if (ms.length !== p.count) out.push(`${at}: count ${p.count} but ${ms.length} members`);
  if (p.split !== 1) out.push(`${at}: a mixed pool cannot be split (split ${p.split})`);
  if (p.shared) out.push(`${at}: a mixed pool cannot be shared`);
  const largest = Math.max(0, ...ms.map((m) => m.hidden));
  if (p.hidden !== largest) out.push(`${at}: hidden ${p.hidden} is not its largest member's (${largest})`);
  ms.forEach((m, j) => {
    const h = m.kind === "mixed" ? "a member cannot be a mixed pool" : kindProblem(m);
    if (h) out.push(`${at} member ${j}: ${h}`);
    if (!ACTS.has(m.act)) out.push(`${at} member ${j}: unknown activation \`${m.act}\``);
  });
  return out;
}

/** A tensor the router's stages own, as `weights` must list it. */
export interface NeededTensor {
  name: string;
  shape: number[];
  role: "param" | "state";
  init?: "zeros" | "ones";
}

export interface RouterCheck {
  problems: string[];
  tensors: NeededTensor[];
  /** False when some stage is unknown, so its tensors could not be derived. */
  complete: boolean;
}

const ORDER = { score: 0, transform: 1, select: 2, post: 3 } as const;
const isRole = (r: string): r is keyof typeof ORDER => Object.prototype.hasOwnProperty.call(ORDER, r);

export function routerProblems(r: IrRouter, stageSpec: (name: string) => StageSpec | undefined): RouterCheck {
  const out: string[] = [];
  const at = `router ${r.key}`;
  const tensors: NeededTensor[] = [];
  let complete = true;
  if (!r.key) out.push("router has an empty key");
  if (!posInt(r.numExperts)) out.push(`${at}: experts ${r.numExperts} is not a positive integer`);
  if (!posInt(r.dim)) out.push(`${at}: dim ${r.dim} is not a positive integer`);
  if (!posInt(r.maxPerToken) || r.maxPerToken > r.numExperts) out.push(`${at}: maxPerToken ${r.maxPerToken} is not between 1 and its ${r.numExperts} experts`);
  if (r.scope !== "token" && r.scope !== "run") out.push(`${at}: unknown scope \`${r.scope}\``);
  if (r.unit !== undefined && r.unit !== "sequence") out.push(`${at}: unknown routing unit \`${r.unit}\``);
  if (r.unit === "sequence" && r.scope === "run") out.push(`${at}: routes per sequence, but its select stage selects over the run (scope run)`);
  for (const s of r.report) if (!(REPORT_NAMES as readonly string[]).includes(s)) out.push(`${at}: unknown statistic \`${s}\` in report`);
  if (r.balanceCoef !== undefined && !(Number.isFinite(r.balanceCoef) && r.balanceCoef >= 0)) out.push(`${at}: balance coefficient ${r.balanceCoef} is not a finite number ≥ 0`);

  // Roles in order: score, transform*, select, post*.
  if (r.stages.length === 0) out.push(`${at}: has no stages`);
  const selects = r.stages.filter((s) => s.role === "select").length;
  if (r.stages.length && selects !== 1) out.push(`${at}: has ${selects} select stages; a router has exactly one`);
  r.stages.forEach((s, i) => {
    const st = `${at}: stage ${i} \`${s.name}\``;
    if (!isRole(s.role)) return void out.push(`${st}: unknown role \`${s.role}\``);
    if (i === 0 && s.role !== "score") out.push(`${st} is a ${s.role} stage; the first stage must be the score`);
    if (i > 0 && s.role === "score") out.push(`${st} is a score stage; only the first stage scores`);
    const prev = r.stages[i - 1];
    if (i > 0 && prev && isRole(prev.role) && s.role !== "score" && prev.role !== "score" && ORDER[s.role] < ORDER[prev.role]) {
      out.push(`${st} is a ${s.role} stage after the ${prev.role} stage \`${prev.name}\` (order: score, transforms, select, post-select)`);
    }
    const spec = stageSpec(s.name);
    if (!spec) {
      complete = false;
      return void out.push(`${st} is neither a standard stage nor a loaded plugin's`);
    }
    const kinds = kindsOf(spec) as string[];
    if (!kinds.includes(s.role)) out.push(`${st} cannot be a ${s.role} stage (it is ${kinds.join(", ")})`);
    const known = new Set((spec.params ?? []).map((p) => p.name));
    for (const k of Object.keys(s.params)) if (!known.has(k)) out.push(`${st} has no parameter \`${k}\``);
    if (s.role === "select") {
      const max = spec.maxPerToken?.(s.params, r.numExperts) ?? r.numExperts;
      if (max !== r.maxPerToken) out.push(`${at}: maxPerToken ${r.maxPerToken}, but its select stage \`${s.name}\` gives ${max}`);
      const scope = spec.scope === "run" ? "run" : "token";
      if (scope !== r.scope) out.push(`${at}: scope ${r.scope}, but its select stage \`${s.name}\` has scope ${scope}`);
    }
    const def = stageDefFromSpec(spec, "std");
    for (const t of def.weights?.(s.params, r.numExperts, r.dim) ?? []) {
      tensors.push({ name: `${r.key}.${t.name}`, shape: t.shape, role: t.state ? "state" : "param", ...(t.state ? { init: t.init ?? "zeros" } : {}) });
    }
  });
  return { problems: out, tensors, complete };
}
