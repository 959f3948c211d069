// The IR verifier: checks that an IrProgram keeps the contract of compiler/ir/ir.ts, so that a
// lowering or pass bug is caught where it happens, named by op, instead of as a wrong number or a
// kernel failure later. `verifyIr` returns every problem (empty when the program is sound);
// `assertValidIr` throws them together as an IrVerifyError. The driver runs it after lowering when
// asked (`verifyIr` option) or in debug builds (MOEC_DEBUG), and tests always do (vitest.config.ts).
//
// Checked: SSA (ids are indices, every op defines one new value, operands defined before use,
// inputs/outputs defined), widths per op, dtypes (i32 only for token-id inputs, f32 into every op),
// weights (unique, well-formed; every tensor a linear or a router stage reads listed with its shape
// and role; pool tensors, which the IR may leave to the binder, checked when listed; nothing listed
// that no op reads), pool and router descriptors (verify-descriptors.ts), and that a pool key or
// router key means one thing throughout.
import type { StageSpec } from "@moec/plugin-api";
import type { IrOp, IrPool, IrProgram, IrValue, IrWeight } from "./ir.js";
import { runtimeStage } from "../../stdlib/stage-table.js";
import { posInt, poolProblems, routerProblems, type NeededTensor } from "./verify-descriptors.js";
import { poolTensors } from "./pool-tensors.js";
import { attentionTensors, mlaTensors, normTensors } from "./block-tensors.js";
import { attentionProblems, mlaProblems } from "./verify-blocks.js";

