// Validating a plugin object against the plugin API and adding its stages (and expert kinds,
// plugin-expert-kinds.ts) to a registry; programs checked with that registry carry them to the
// runtime (the GPU kernels and the float64 reference). A plugin's own functions are guarded: one
// that throws becomes a diagnostic naming the plugin and the stage, never a crash.
import type { Plugin, StageSpec } from "@moec/plugin-api";
import { API_VERSION, POST_REDUCTIONS, STAGE_KINDS, TRANSFORM_REDUCTIONS } from "@moec/plugin-api";
import type { Registry, StageDef } from "../../stdlib/registry.js";
import { RegistryError } from "../../stdlib/registry.js";
import { stageDefFromSpec } from "../../stdlib/stage-adapter.js";
import { lintSnippet, PluginWgslError } from "../../stdlib/wgsl-lint.js";
import { guardedExpertKindDef, takenExpertKinds, validatePluginExpertKinds } from "./plugin-expert-kinds.js";

export class PluginError extends Error {
  override name = "PluginError";
  constructor(
    /** E0900 cannot load, E0901 API version, E0902 invalid plugin, E0903 stage registered twice.
     *  (E0904, WGSL that does not compile, is found by the runtime: runtime/plugins/plugin-kernels.ts.) */
    readonly code: "E0900" | "E0901" | "E0902" | "E0903" | "E0904",
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARAM_TYPES = ["int", "number", "bool", "enum"];

/** Problems with a plugin object, as messages (empty: valid). */
export function validatePlugin(p: unknown, origin: string): PluginError[] {
  const errs: PluginError[] = [];
  const bad = (m: string, help?: string) => errs.push(new PluginError("E0902", `plugin ${origin}: ${m}`, help));
  if (!p || typeof p !== "object") {
    bad("its default export is not a plugin object (or a function returning one)", "export default definePlugin({ apiVersion: 1, name, version, stages: [...] })");
    return errs;
  }
  const pl = p as Partial<Plugin>;
  if (typeof pl.apiVersion !== "number") {
    errs.push(new PluginError("E0901", `plugin ${origin} does not say which plugin API version it was written for (apiVersion)`, `add \`apiVersion: ${API_VERSION}\``));
    return errs;
  }
  if (pl.apiVersion !== API_VERSION) {
    errs.push(new PluginError("E0901", `plugin ${typeof pl.name === "string" ? pl.name : origin} was written for plugin API version ${pl.apiVersion}, but this moec implements version ${API_VERSION}`, `update the plugin to @moec/plugin-api ${API_VERSION}, or use a moec that implements version ${pl.apiVersion}`));
    return errs;
  }
  if (typeof pl.name !== "string" || !pl.name) bad("it has no `name`");
  if (typeof pl.version !== "string" || !pl.version) bad("it has no `version` (a string such as \"1.0.0\")");
  if (!Array.isArray(pl.stages)) {
    bad("it has no `stages` array");
    return errs;
  }
  const where = `${pl.name ?? origin}@${pl.version ?? "?"}`;
  for (const s of pl.stages as StageSpec[]) errs.push(...validateStage(s, where));
  for (const m of validatePluginExpertKinds(pl.expertKinds)) errs.push(new PluginError("E0902", `plugin ${where}: ${m}`));
  return errs;
}

function validateStage(s: StageSpec, where: string): PluginError[] {
  const errs: PluginError[] = [];
  const name = typeof s?.name === "string" ? s.name : "?";
  const bad = (m: string, help?: string) => errs.push(new PluginError("E0902", `plugin ${where}, stage '${name}': ${m}`, help));
  if (!s || typeof s !== "object") {
    errs.push(new PluginError("E0902", `plugin ${where}: a stage is not an object`));
    return errs;
  }
  if (!IDENT.test(name)) bad("its name must be an identifier (letters, digits, `_`)");
  const kinds = Array.isArray(s.kind) ? s.kind : [s.kind];
  if (!kinds.length || kinds.some((k) => !STAGE_KINDS.includes(k))) bad(`kind must be one of ${STAGE_KINDS.join(", ")} (or a list of them), got ${JSON.stringify(s.kind)}`);
  if (typeof s.doc !== "string") bad("it has no `doc` string");
  const scope = s.scope ?? "token";
  if (scope !== "token" && scope !== "run") bad(`scope must be "token" or "run", got ${JSON.stringify(s.scope)}`);
  if (scope === "run" && !(kinds.length === 1 && kinds[0] === "select")) bad("only a select stage can have scope \"run\"");
  if (s.stream !== undefined && !["both", "selection", "weight"].includes(s.stream)) bad(`stream must be "both", "selection" or "weight"`);
  for (const p of s.params ?? []) {
    if (!p || typeof p.name !== "string" || !IDENT.test(p.name)) bad(`a parameter has no identifier name`);
    else if (!PARAM_TYPES.includes(p.type)) bad(`parameter '${p.name}' has type ${JSON.stringify(p.type)}; types are ${PARAM_TYPES.join(", ")}`);
    else if (p.type === "enum" && !(Array.isArray(p.values) && p.values.length)) bad(`enum parameter '${p.name}' lists no values`);
  }
  const ref = s.reference;
  if (!ref || typeof ref !== "object") bad("it has no float64 `reference` implementation", "every stage needs one: it is the meaning the GPU result is tested against");
  else {
    const need: [string, boolean][] = [
      ["score", kinds.includes("score")],
      ["transform", kinds.includes("transform")],
      [scope === "run" ? "selectRun" : "select", kinds.includes("select")],
      ["post", kinds.includes("post")],
    ];
    for (const [fn, needed] of need) if (needed && typeof (ref as Record<string, unknown>)[fn] !== "function") bad(`reference.${fn} is missing`);
  }
  if (kinds.includes("select") && typeof s.maxPerToken !== "function" && scope === "token") {
    bad("a select stage needs maxPerToken(args, E): the most experts a token can get (it sizes the kernel's buffers)");
  }
  const states = typeof s.state === "function" ? [] : (s.state ?? []);
  for (const st of states) {
    if (!st || !IDENT.test(st.name)) bad("a state vector needs an identifier name");
    else if (st.init !== undefined && st.init !== 0 && st.init !== 1) bad(`state '${st.name}': init must be 0 or 1`);
    else if (st.update && (typeof st.update.wgsl !== "string" || typeof st.update.reference !== "function")) bad(`state '${st.name}': update needs both \`wgsl\` and \`reference\``);
  }
  const torch = s.torch;
  if (torch !== undefined) {
    if (!torch || typeof torch !== "object") bad("torch must be an object of Python function bodies (score, transform, select, post)");
    else for (const [fn, code] of Object.entries(torch)) {
      if (!["score", "transform", "select", "post"].includes(fn)) bad(`torch.${fn} is not a stage role; roles are score, transform, select, post`);
      else if (typeof code !== "string" || !/\breturn\b/.test(code)) bad(`torch.${fn} must be the body of a Python function as a string, ending in \`return\``);
    }
  }
  const w = s.wgsl;
  if (w) {
    const lint = (field: string, code: unknown, expr: boolean) => {
      if (code === undefined) return;
      if (typeof code !== "string") return bad(`wgsl.${field} must be a string`);
      try {
        lintSnippet({ source: where, name }, field, code, expr);
      } catch (e) {
        if (e instanceof PluginWgslError) bad(e.message.replace(/^plugin [^,]+, stage '[^']*': /, ""));
        else throw e;
      }
    };
    if (w.score) { lint("score.expr", w.score.expr, true); lint("score.helpers", w.score.helpers, false); }
    if (w.transform) {
      lint("transform.pre", w.transform.pre, true);
      lint("transform.expr", w.transform.expr, true);
      lint("transform.helpers", w.transform.helpers, false);
      for (const r of w.transform.reduce ?? []) if (!TRANSFORM_REDUCTIONS.includes(r)) bad(`wgsl.transform.reduce: unknown reduction ${JSON.stringify(r)}`);
    }
    if (w.select) for (const f of ["limit", "eligible", "accept", "stop", "capacity"] as const) lint(`select.${f}`, w.select[f], true);
    if (w.select?.helpers) lint("select.helpers", w.select.helpers, false);
    if (w.post) {
      lint("post.expr", w.post.expr, true);
      lint("post.helpers", w.post.helpers, false);
      for (const r of w.post.reduce ?? []) if (!POST_REDUCTIONS.includes(r)) bad(`wgsl.post.reduce: unknown reduction ${JSON.stringify(r)}`);
    }
    for (const st of states) if (st.update) lint(`state.${st.name}.update`, st.update.wgsl, true);
    if (scope === "run" && !w.select?.capacity) bad("a run-scope select stage needs wgsl.select.capacity");
  }
  return errs;
}

/** Wraps a plugin's functions so that a throw becomes an issue naming plugin and stage. */
function guarded(def: StageDef, source: string): StageDef {
  const who = `plugin ${source}, stage \`${def.name}\``;
  const msg = (what: string, e: unknown) => `${who}: its ${what} threw: ${e instanceof Error ? e.message : String(e)}`;
  const g: StageDef = { ...def };
  const check = def.check, weights = def.weights, active = def.active, maxPer = def.maxPerToken;
  g.check = (args, E) => {
    try {
      const issues = check ? check(args, E) : [];
      // Run the other functions once here, so that a throw is reported at the stage.
      weights?.(args, E, 1);
      active?.(args, E);
      maxPer?.(args, E);
      return issues;
    } catch (e) {
      return [{ message: msg("check", e) }];
    }
  };
  if (weights) g.weights = (a, E, D) => { try { return weights(a, E, D); } catch { return []; } };
  if (active) g.active = (a, E) => { try { return active(a, E); } catch { return { count: E, label: "upper bound" }; } };
  if (maxPer) g.maxPerToken = (a, E) => { try { return maxPer(a, E); } catch { return E; } };
  return g;
}

/**
 * Adds a plugin's stages and expert kinds to `reg` (throwing PluginError E0903 when a name is
 * taken, naming both sources); programs compiled with `reg` carry them to the runtime. Validate
 * first (validatePlugin).
 */
export function registerPluginStages(reg: Registry, plugin: Plugin, source: string): void {
  // All or nothing: a taken name leaves the registry as it was.
  const names = new Set<string>();
  for (const spec of plugin.stages) {
    const prev = reg.stages.get(spec.name);
    if (prev || names.has(spec.name)) {
      throw new PluginError("E0903", `router stage \`${spec.name}\` is registered twice: by ${prev ? prev.source : source} and by ${source}`, "rename one of the stages, or load only one of the plugins");
    }
    names.add(spec.name);
  }
  const kinds = plugin.expertKinds ?? [];
  const taken = takenExpertKinds(reg, kinds);
  if (taken.length) {
    const t = taken[0]!;
    throw new PluginError("E0903", `expert kind \`${t.name}\` is registered twice: by ${t.by} and by ${source}`, "rename one of the kinds, or load only one of the plugins");
  }
  for (const spec of plugin.stages) {
    try {
      reg.addStage(guarded(stageDefFromSpec(spec, source), source));
    } catch (e) {
      if (e instanceof RegistryError) {
        throw new PluginError("E0903", e.message, "rename one of the stages, or load only one of the plugins");
      }
      throw e;
    }
  }
  for (const k of kinds) reg.addExpertKind(guardedExpertKindDef(k, source));
}

export type { StageSpec };
