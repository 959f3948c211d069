// RouterTester — like ESLint's RuleTester, for router stages: runs a router pipeline on the GPU
// (the fused router kernel, inside a tiny MoE layer) over random inputs and shapes, and checks
// it against the float64 reference of its stages (plugin API `reference`):
//
//   - selection: on every token whose decision is robust (all selected scores beat all others by
//     more than `margin`, and top-p / threshold cut points are further than `margin` away), the
//     GPU's experts, in slot order, are the reference's; near-ties are not compared (f32 and
//     float64 may break them differently, DESIGN.md);
//   - exact ties: tokens with input 0 make every linear/cosine/product score equal; the GPU must
//     then pick exactly what the reference picks (ties to the lower index);
//   - weights: the reference evaluated on the GPU's OWN selection, |gpu − ref| ≤ atol + rtol·|ref|;
//   - statistics (§10): loads and the experts-per-token histogram exactly, importance, Σp,
//     entropy within tolerance, all recomputed from the reference streams on the GPU's selection.
//
//   const tester = await RouterTester.create({ plugins: [myPlugin] });
//   await tester.run({ pipeline: "linear |> my_stage(0.5) |> topk(2)" });   // throws on a mismatch
//   tester.dispose();

import type { Plugin } from "@moec/plugin-api";
import { compile } from "../../compiler/index.js";
import type { IrProgram, IrRouter } from "../../compiler/ir/ir.js";
import { createStdRegistry } from "../../stdlib/index.js";
import { registerPluginStages, validatePlugin } from "../../compiler/plugins/register.js";
import { resolvePluginExport, type PluginLike } from "../../compiler/plugins/loader.js";
import { createExecutor } from "../../runtime/executor/executor.js";
import type { Executor } from "../../runtime/executor/types.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { acquireGpu } from "../../runtime/gpu/dawn.js";
import { interpretReference, type RouterTrace } from "../../runtime/reference/interpret.js";
import { normalSampler } from "../../runtime/run-io.js";
import { referenceStats } from "../../runtime/stats/router-stats.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { runtimeStage } from "../../stdlib/stage-table.js";

export class RouterTesterError extends Error {
  override name = "RouterTesterError";
}

export interface RouterTestCase {
  /** The pipeline as written in a `router` declaration: `linear |> softmax |> topk(2)`. */
  pipeline: string;
  /** Pool sizes to test (default [8, 64, 4096] — where the pipeline's checks allow them). */
  experts?: number[];
  /** Input widths (default [16]). */
  dims?: number[];
  /** Token counts (default [1, 7, 33]). */
  tokens?: number[];
  /** Random draws per shape (default 2). */
  seeds?: number;
  /** Also run tokens of exact ties (input 0); default true. */
  ties?: boolean;
  /** Changes the weights before a run (e.g. a state vector). */
  weights?(w: Map<string, Float32Array>, ctx: { E: number; D: number; seed: number }): void;
  /** Changes the inputs [T, D] before a run. */
  inputs?(x: Float32Array, ctx: { E: number; D: number; T: number; seed: number }): void;
  /** Near-tie margin on selection scores: |a − b| ≤ margin·max(|a|, |b|, max|row|/10) is a near-tie (default 1e-5). */
  margin?: number;
  atol?: number;
  rtol?: number;
  /** Test the workgroup-memory kernel form too (default true where the adapter has subgroups). */
  bothForms?: boolean;
}

export interface RouterTestReport {
  cases: number;
  tokens: number;
  /** Tokens whose selection was compared (robust ones and exact ties). */
  compared: number;
  /** Tokens skipped as near-ties. */
  nearTies: number;
  exactTies: number;
  maxWeightError: number;
  /** Pool sizes the pipeline's own checks rejected (skipped). */
  skippedShapes: string[];
}

interface Options {
  /** Plugins (objects, or plugin modules' default-export functions). */
  plugins?: PluginLike[];
  gpu?: GpuContext;
}

export class RouterTester {
  private constructor(
    private readonly gpu: GpuContext,
    private readonly ownsGpu: boolean,
    private readonly plugins: Plugin[],
  ) {}

  static async create(opts: Options = {}): Promise<RouterTester> {
    const plugins = (opts.plugins ?? []).map((p) => resolvePluginExport(p) as Plugin);
    for (const p of plugins) {
      const problems = validatePlugin(p, typeof p?.name === "string" ? p.name : "(plugin)");
      if (problems.length) throw new RouterTesterError(problems.map((e) => `${e.code}: ${e.message}`).join("\n"));
    }
    for (const p of plugins) registerPluginStages(createStdRegistry(), p, `${p.name}@${p.version}`);
    const gpu = opts.gpu ?? (await acquireGpu());
    return new RouterTester(gpu, !opts.gpu, plugins);
  }

