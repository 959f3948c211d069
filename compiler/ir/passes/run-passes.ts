// Runs named IR passes over a whole program, verifying the IR before the first pass and after
// each one (always when asked, and in debug builds and tests by default), so that a pass that
// breaks the contract of compiler/ir/ir.ts is named in the error rather than found downstream.
// The runtime applies `canonicalize-router` per router itself (runtime/kernels/router-plan.ts);
// this is the program-level form for tests and tools.
import type { IrProgram } from "../ir.js";
import { assertValidIr, irDebugEnabled, type VerifyOptions } from "../verify.js";
import { canonicalizeRouter } from "./canonicalize-router.js";

export interface IrPass {
  name: string;
  run(program: IrProgram): IrProgram;
}

/** `canonicalize-router` on every router of the program. */
export const canonicalizeRouterPass: IrPass = {
  name: "canonicalize-router",
  run: (p) => ({ ...p, ops: p.ops.map((op) => (op.op === "moe" ? { ...op, router: canonicalizeRouter(op.router).router } : op)) }),
};

/** Every program-level pass, by name. */
export const PASSES: ReadonlyMap<string, IrPass> = new Map([canonicalizeRouterPass].map((p) => [p.name, p]));

export interface RunPassesOptions extends VerifyOptions {
  /** Verify around every pass; default: in debug builds (MOEC_DEBUG) and tests. */
  verify?: boolean;
}

/** Applies the passes in order; throws an IrVerifyError naming the pass after which the IR broke. */
export function runPasses(program: IrProgram, passes: readonly (IrPass | string)[], opts: RunPassesOptions = {}): IrProgram {
  const verify = opts.verify ?? irDebugEnabled();
  const list = passes.map((p) => {
    if (typeof p !== "string") return p;
    const found = PASSES.get(p);
    if (!found) throw new Error(`unknown IR pass \`${p}\` (passes: ${[...PASSES.keys()].join(", ")})`);
    return found;
  });
  if (verify) assertValidIr(program, `of \`${program.entry}\` before the first pass`, opts);
  let p = program;
  for (const pass of list) {
    p = pass.run(p);
    if (verify) assertValidIr(p, `of \`${p.entry}\` after pass \`${pass.name}\``, opts);
  }
  return p;
}