export class IrVerifyError extends Error {
  constructor(readonly problems: string[], context: string) {
    super(`internal error: the IR ${context} is malformed (a bug in moec):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "IrVerifyError";
  }
}

export interface VerifyOptions {
  /** Looks a router stage up by name; default: the standard library and loaded plugins. */
  stage?: (name: string) => StageSpec | undefined;
}

/** Whether debug checks are on: MOEC_DEBUG set and not `0`. Read defensively (browsers have no process). */
export function irDebugEnabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.MOEC_DEBUG;
  return v !== undefined && v !== "" && v !== "0";
}

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const poolId = (p: IrPool) => JSON.stringify([p.kind, p.count, p.dim, p.hidden, p.act, p.bias, p.split, p.shared, p.members ?? null]);

function operands(op: IrOp): [string, number][] {
  if (op.op === "peer_attention") return [["x", op.x], ...op.peers.map((id, j): [string, number] => [`peers[${j}]`, id])];
  return op.op === "binary" ? [["a", op.a], ["b", op.b]] : op.op === "embed" ? [["ids", op.ids]] : [["x", op.x]];
}

export function verifyIr(p: IrProgram, opts: VerifyOptions = {}): string[] {
  const stageSpec = opts.stage ?? ((n: string) => runtimeStage(n)?.spec);
  const out: string[] = [];
  const n = p.values.length;
  const isValue = (id: number) => Number.isInteger(id) && id >= 0 && id < n;

  p.values.forEach((v, i) => {
    if (v.id !== i) out.push(`value %${i} "${v.name}": its id is ${v.id}; the value at index i must have id i`);
    if (!posInt(v.width)) out.push(`value %${i} "${v.name}": width ${v.width} is not a positive integer`);
    if (v.dtype !== "f32" && v.dtype !== "i32") out.push(`value %${i} "${v.name}": unknown dtype \`${v.dtype}\``);
    if (v.dtype === "i32" && v.width !== 1) out.push(`value %${i} "${v.name}": token ids (i32) are [T], stored as width 1, found width ${v.width}`);
  });

  // Where each value is defined: first by an input, else by the op that first names it as out.
  const definer = new Map<number, string>();
  const firstOp = new Map<number, number>();
  p.ops.forEach((op, i) => { if (!firstOp.has(op.out)) firstOp.set(op.out, i); });
  const names = new Set<string>();
  for (const inp of p.inputs) {
    const at = `input ${inp.name}`;
    if (names.has(inp.name)) out.push(`${at}: the name is used by another input`);
    names.add(inp.name);
    if (!isValue(inp.value)) { out.push(`${at}: %${inp.value} is not a value of the program (it has ${n})`); continue; }
    if (definer.has(inp.value)) out.push(`${at}: %${inp.value} is already ${definer.get(inp.value)}`);
    else definer.set(inp.value, `input ${inp.name}`);
  }

  const needed = new Map<string, NeededTensor & { by: string }>();
  const need = (at: string, t: NeededTensor) => {
    const prev = needed.get(t.name);
    if (!prev) needed.set(t.name, { ...t, by: at });
    else if (!same(prev.shape, t.shape)) out.push(`${at}: reads ${t.name} as ${fmt(t.shape)}, but ${prev.by} reads it as ${fmt(prev.shape)}`);
  };
  const pools = new Map<string, { pool: IrPool; at: string }>();
  const routers = new Map<string, string>();
  const lenientPrefixes: string[] = [];

  p.ops.forEach((op, i) => {
    const at = `op ${i} (${op.op} %${op.out})`;
    const use = (role: string, id: number): IrValue | undefined => {
      if (!isValue(id)) return void out.push(`${at}: operand ${role} %${id} is not a value of the program (it has ${n})`);
      if (!definer.has(id)) {
        const later = firstOp.get(id);
        return void out.push(`${at}: operand ${role} %${id} is used before it is defined${later !== undefined && later > i ? ` (by op ${later})` : " (nothing defines it)"}`);
      }
      const v = p.values[id]!;
      if (op.op === "embed") {
        if (v.dtype !== "i32") out.push(`${at}: operand ids %${id} "${v.name}" is ${v.dtype}; embed takes token ids (i32)`);
      } else if (v.dtype !== "f32") out.push(`${at}: operand ${role} %${id} "${v.name}" is ${v.dtype} (token ids); ${op.op} takes f32`);
      return v;
    };
    const ins = operands(op).map(([role, id]) => use(role, id));
    let res: IrValue | undefined;
    if (!isValue(op.out)) out.push(`${at}: defines %${op.out}, which is not a value of the program (it has ${n})`);
    else if (definer.has(op.out)) out.push(`${at}: defines %${op.out} again; it is already ${definer.get(op.out)}`);
    else {
      definer.set(op.out, `defined by op ${i}`);
      res = p.values[op.out]!;
      if (res.dtype !== "f32") out.push(`${at}: defines %${op.out} as ${res.dtype}; ops produce f32`);
    }
    const width = (what: string, want: number) => {
      if (res && res.width !== want) out.push(`${at}: result has width ${res.width}, but ${what} is ${want}`);
    };
    const x = ins[0];
    switch (op.op) {
      case "linear":
        if (!posInt(op.outDim)) out.push(`${at}: out ${op.outDim} is not a positive integer`);
        width("its out", op.outDim);
        if (x) need(at, { name: `${op.weight}.weight`, shape: [op.outDim, x.width], role: "param" });
        if (op.bias) need(at, { name: `${op.weight}.bias`, shape: [op.outDim], role: "param" });
        break;
      case "unary": case "scalar":
        if (x) width(`its operand's`, x.width);
        if (op.op === "scalar" && !Number.isFinite(op.value)) out.push(`${at}: the scalar ${op.value} is not a finite number`);
        break;
      case "binary": {
        const [a, b] = ins;
        if (a && b) {
          if (a.width !== b.width && a.width !== 1 && b.width !== 1) out.push(`${at}: operand widths ${a.width} and ${b.width} differ and neither is 1 (broadcast)`);
          else width("the broadcast of its operands", Math.max(a.width, b.width));
        }
        break;
      }
      case "embed": {
        if (!posInt(op.vocab)) out.push(`${at}: vocab ${op.vocab} is not a positive integer`);
        if (res) need(at, { name: `${op.weight}.weight`, shape: [op.vocab, res.width], role: "param" });
        break;
      }
      case "norm": {
        if (op.kind !== "rms" && op.kind !== "layer") out.push(`${at}: unknown norm kind \`${op.kind}\``);
        if (!(op.eps > 0)) out.push(`${at}: eps ${op.eps} is not positive`);
        if (x) {
          width(`its operand's`, x.width);
          for (const t of normTensors(op.kind, x.width)) need(at, { name: `${op.weight}.${t.name}`, shape: t.shape, role: "param" });
        }
        break;
      }
      case "attention": case "mla": {
        const problems = op.op === "attention" ? attentionProblems(op.attn) : mlaProblems(op.attn);
        for (const m of problems) out.push(`${at}: ${m}`);
        if (x) {
          width(`its operand's`, x.width);
          if (!problems.length) {
            const ts = op.op === "attention" ? attentionTensors(op.attn, x.width) : mlaTensors(op.attn, x.width);
            for (const t of ts) need(at, { name: `${op.attn.key}.${t.name}`, shape: t.shape, role: "param" });
          }
        }
        break;
      }
      case "moe_agents": {
        const r = op.router;
        const rc = routerProblems(r, stageSpec);
        for (const m of rc.problems) out.push(`${at}: ${m}`);
        if (r.numExperts !== op.members.length) out.push(`${at}: router ${r.key} routes over ${r.numExperts} experts, but pool ${op.key} has ${op.members.length} members`);
        if (x && x.width !== r.dim) out.push(`${at}: operand x has width ${x.width}, but router ${r.key} has dim ${r.dim}`);
        width(`router ${r.key}'s dim`, r.dim);
        if (routers.has(r.key)) out.push(`${at}: router key ${r.key} is already used by ${routers.get(r.key)} (statistics and weights are keyed by it)`);
        routers.set(r.key, at);
        for (const t of rc.tensors) need(at, t);
        if (!rc.complete) lenientPrefixes.push(`${r.key}.`);
        // Each member is a program of its own over its tokens; its weights are those under `KEY.j.`.
        lenientPrefixes.push(`${op.key}.`);
        op.members.forEach((m, j) => {
          const prefix = `${op.key}.${j}.`;
          const sub: IrProgram = { entry: `${op.key}.${j}`, values: m.values, inputs: [{ name: "x", value: m.input }], outputs: [{ name: "y", value: m.output }], weights: p.weights.filter((w) => w.name.startsWith(prefix)), ops: m.ops };
          for (const problem of verifyIr(sub, opts)) out.push(`${at}: member ${j}: ${problem}`);
          for (const [what, id] of [["input", m.input], ["output", m.output]] as const) {
            const v = m.values[id];
            if (v && v.width !== r.dim) out.push(`${at}: member ${j}'s ${what} has width ${v.width}, but the pool maps width ${r.dim}`);
          }
        });
        break;
      }
      case "peer_attention": {
        if (!posInt(op.heads)) out.push(`${at}: heads ${op.heads} is not a positive integer`);
        if (!posInt(op.outDim)) out.push(`${at}: out ${op.outDim} is not a positive integer`);
        if (op.peers.length === 0) out.push(`${at}: has no peers`);
        width("its out", op.outDim);
        if (x) {
          const ds = x.width;
          if (posInt(op.heads) && ds % op.heads !== 0) out.push(`${at}: ${op.heads} heads do not divide the latent width ${ds}`);
          ins.slice(1).forEach((v, j) => { if (v && v.width !== ds) out.push(`${at}: peers[${j}] has width ${v.width}, but the primary's latent has ${ds}`); });
          for (const w of ["wq", "wk", "wv"]) need(at, { name: `${op.key}.${w}`, shape: [ds, ds], role: "param" });
          need(at, { name: `${op.key}.wo`, shape: [op.outDim, ds], role: "param" });
        }
        break;
      }
      case "shared": case "moe": {
        const pool = op.pool;
        for (const m of poolProblems(pool)) out.push(`${at}: ${m}`);
        if (pool.shared !== (op.op === "shared")) out.push(`${at}: pool ${pool.key} is ${pool.shared ? "shared" : "routed"}, but a ${op.op} op takes a ${op.op === "shared" ? "shared" : "routed"} pool`);
        if (x && x.width !== pool.dim) out.push(`${at}: operand x has width ${x.width}, but pool ${pool.key} has dim ${pool.dim}`);
        width(`pool ${pool.key}'s dim`, pool.dim);
        const prev = pools.get(pool.key);
        if (!prev) pools.set(pool.key, { pool, at });
        else if (poolId(prev.pool) !== poolId(pool)) out.push(`${at}: pool ${pool.key} differs from the pool of that key in ${prev.at}`);
        if (op.op === "moe") {
          const r = op.router;
          const rc = routerProblems(r, stageSpec);
          for (const m of rc.problems) out.push(`${at}: ${m}`);
          if (r.dim !== pool.dim) out.push(`${at}: router ${r.key} has dim ${r.dim}, but pool ${pool.key} has dim ${pool.dim}`);
          if (r.numExperts !== pool.count) out.push(`${at}: router ${r.key} routes over ${r.numExperts} experts, but pool ${pool.key} has ${pool.count}`);
          if (routers.has(r.key)) out.push(`${at}: router key ${r.key} is already used by ${routers.get(r.key)} (statistics and weights are keyed by it)`);
          routers.set(r.key, at);
          for (const t of rc.tensors) need(at, t);
          if (!rc.complete) lenientPrefixes.push(`${r.key}.`);
        }
        break;
      }
    }
  });

  p.values.forEach((v, i) => { if (!definer.has(i)) out.push(`value %${i} "${v.name}": no input or op defines it`); });
  const outNames = new Set<string>();
  for (const o of p.outputs) {
    if (outNames.has(o.name)) out.push(`output ${o.name}: the name is used by another output`);
    outNames.add(o.name);
    if (!isValue(o.value) || !definer.has(o.value)) out.push(`output ${o.name}: %${o.value} is not a defined value`);
  }
  if (p.outputs.length === 0) out.push("the program has no outputs");
  out.push(...weightProblems(p.weights, needed, [...pools.values()].map((x) => x.pool), lenientPrefixes));
  return out;
}

