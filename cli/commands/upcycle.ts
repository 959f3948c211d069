// `moec upcycle`: a dense FFN checkpoint → the checkpoint of a fine-grained MoE layer (split and/or
// replicated experts, router initialised as asked), with a check that the result reproduces the
// dense FFN when every expert is active.
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs, parseSets, UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { outputPathProblem } from "../output-files.js";
import { lowerEntry } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { intFlag } from "./run.js";
import { displayPath } from "../../compiler/diagnostics/render.js";

export const upcycleSpec: CommandSpec = {
  name: "upcycle",
  summary: "turn a dense FFN checkpoint into a fine-grained MoE layer's checkpoint",
  usage: "moec upcycle DENSE.safetensors FILE.moe --output OUT.safetensors [--from PREFIX] [--router zeros|random|FILE] [options]",
  positionals: { name: "a dense checkpoint and a .moe file", min: 2, max: 2 },
  flags: [
    { name: "output", short: "o", type: "string", value: "FILE", help: "where to write the MoE layer's checkpoint" },
    { name: "from", type: "string", value: "PREFIX", help: "prefix of the dense FFN's tensors (`mlp.` reads mlp.w_up or mlp.up_proj.weight); default none" },
    { name: "entry", type: "string", value: "NAME", help: "the layer (optional when the file has exactly one entry point)" },
    { name: "pool", type: "string", value: "NAME", help: "the routed pool to fill, when the layer has several" },
    { name: "router", type: "string", value: "zeros|random|FILE", help: "router initialisation: zeros (uniform scores; default), random (N(0, 1/D), --seed), or a safetensors file holding ROUTER.weight" },
    { name: "seed", type: "string", value: "N", help: "seed for --router random (default 1)" },
    { name: "form", type: "string", value: "stacked|per-member|coarse", help: "weight layout of the output (default per-member, fine names as `moec info` lists them)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "The pool must be `ffn` experts whose coarse hidden size equals the dense one (replicate: every expert\nstarts as a copy, cut into `split` slices), or whose experts × hidden equals it (partition: every slice is\na distinct piece of the dense FFN). The check runs the pool in float64 with all experts active (weight 1/copies).",
};

export async function runUpcycle(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, upcycleSpec);
  const f = args.flags;
  const [denseRel, moeRel] = args.positionals as [string, string];
  if (f.output === undefined) throw new UsageError("give the output checkpoint with --output FILE");
  const form = (f.form as string | undefined) ?? "per-member";
  if (!["stacked", "per-member", "coarse"].includes(form)) throw new UsageError(`--form takes stacked, per-member or coarse, found \`${form}\``);
  const routerInit = (f.router as string | undefined) ?? "zeros";
  const seed = intFlag(f.seed, "seed") ?? 1;
  const outFile = path.resolve(io.cwd, f.output as string);
  // Checked before any work, so a bad --output costs nothing.
  const outProblem = outputPathProblem(outFile, "--output", io.cwd);
  if (outProblem) {
    io.err(`moec upcycle: ${outProblem}`);
    return 1;
  }

  const lowered = lowerEntry([path.resolve(io.cwd, moeRel)], { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined) });
  printDiagnostics(lowered.diagnostics, undefined, io, false);
  if (hasErrors(lowered.diagnostics) || !lowered.program) return 1;
  const program = lowered.program;
  const rt = await import("../../runtime/index.js");
  const up = await import("../../runtime/weights/upcycle.js");
  try {
    const denseFile = rt.readSafetensors(path.resolve(io.cwd, denseRel));
    const moeOp = program.ops.find((o) => o.op === "moe" && (f.pool === undefined || o.pool.key === f.pool));
    const gated = moeOp?.op === "moe" && (moeOp.pool.act === "swiglu" || moeOp.pool.act === "geglu");
    const dense = up.readDenseFfn(denseFile, (f.from as string | undefined) ?? "", gated);
    const plan = up.planUpcycle(program, dense, f.pool as string | undefined);
    const others = program.weights.filter((w) => w.role === "param" && !w.name.startsWith(plan.router.key + "."));
    const otherPools = program.ops.filter((o) => (o.op === "moe" || o.op === "shared") && o.pool.key !== plan.pool.key);
    if (others.length || otherPools.length) {
      io.err(`moec upcycle: \`${program.entry}\` has weights a dense FFN cannot provide: ${[...others.map((w) => w.name), ...otherPools.map((o) => (o.op === "moe" || o.op === "shared" ? o.pool.key : ""))].join(", ")}; upcycle a layer whose only weights are the routed pool and its router`);
      return 1;
    }
    let init: Parameters<typeof up.upcycleWeights>[2];
    if (routerInit === "zeros") init = { router: "zeros" };
    else if (routerInit === "random") init = { router: "random", seed };
    else {
      const rf = rt.readSafetensors(path.resolve(io.cwd, routerInit));
      const name = `${plan.router.key}.weight`;
      if (!rf.tensors.has(name)) {
        io.err(`moec upcycle: ${routerInit} has no tensor \`${name}\` [${plan.router.numExperts}, ${plan.pool.dim}]`);
        return 1;
      }
      init = { router: "given", weight: rf.getF32(name) };
    }
    const weights = up.upcycleWeights(plan, dense, init);
    const check = up.verifyUpcycle(plan, weights, dense, plan.pool.act);
    const entries = rt.canonicalToFile(program, weights, form as "stacked" | "per-member" | "coarse");
    rt.writeSafetensors(outFile, entries, { producer: "moec upcycle", entry: program.entry, mode: plan.mode });
    const copies = plan.mode === "replicate" ? plan.coarse : 1;
    io.out([
      `upcycled ${dense.sources.join(", ")} (hidden ${dense.hidden}, D = ${dense.dim})`,
      `  into \`${plan.pool.key}\`: ${plan.pool.count} fine experts of hidden ${plan.pool.hidden} — ${plan.mode === "replicate" ? `${plan.coarse} copies of the dense FFN, each cut into ${plan.pool.split} slice${plan.pool.split === 1 ? "" : "s"}` : `the dense FFN partitioned into ${plan.pool.count} slices`}`,
      `  router \`${plan.router.key}.weight\`: ${routerInit === "zeros" || routerInit === "random" ? routerInit : `from ${routerInit}`}`,
      `  wrote ${entries.size} tensors (${form}) to ${displayPath(outFile, io.cwd)}`,
      `check: every expert active with weight 1/${copies} reproduces the dense FFN: max |error| = ${check.maxAbsError.toExponential(2)} over ${check.tokens} random tokens (max |dense output| = ${check.maxAbsDense.toFixed(3)})`,
    ].join("\n"));
    return check.maxAbsError <= 1e-4 * Math.max(1, check.maxAbsDense) ? 0 : 1;
  } catch (e) {
    if (e instanceof up.UpcycleError || e instanceof rt.SafetensorsError) {
      io.err(`moec upcycle: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
