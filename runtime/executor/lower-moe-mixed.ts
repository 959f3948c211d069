// Fused lowering of a heterogeneous (`mixed`) routed pool:
//
//   router ─► dispatch ─► hetero GEMM up ─► hetero GEMM down ─► hetero combine      5 dispatches
//
// Every member with weights (ffn of any hidden size, act and bias; lowrank of any rank; atoms) runs
// in the same two ragged grouped-GEMM launches, each 16-row tile reading its member's size,
// offsets and activation from a table (gemm/hetero-gemms.ts); identity and zero members cost nothing but
// a branch in the combine. Members' tensors are packed into one buffer per role at plan time.

import type { IrOp, IrPool } from "../../compiler/ir/ir.js";
import { bytesPer, createBuffer, STORAGE_USAGE, uploadFloats } from "../gpu/buffers.js";
import { innerAct, isGatedAct } from "../kernels/gemm/ffn-gemms.js";
import { heteroDownKernel, heteroDownParams, heteroUpKernel, heteroUpParams, MEMBER_KIND, MEMBER_WORDS } from "../kernels/gemm/hetero-gemms.js";
import { HETERO_COMBINE_WG, heteroCombineKernel } from "../kernels/hetero-combine.js";
import { ACT_CODE, grid2D } from "../kernels/wgsl-common.js";
import { mixedMemberPool } from "../weights/canonical-layout.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { sortSlots } from "./ffn-steps.js";
import { elementwiseGrid } from "./grids.js";
import { ffnTensorNames, ffnView, gpuForm } from "./pool-view.js";
import { routeSlots } from "./route-slots.js";
import { WeightError } from "./weight-store.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;

interface Packed {
  table: Uint32Array;
  wUp: Float32Array;
  wGate: Float32Array | undefined;
  bUp: Float32Array;
  bGate: Float32Array;
  wDown: Float32Array;
  bDown: Float32Array;
  Imax: number;
}

/** Packs the members' tensors (validated against their shapes) member after member. */
function packMembers(b: BuildContext, pool: IrPool): Packed {
  const members = pool.members ?? [];
  const D = pool.dim;
  const N = members.length;
  const table = new Uint32Array(N * MEMBER_WORDS);
  // Each member as the GPU runs it: an FFN view (with weights) or a null expert.
  const views = members.map((_, j) => ffnView(mixedMemberPool(pool, j)));
  const forms = views.map(gpuForm);
  let rows = 0;
  views.forEach((v, j) => (rows += forms[j] === "ffn" ? v.hidden : 0));
  const anyGated = views.some((v, j) => forms[j] === "ffn" && isGatedAct(v.act));
  const p: Packed = {
    table,
    wUp: new Float32Array(rows * D),
    wGate: anyGated ? new Float32Array(rows * D) : undefined,
    bUp: new Float32Array(Math.max(1, rows)),
    bGate: new Float32Array(Math.max(1, rows)),
    wDown: new Float32Array(rows * D),
    bDown: new Float32Array(N * D),
    Imax: 0,
  };
  let row = 0;
  members.forEach((m, j) => {
    const t = j * MEMBER_WORDS;
    const form = forms[j]!;
    if (form !== "ffn") {
      table[t] = MEMBER_KIND[form];
      return;
    }
    const mp = views[j]!;
    const I = mp.hidden;
    const gated = isGatedAct(mp.act);
    const names = ffnTensorNames(mp)!;
    const what = (s: string) => `pool '${pool.key}' member ${j} (${m.kind}) ${s}`;
    p.wUp.set(b.weights.host(names.up, [I, D], what(names.what.up)), row * D);
    if (gated) p.wGate!.set(b.weights.host(names.gate, [I, D], what(names.what.gate)), row * D);
    p.wDown.set(b.weights.host(names.down, [D, I], what(names.what.down)), row * D);
    if (names.bias) {
      const local = (n: string): string => n.slice(mp.key.length + 1);
      p.bUp.set(b.weights.host(names.bias.up, [I], what(local(names.bias.up))), row);
      if (gated) p.bGate.set(b.weights.host(names.bias.gate, [I], what(local(names.bias.gate))), row);
      p.bDown.set(b.weights.host(names.bias.down, [D], what(local(names.bias.down))), j * D);
    }
    table.set([MEMBER_KIND.weights, I, row, row * D, ACT_CODE[innerAct(mp.act)], gated ? 1 : 0, names.bias ? 1 : 0, 0], t);
    row += I;
    p.Imax = Math.max(p.Imax, I);
  });
  return p;
}