function weightProblems(weights: IrWeight[], needed: Map<string, NeededTensor & { by: string }>, pools: IrPool[], lenient: string[]): string[] {
  const out: string[] = [];
  const listed = new Map<string, IrWeight>();
  weights.forEach((w, i) => {
    const at = `weight ${w.name}`;
    if (listed.has(w.name)) out.push(`${at}: listed twice (the second time at index ${i})`);
    else listed.set(w.name, w);
    if (!w.shape.every(posInt)) out.push(`${at}: shape ${fmt(w.shape)} has a dimension that is not a positive integer`);
    if (w.role !== "param" && w.role !== "state") out.push(`${at}: unknown role \`${w.role}\``);
    if (w.init !== undefined && w.role !== "state") out.push(`${at}: only state has an init value`);
    if (w.init !== undefined && w.init !== "zeros" && w.init !== "ones") out.push(`${at}: unknown init \`${w.init}\``);
  });
  for (const t of needed.values()) {
    const w = listed.get(t.name);
    if (!w) { out.push(`${t.by}: reads ${t.name} ${fmt(t.shape)}, which \`weights\` does not list`); continue; }
    if (!same(w.shape, t.shape)) out.push(`${t.by}: reads ${t.name} as ${fmt(t.shape)}, but \`weights\` lists it as ${fmt(w.shape)}`);
    if (w.role !== t.role) out.push(`${t.by}: reads ${t.name} as ${t.role}, but \`weights\` lists it as ${w.role}`);
    else if (t.role === "state" && (w.init ?? "zeros") !== t.init) out.push(`${t.by}: state ${t.name} starts as ${t.init}, but \`weights\` gives init ${w.init ?? "zeros (by default)"}`);
  }
  const poolTensorsByName = new Map(pools.flatMap((pool) => poolTensors(pool).map((t) => [t.name, { pool, t }] as const)));
  for (const w of listed.values()) {
    if (needed.has(w.name) || lenient.some((pre) => w.name.startsWith(pre))) continue;
    const pt = poolTensorsByName.get(w.name);
    if (pt) {
      if (!same(pt.t.shape, w.shape)) out.push(`weight ${w.name}: listed as ${fmt(w.shape)}, but pool ${pt.pool.key} implies ${fmt(pt.t.shape)}`);
      if (w.role !== "param") out.push(`weight ${w.name}: a pool tensor is a param, listed as ${w.role}`);
      continue;
    }
    const owner = pools.find((pool) => w.name.startsWith(`${pool.key}.`));
    out.push(owner
      ? `weight ${w.name}: lies under pool ${owner.key} but is not one of its tensors (${poolTensors(owner).map((t) => t.name.slice(owner.key.length + 1)).join(", ") || "it has none"})`
      : `weight ${w.name}: no op reads it`);
  }
  return out;
}

/** Throws an IrVerifyError with every problem, if there is any; `context` says when (`after lowering \`m\``). */
export function assertValidIr(p: IrProgram, context: string, opts: VerifyOptions = {}): void {
  const problems = verifyIr(p, opts);
  if (problems.length) throw new IrVerifyError(problems, context);
}
