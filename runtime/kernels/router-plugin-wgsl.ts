// Plugin stages in the router kernels: their WGSL expressions (plugin API `wgsl`) become cases
// of a few dispatch functions (plg_score, plg_tx, …) that the kernel calls with the stage's code.
// With no plugin stage the functions are empty switches, so the std-only kernel text — and its
// compiled pipeline — is the same for every router.
//
// Inside a case, the stage's parameters are `let NAME = xp(pb + i)` (f32), `E`/`D` are u32, and
// each state or non-GEMM weight NAME is read as `state_NAME(i)` / `weight_NAME(i)`, rewritten to
// `aux_at(base, i)` with the base stored in the stage's parameter block after its parameters.

import type { WgslContract } from "@moec/plugin-api";
import { lintSnippet, PluginWgslError } from "../../stdlib/wgsl-lint.js";


export interface KernelPluginStage {
  code: number;
  name: string;
  /** `plugin@version`, for messages. */
  source: string;
  /** Parameter names in xp order (booleans 0/1, enums their index). */
  params: string[];
  /** Accessors `state_X` / `weight_X` in xp order after the parameters. */
  accessors: string[];
  wgsl: WgslContract;
}

function preamble(s: KernelPluginStage): string {
  const lets = s.params.map((n, i) => `let ${n} = xp(pb + ${i}u);`);
  const acc = s.accessors.map((n, i) => `let _base_${n} = u32(xp(pb + ${s.params.length + i}u));`);
  return [...lets, ...acc, "let E = hw(P_E);", "let D = hw(P_D);"].join(" ");
}

function rewrite(s: KernelPluginStage, expr: string): string {
  // state_NAME( / weight_NAME(  →  aux_at(_base_state_NAME, / aux_at(_base_weight_NAME,
  return expr.replace(/\b(state|weight)_([A-Za-z_][A-Za-z0-9_]*)\s*\(/g, (m, kind: string, n: string) => {
    const acc = `${kind}_${n}`;
    if (!s.accessors.includes(acc)) throw new PluginWgslError(s.source, s.name, `\`${kind}_${n}\` is not a ${kind} of this stage`);
    return `aux_at(_base_${acc}, `;
  });
}

function cases(stages: KernelPluginStage[], pick: (w: WgslContract) => string | undefined, field: string, wrap: (e: string) => string): string {
  return stages
    .map((s) => {
      const e = pick(s.wgsl);
      if (e === undefined) return "";
      lintSnippet(s, field, e, true);
      return `    case ${s.code}u: { ${preamble(s)} return ${wrap(rewrite(s, e))}; }`;
    })
    .filter(Boolean)
    .join("\n");
}

/** The plugin dispatch functions for the main router kernel (and helpers). */
export function pluginRouterWgsl(stages: KernelPluginStage[]): string {
  const helpers = stages
    .flatMap((s) => Object.entries(s.wgsl).map(([k, v]) => {
      const h = (v as { helpers?: string } | undefined)?.helpers;
      if (h) lintSnippet(s, `${k}.helpers`, h, false);
      return h ?? "";
    }))
    .filter(Boolean)
    .join("\n");
  const f = (e: string) => `f32(${e})`;
  const u = (e: string) => `u32(${e})`;
  const b = (e: string) => `bool(${e})`;
  return `${helpers}
fn plg_score(code: u32, dot: f32, e: u32, t: u32, pb: u32) -> f32 {
  switch code {
${cases(stages, (w) => w.score?.expr, "score.expr", f)}
    default: { return dot; }
  }
}
fn plg_pre(code: u32, z: f32, e: u32, pb: u32) -> f32 {
  switch code {
${cases(stages, (w) => (w.transform ? (w.transform.pre ?? "z") : undefined), "transform.pre", f)}
    default: { return z; }
  }
}
fn plg_tx(code: u32, z: f32, u: f32, e: u32, u_max: f32, u_sum: f32, u_sumexp: f32, u_sumsq: f32, pb: u32) -> f32 {
  switch code {
${cases(stages, (w) => w.transform?.expr, "transform.expr", f)}
    default: { return z; }
  }
}
fn plg_limit(code: u32, pb: u32, dflt: u32) -> u32 {
  switch code {
${cases(stages, (w) => w.select?.limit, "select.limit", u)}
    default: { return dflt; }
  }
}
fn plg_eligible(code: u32, e: u32, v: f32, w: f32, pb: u32) -> bool {
  switch code {
${cases(stages, (w) => w.select?.eligible, "select.eligible", b)}
    default: { return true; }
  }
}
fn plg_accept(code: u32, v: f32, w: f32, n: u32, cum: f32, pb: u32) -> bool {
  switch code {
${cases(stages, (w) => w.select?.accept, "select.accept", b)}
    default: { return true; }
  }
}
fn plg_stop(code: u32, v: f32, w: f32, n: u32, cum: f32, pb: u32) -> bool {
  switch code {
${cases(stages, (w) => w.select?.stop, "select.stop", b)}
    default: { return false; }
  }
}
fn plg_post(code: u32, w: f32, s: u32, n: u32, w_max: f32, w_sum: f32, w_sumexp: f32, pb: u32) -> f32 {
  switch code {
${cases(stages, (w) => w.post?.expr, "post.expr", f)}
    default: { return w; }
  }
}
`;
}

/** The run-scope capacity function for the expert-choice threshold kernel. */
export function pluginCapacityWgsl(stages: KernelPluginStage[]): string {
  return `fn plg_capacity(code: u32, T: u32, pb: u32) -> u32 {
  switch code {
${cases(stages, (w) => w.select?.capacity, "select.capacity", (e) => `u32(${e})`)}
    default: { return 1u; }
  }
}
`;
}

/** State update rules (plugin API StateSpec.update.wgsl) for the state kernel. */
export interface KernelStateRule {
  code: number;
  source: string;
  stage: string;
  state: string;
  params: string[];
  wgsl: string;
}

export function pluginUpdateWgsl(rules: KernelStateRule[]): string {
  const body = rules
    .map((r) => {
      lintSnippet({ source: r.source, name: r.stage }, `state.${r.state}.update`, r.wgsl, true);
      const lets = r.params.map((n, i) => `let ${n} = xp(pb + ${i}u);`).join(" ");
      return `    case ${r.code}u: { ${lets} return f32(${r.wgsl}); }`;
    })
    .join("\n");
  return `fn state_update(code: u32, old: f32, e: u32, load: f32, mean_load: f32, tokens: f32, pb: u32) -> f32 {
  switch code {
${body}
    default: { return old; }
  }
}
`;
}