export async function lowerMoeMixed(b: BuildContext, op: MoeOp, index: number, name: string): Promise<Lowering> {
  const { pool } = op;
  if (pool.kind !== "mixed" || !pool.members || pool.members.length !== pool.count) throw new Error(`internal: lowerMoeMixed got pool '${pool.key}' without members`);
  const routed = await routeSlots(b, op, name);
  const { tokCount, ids, wts, expertCount, maxK } = routed;
  const E = pool.count;
  const D = pool.dim;
  const cap = b.cap;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const x = b.value(op.x);
  const out = b.value(op.out);
  const pk = packMembers(b, pool);

  // Packed tensors are weights: made once and kept by the weight store across plans (not
  // activations: token chunking must not count them). A pool too large for one binding is
  // reported, not split.
  const limit = b.weights.maxBindingBytes;
  const upload = (data: Float32Array, label: string): GPUBuffer => {
    const bytes = data.length * bytesPer(b.dtype);
    if (bytes > limit) {
      throw new WeightError(`heterogeneous pool '${pool.key}': its packed ${label} needs ${bytes} bytes, above the storage binding limit of ${limit} bytes; splitting heterogeneous pools is not implemented`);
    }
    return b.weights.derivedBuffer(`${pool.key}#mixed.${label}@${b.dtype}`, () => uploadFloats(b.device, data.length ? data : new Float32Array(1), b.dtype, `${pool.key} packed ${label}`));
  };
  const table = b.weights.derivedBuffer(`${pool.key}#mixed.members`, () => {
    const buf = createBuffer(b.device, pk.table.byteLength, STORAGE_USAGE(), `${pool.key} members`);
    b.device.queue.writeBuffer(buf, 0, pk.table);
    return buf;
  });

  const steps: Step[] = [];
  const clears = [...routed.clears];
  let y = b.dummy();
  if (pk.Imax > 0) {
    const sort = await sortSlots(b, { E, maxK, expertCount, tokCount, ids }, name);
    const { sorted, tile_expert, tile_info } = sort.slots;
    const h = b.storage(sort.slots.rowsCap * pk.Imax, `${name}.h`);
    y = b.storage(cap * maxK * D, `${name}.y`);
    clears.push(...sort.clears);
    steps.push(sort.step);
    const up = heteroUpParams({ D, Imax: pk.Imax, maxK });
    const upBufs = {
      x, sorted, tile_expert, tile_info, table,
      w_up: upload(pk.wUp, "w_up"),
      w_gate: pk.wGate ? upload(pk.wGate, "w_gate") : b.dummy(),
      b_up: upload(pk.bUp, "b_up"),
      b_gate: upload(pk.bGate, "b_gate"),
      h,
    };
    steps.push(await b.step(heteroUpKernel(b.dtype), up.values, upBufs, (T) => grid2D(up.ntn * sort.slots.tiles(T), maxDim)));
    const down = heteroDownParams({ D, Imax: pk.Imax });
    const downBufs = { h, sorted, tile_expert, tile_info, table, wts, w_down: upload(pk.wDown, "w_down"), b_down: upload(pk.bDown, "b_down"), y };
    steps.push(await b.step(heteroDownKernel(b.dtype), down.values, downBufs, (T) => grid2D(down.ntn * sort.slots.tiles(T), maxDim)));
  }
  steps.push(
    await b.step(heteroCombineKernel(b.dtype), { D, maxK }, { x, tok_count: tokCount, ids, wts, table, y, out }, (T) => elementwiseGrid(T * D, HETERO_COMBINE_WG, maxDim)),
  );

  return {
    op: index,
    kind: "moe",
    name,
    clears,
    encode(rec, T) {
      routed.prepare(T);
      for (const s of routed.steps) record(rec, s, T);
      for (const s of steps) record(rec, s, T);
    },
    ...routed.lowering,
  };
}