  private registry() {
    const reg = createStdRegistry();
    for (const p of this.plugins) registerPluginStages(reg, p, `${p.name}@${p.version}`);
    return reg;
  }

  /** A one-router layer over a pool of E tiny experts. */
  program(pipeline: string, E: number, D: number): { program?: IrProgram; error?: string } {
    const source = `layer router_test(x: [T, D], D = ${D}, N = ${E}) {
  experts E[N] = ffn(hidden = 2, act = relu)
  router r = ${pipeline}
  report load
  return moe(x, r, E)
}`;
    const c = compile({ source, file: "router_test.moe", registry: this.registry() });
    if (!c.ok || !c.program) return { error: c.formatDiagnostics() };
    return { program: c.program };
  }

  async run(tc: RouterTestCase): Promise<RouterTestReport> {
    const report: RouterTestReport = { cases: 0, tokens: 0, compared: 0, nearTies: 0, exactTies: 0, maxWeightError: 0, skippedShapes: [] };
    const experts = tc.experts ?? [8, 64, 4096];
    const dims = tc.dims ?? [16];
    const tokens = tc.tokens ?? [1, 7, 33];
    const seeds = tc.seeds ?? 2;
    const forms = tc.bothForms !== false && this.gpu.features.subgroups ? [true, false] : [this.gpu.features.subgroups];
    const failures: string[] = [];
    for (const E of experts) {
      for (const D of dims) {
        const built = this.program(tc.pipeline, E, D);
        if (!built.program) {
          if (experts.length > 1) {
            report.skippedShapes.push(`E = ${E}, D = ${D}: ${built.error!.split("\n")[0]}`);
            continue;
          }
          throw new RouterTesterError(`pipeline \`${tc.pipeline}\` does not check at E = ${E}, D = ${D}:\n${built.error}`);
        }
        const program = built.program;
        const router = (program.ops.find((o) => o.op === "moe") as { router: IrRouter }).router;
        for (const subgroups of forms) {
          for (let seed = 1; seed <= seeds; seed++) {
            const w = randomWeights(program, seed * 7919 + E);
            tc.weights?.(w, { E, D, seed });
            // With and without statistics (their buffers change the kernel's bindings).
            const exec2 = await createExecutor(this.gpu, program, w, { subgroups, stats: true });
            const plain = await createExecutor(this.gpu, program, w, { subgroups });
            try {
              for (const T of tokens) {
                const x = new Float32Array(T * D);
                const rnd = normalSampler(seed * 104729 + T * 31 + D);
                for (let i = 0; i < x.length; i++) x[i] = rnd();
                const tieTokens = new Set<number>();
                // Exact ties: one token (of several) with input 0.
                if (tc.ties !== false && T > 1) {
                  const t0 = Math.floor(T / 2);
                  x.fill(0, t0 * D, (t0 + 1) * D);
                  tieTokens.add(t0);
                }
                tc.inputs?.(x, { E, D, T, seed });
                const where = `\`${tc.pipeline}\` E = ${E}, D = ${D}, T = ${T}, seed ${seed}, ${subgroups ? "subgroup" : "workgroup"} kernel`;
                await this.check(exec2, program, router, w, x, T, tieTokens, tc, report, where, failures);
                await this.checkSame(plain, exec2, router, x, T, `${where}, without statistics`, failures);
                report.cases++;
              }
            } finally {
              exec2.dispose();
              plain.dispose();
            }
          }
        }
      }
    }
    if (report.cases === 0) {
      throw new RouterTesterError(`pipeline \`${tc.pipeline}\` checks at none of the shapes tried:\n  ${report.skippedShapes.join("\n  ")}`);
    }
    if (failures.length) {
      throw new RouterTesterError(`${failures.length} mismatch${failures.length === 1 ? "" : "es"} against the float64 reference:\n  ${failures.slice(0, 12).join("\n  ")}${failures.length > 12 ? `\n  … and ${failures.length - 12} more` : ""}`);
    }
    return report;
  }

