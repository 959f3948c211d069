// The verifier's checks of the model-block descriptors (compiler/ir/verify.ts): attention's and
// MLA's sizes, their rotary descriptor and YaRN parameters. Each returns messages without the op.
import type { IrAttention, IrMla, IrRope } from "./ir.js";
import { posInt } from "./verify-descriptors.js";

const nonNeg = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

function ropeProblems(r: IrRope, headRoom: number, what: string): string[] {
  const out: string[] = [];
  if (r.kind !== "half" && r.kind !== "interleaved" && r.kind !== "none") out.push(`${what}: unknown rope \`${r.kind}\``);
  if (!(r.theta > 0)) out.push(`${what}: rope theta ${r.theta} is not positive`);
  if (r.kind === "none") {
    if (r.dim !== 0) out.push(`${what}: rope none rotates nothing, but dim is ${r.dim}`);
  } else if (!nonNeg(r.dim) || r.dim % 2 !== 0 || r.dim > headRoom) out.push(`${what}: rope dim ${r.dim} must be even and at most ${headRoom}`);
  const y = r.yarn;
  if (y) {
    if (!(y.factor >= 1)) out.push(`${what}: yarn factor ${y.factor} is below 1`);
    if (!posInt(y.original)) out.push(`${what}: yarn original context ${y.original} is not a positive integer`);
    if (!(y.betaFast > 0) || !(y.betaSlow > 0)) out.push(`${what}: yarn betas must be positive`);
  }
  return out;
}

export function attentionProblems(a: IrAttention): string[] {
  const out: string[] = [];
  const at = `attention ${a.key}`;
  for (const [f, v] of [["heads", a.heads], ["kvHeads", a.kvHeads], ["headDim", a.headDim]] as const) if (!posInt(v)) out.push(`${at}: ${f} ${v} is not a positive integer`);
  if (posInt(a.heads) && posInt(a.kvHeads) && a.heads % a.kvHeads !== 0) out.push(`${at}: kv heads ${a.kvHeads} do not divide heads ${a.heads}`);
  if (a.qkNorm !== "none" && a.qkNorm !== "full" && a.qkNorm !== "head") out.push(`${at}: unknown qk norm \`${a.qkNorm}\``);
  if (!(a.qkEps > 0)) out.push(`${at}: qk eps ${a.qkEps} is not positive`);
  if (!nonNeg(a.window)) out.push(`${at}: window ${a.window} is not a non-negative integer`);
  out.push(...ropeProblems(a.rope, a.headDim, at));
  return out;
}

export function mlaProblems(a: IrMla): string[] {
  const out: string[] = [];
  const at = `mla ${a.key}`;
  for (const [f, v] of [["heads", a.heads], ["kvRank", a.kvRank], ["vDim", a.vDim]] as const) if (!posInt(v)) out.push(`${at}: ${f} ${v} is not a positive integer`);
  for (const [f, v] of [["qRank", a.qRank], ["nopeDim", a.nopeDim], ["ropeDim", a.ropeDim]] as const) if (!nonNeg(v)) out.push(`${at}: ${f} ${v} is not a non-negative integer`);
  if (!(a.normEps > 0)) out.push(`${at}: norm eps ${a.normEps} is not positive`);
  if (a.rope.kind !== "none" && a.rope.dim !== a.ropeDim) out.push(`${at}: rope dim ${a.rope.dim} differs from ropeDim ${a.ropeDim}`);
  out.push(...ropeProblems(a.rope, a.ropeDim, at));
  return out;
}