  private async check(
    exec: Executor,
    program: IrProgram,
    router: IrRouter,
    w: Map<string, Float32Array>,
    x: Float32Array,
    T: number,
    ties: Set<number>,
    tc: RouterTestCase,
    report: RouterTestReport,
    where: string,
    failures: string[],
  ): Promise<void> {
    const margin = tc.margin ?? 1e-5;
    const atol = tc.atol ?? 2e-5;
    const rtol = tc.rtol ?? 1e-4;
    // The state the GPU routes with is the state before the run (it updates after).
    const stateBefore = new Map(await exec.readState());
    this.stateBefore.set(exec, stateBefore);
    const out = await exec.run(new Map([["x", x]]), T, { returnRouting: true });
    void out;
    const g = exec.lastRouting!.get(router.key)!;
    const gpuIds = Array.from({ length: T }, (_, t) => Array.from(g.ids.subarray(t * g.maxPerToken, t * g.maxPerToken + g.counts[t]!)));
    const refW = new Map<string, Float32Array | Float64Array>(w);
    for (const [k, v] of stateBefore) refW.set(k, v);
    const trace = new Map<string, RouterTrace>();
    interpretReference(program, refW, new Map([["x", x]]), T, { trace });
    const forced = new Map<string, RouterTrace>();
    interpretReference(program, refW, new Map([["x", x]]), T, { trace: forced, forcedSelection: new Map([[router.key, gpuIds]]) });
    const tr = trace.get(router.key)!;
    const ftr = forced.get(router.key)!;
    const runScope = router.stages.some((s) => s.role === "select" && (runtimeStage(s.name, router.pluginStages)?.spec.scope ?? "token") === "run");
    const fragile = runScope ? fragileTokens(router, tr, margin) : undefined;
    report.tokens += T;
    for (let t = 0; t < T; t++) {
      const ref = tr.selection[t]!.ids;
      const isTie = ties.has(t) && !runScope;
      const robustTok = runScope ? !fragile!.has(t) : robustToken(router, tr, t, margin);
      // An exact tie at the cut must go to the lower index; a tie token without one is just a token.
      const exact = isTie && (robustTok || exactTieAtCut(tr, t));
      if (exact) report.exactTies++;
      if (!exact && !robustTok) {
        report.nearTies++;
      } else {
        report.compared++;
        if (gpuIds[t]!.join(",") !== ref.join(",")) failures.push(`${where}, token ${t}${exact ? " (exact tie)" : ""}: GPU selected [${gpuIds[t]}], reference [${ref}]`);
      }
      ftr.selection[t]!.weights.forEach((rw, j) => {
        const gw = g.weights[t * g.maxPerToken + j]!;
        const err = Math.abs(gw - rw);
        report.maxWeightError = Math.max(report.maxWeightError, err);
        if (!(err <= atol + rtol * Math.abs(rw))) failures.push(`${where}, token ${t} slot ${j} (expert ${gpuIds[t]![j]}): GPU weight ${gw}, reference ${rw}`);
      });
    }
    // Statistics, from the reference streams on the GPU's selection.
    const s = exec.lastStats?.get(router.key);
    if (!s) {
      failures.push(`${where}: no statistics`);
      return;
    }
    const rs = referenceStats(router, ftr);
    const load = Array.from(rs.load);
    if (s.load.join(",") !== load.join(",")) failures.push(`${where}: load ${s.load} vs reference ${load}`);
    const hist = Array.from(rs.histogram).slice(0, s.active_k.histogram.length);
    if (s.active_k.histogram.join(",") !== hist.join(",")) failures.push(`${where}: experts-per-token histogram ${s.active_k.histogram} vs reference ${hist}`);
    const close = (a: number, b: number, what: string, tol = 1e-4) => {
      if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)))) failures.push(`${where}: ${what} ${a} vs reference ${b}`);
    };
    s.importance.forEach((v, e) => close(v, rs.importanceSum[e]!, `importance[${e}]`));
    close(s.entropy, rs.entropySum / T, "entropy");
  }

  /** The executor without statistics routes exactly as the one with (same state, same input). */
  private async checkSame(plain: Executor, withStats: Executor, router: IrRouter, x: Float32Array, T: number, where: string, failures: string[]): Promise<void> {
    // `withStats` already ran (and updated its state): give `plain` the state it routed with.
    const before = this.stateBefore.get(withStats);
    if (before?.size) await plain.writeState(before);
    await plain.run(new Map([["x", x]]), T, { returnRouting: true });
    const a = plain.lastRouting!.get(router.key)!;
    const b = withStats.lastRouting!.get(router.key)!;
    for (let t = 0; t < T; t++) {
      const n = a.counts[t]!;
      const same = n === b.counts[t]! && Array.from(a.ids.subarray(t * a.maxPerToken, t * a.maxPerToken + n)).join() === Array.from(b.ids.subarray(t * b.maxPerToken, t * b.maxPerToken + n)).join();
      if (!same) {
        failures.push(`${where}, token ${t}: routing differs from the run with statistics`);
        return;
      }
    }
  }

  private readonly stateBefore = new Map<Executor, Map<string, Float32Array>>();

  dispose(): void {
    if (this.ownsGpu) this.gpu.dispose();
  }
}

/** Is the reference's selection for token t far from any tie (DESIGN.md: near-ties)? */
export function robustToken(router: IrRouter, trace: RouterTrace, t: number, margin: number): boolean {
  const sel = trace.streams[t]!.sel;
  const w = trace.streams[t]!.w;
  const chosen = new Set(trace.selection[t]!.ids);
  const stage = router.stages.find((s) => s.role === "select")!;
  if (stage.name === "dense") return true;
  let minChosen = Infinity;
  let maxOther = -Infinity;
  sel.forEach((v, e) => {
    if (chosen.has(e)) minChosen = Math.min(minChosen, v);
    else maxOther = Math.max(maxOther, v);
  });
  // Any two scores closer than margin anywhere make the order (and group sums) fragile.
  const sorted = Array.from(sel).sort((a, b) => b - a);
  const k = chosen.size;
  const near = nearFn(sel, margin);
  if (k > 0 && k < sel.length && near(minChosen, maxOther)) return false;
  for (let i = 0; i + 1 < Math.min(sorted.length, k + 1); i++) if (near(sorted[i]!, sorted[i + 1]!)) return false;
  if (stage.name === "threshold") {
    const delta = stage.params["delta"] as number;
    if (Array.from(sel).some((v) => near(v, delta))) return false;
  }
  if (stage.name === "topp") {
    const p = stage.params["p"] as number;
    const order = Array.from(sel.keys()).sort((a, b) => sel[b]! - sel[a]! || a - b);
    let cum = 0;
    for (let i = 0; i < Math.min(order.length, k + 1); i++) {
      cum += w[order[i]!]!;
      if (near(cum, p)) return false;
    }
  }
  if (stage.name === "group_topk") {
    // Group sums near each other make the kept set fragile.
    const G = stage.params["groups"] as number;
    const size = sel.length / G;
    const gs = Array.from({ length: G }, (_, g) => Array.from(sel.subarray(g * size, (g + 1) * size)).sort((a, b) => b - a).slice(0, Math.min(2, size)).reduce((a, b) => a + b, 0)).sort((a, b) => b - a);
    for (let i = 0; i + 1 < gs.length; i++) if (near(gs[i]!, gs[i + 1]!)) return false;
  }
  // Plugin selectors: a candidate within margin of a cut is fragile too (conservative).
  return true;
}

/** Near-tie test scaled to the values compared: relative, floored at a tenth of the row's largest magnitude. */
function nearFn(row: ArrayLike<number>, margin: number): (a: number, b: number) => boolean {
  let m = 0;
  for (let i = 0; i < row.length; i++) m = Math.max(m, Math.abs(row[i]!));
  return (a, b) => Math.abs(a - b) <= margin * Math.max(Math.abs(a), Math.abs(b), 0.1 * m);
}

/** Do the last selected and the best unselected score tie exactly (the cut is decided by index)? */
function exactTieAtCut(trace: RouterTrace, t: number): boolean {
  const sel = trace.streams[t]!.sel;
  const chosen = new Set(trace.selection[t]!.ids);
  let minChosen = Infinity;
  let maxOther = -Infinity;
  sel.forEach((v, e) => {
    if (chosen.has(e)) minChosen = Math.min(minChosen, v);
    else maxOther = Math.max(maxOther, v);
  });
  return minChosen === maxOther;
}

/** Expert choice: tokens within `margin` of a fragile capacity cut of any expert (near-ties). */
function fragileTokens(router: IrRouter, trace: RouterTrace, margin: number): Set<number> {
  const T = trace.streams.length;
  const E = router.numExperts;
  const out = new Set<number>();
  for (let e = 0; e < E; e++) {
    const col = Array.from({ length: T }, (_, t) => trace.streams[t]!.sel[e]!);
    const sorted = [...col].sort((a, b) => b - a);
    const c = trace.selection.filter((s) => s.ids.includes(e)).length;
    if (c === 0 || c >= T) continue;
    const vCap = sorted[c - 1]!, vNext = sorted[c]!;
    const near = nearFn(col, margin);
    if (!near(vCap, vNext)) continue;
    col.forEach((v, t) => {
      if (near(v, vCap) || near(v, vNext)) out.add(t);
    });
  }
  return out;
}
