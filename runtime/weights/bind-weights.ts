// The weight binder: checks a weights file (and an optional state file) against an IrProgram and
// returns every tensor in the canonical stacked layout the executor reads, or every problem at
// once. Pools accept each file form of LANGUAGE.md §7: per member (`E.3.w_up`), stacked
// (`E.w_up` [N, I, D]), coarse split (`E.15.w_up` [M·I, D], stacked [C, M·I, D]) and shared
// concatenated (`S.w_up` [N·I, D]); forms are told apart by shape.
// Binding is planned from headers alone (names, dtypes, shapes): bindWeightsLazy returns, per
// canonical tensor, a function that reads and assembles it when asked, so a checkpoint streams
// to the device one tensor at a time; bindWeights assembles every tensor at once.

import type { IrPool, IrProgram } from "../../compiler/ir/ir.js";
import { DTYPE_SIZE, decodeFloats, isFloatDtype, type Dtype } from "../safetensors/dtype.js";
import {
  canonicalLayout,
  groupingsFor,
  groupShape,
  type CanonicalLayout,
  type Grouping,
  type PoolTensorSpec,
  type TensorSpec,
} from "./canonical-layout.js";
import * as msg from "./bind-messages.js";
import { groupSize, scatterGroup } from "./pool-slicing.js";
import type { Fp8Rows } from "./quant/fp8-e4m3.js";

export type { BindError } from "./bind-messages.js";

/** A tensor as the reader yields it (SafetensorsTensor satisfies this)… */
export interface TensorLike {
  dtype: Dtype;
  shape: readonly number[];
  bytes: Uint8Array;
}

/** …or one whose bytes are read on demand (LazySafetensorsTensor satisfies this). */
export interface LazyTensorLike {
  dtype: Dtype;
  shape: readonly number[];
  byteLength: number;
  /** The file it is read from, for messages (the source's label when absent). */
  file?: string;
  read(): Uint8Array;
  /** An FP8 checkpoint's weight (quantized-checkpoint.ts): its own bytes and row scales, besides
   *  the dequantized values `read` gives. */
  fp8?: () => Fp8Rows;
}

/** A weights or state file (SafetensorsFile, LazySafetensorsFile or a checkpoint directory). */
export interface WeightSource {
  label: string;
  tensors: ReadonlyMap<string, TensorLike | LazyTensorLike>;
}

export type BindResult = { ok: true; weights: Map<string, Float32Array> } | { ok: false; errors: msg.BindError[] };

/** A canonical tensor to be assembled on demand: its shape and the file bytes it reads. */
export interface PlannedTensor {
  shape: number[];
  /** Bytes read from the files to make it (0 for a state tensor at its init). */
  fileBytes: number;
  make(): Float32Array;
  /** The tensor's FP8 bytes and row scales as the checkpoint stores them, when it is an FP8
   *  weight placed in the canonical layout unchanged (HostWeights.fp8Rows). */
  fp8?: () => Fp8Rows;
}

export type LazyBindResult = { ok: true; weights: Map<string, PlannedTensor> } | { ok: false; errors: msg.BindError[] };

const byteLengthOf = (t: TensorLike | LazyTensorLike): number => ("bytes" in t ? t.bytes.byteLength : t.byteLength);
const bytesOf = (t: TensorLike | LazyTensorLike): Uint8Array => ("bytes" in t ? t.bytes : t.read());
const fp8Of = (t: TensorLike | LazyTensorLike): (() => Fp8Rows) | undefined => ("fp8" in t ? t.fp8 : undefined);

/** Members' FP8 rows stacked in order (each member's rows follow the previous one's). */
function stackFp8(parts: (() => Fp8Rows)[]): () => Fp8Rows {
  return () => {
    const got = parts.map((p) => p());
    const cols = got[0]!.cols;
    const bytes = new Uint8Array(got.reduce((a, g) => a + g.bytes.length, 0));
    const rowScales = new Float32Array(got.reduce((a, g) => a + g.rowScales.length, 0));
    let o = 0, so = 0;
    for (const g of got) {
      bytes.set(g.bytes, o);
      rowScales.set(g.rowScales, so);
      o += g.bytes.length;
      so += g.rowScales.length;
    }
    return { rows: got.reduce((a, g) => a + g.rows, 0), cols, bytes, rowScales };
  };
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);

/** Member tensors `PREFIX.INDEX.PARAM` by `PREFIX\0PARAM`, then index. */
function indexMembers(src: WeightSource): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  for (const name of src.tensors.keys()) {
    const m = /^(.+)\.(0|[1-9][0-9]*)\.([^.]+)$/.exec(name);
    if (!m) continue;
    const key = `${m[1]}\0${m[3]}`;
    let byIndex = out.get(key);
    if (!byIndex) out.set(key, (byIndex = new Map()));
    byIndex.set(Number(m[2]), name);
  }
  return out;
}

/** Binds and assembles every tensor now. */
export function bindWeights(program: IrProgram, weights: WeightSource, state?: WeightSource): BindResult {
  const r = bindWeightsLazy(program, weights, state);
  if (!r.ok) return r;
  return { ok: true, weights: new Map([...r.weights].map(([name, t]) => [name, t.make()])) };
}

/** Checks every tensor from its header; returns how to assemble each canonical tensor later. */
export function bindWeightsLazy(program: IrProgram, weights: WeightSource, state?: WeightSource): LazyBindResult {
  const layout = canonicalLayout(program);
  const b = new Binder(layout, weights, state);
  b.bindTensors();
  for (const pool of layout.pools) b.bindPool(pool);
  b.reportExtras();
  return b.errors.length ? { ok: false, errors: b.errors } : { ok: true, weights: b.out };
}

class Binder {
  readonly errors: msg.BindError[] = [];
  readonly out = new Map<string, PlannedTensor>();
  private readonly claimedW = new Set<string>();
  private readonly claimedS = new Set<string>();
  private readonly members: Map<string, Map<number, string>>;

  constructor(private readonly layout: CanonicalLayout, private readonly weights: WeightSource, private readonly state?: WeightSource) {
    this.errors.push(...layout.problems);
    this.members = indexMembers(weights);
  }

  /** A reader of a float tensor's f32 values, or undefined after recording why it cannot be read. */
  private decoder(src: WeightSource, name: string, t: TensorLike | LazyTensorLike): (() => Float32Array) | undefined {
    const file = ("file" in t && t.file) || src.label;
    if (!isFloatDtype(t.dtype)) {
      this.errors.push(msg.badDtype(name, file, t.dtype));
      return undefined;
    }
    const need = numel(t.shape) * DTYPE_SIZE[t.dtype];
    if (byteLengthOf(t) !== need) {
      this.errors.push(msg.badByteLength(name, file, byteLengthOf(t), need));
      return undefined;
    }
    return () => decodeFloats(t.dtype as "F32" | "F16" | "BF16", bytesOf(t));
  }

  private bindPlain(src: WeightSource, spec: TensorSpec, t: TensorLike | LazyTensorLike): void {
    if (!sameShape(t.shape, spec.shape)) {
      this.errors.push(msg.misShaped(spec.name, ("file" in t && t.file) || src.label, t.shape, [{ shape: spec.shape }]));
      return;
    }
    const make = this.decoder(src, spec.name, t);
    const fp8 = fp8Of(t);
    if (make) this.out.set(spec.name, { shape: spec.shape, fileBytes: byteLengthOf(t), make, ...(fp8 ? { fp8 } : {}) });
  }

  /** Linear, router and state tensors: one exact name each. */
  bindTensors(): void {
    for (const spec of this.layout.tensors) {
      const inWeights = this.weights.tensors.get(spec.name);
      if (inWeights) this.claimedW.add(spec.name);
      if (spec.role === "state") {
        // --state first, then the weights file (checkpoints store it there), then the init value.
        const inState = this.state?.tensors.get(spec.name);
        if (inState) {
          this.claimedS.add(spec.name);
          this.bindPlain(this.state!, spec, inState);
        } else if (inWeights) {
          this.bindPlain(this.weights, spec, inWeights);
        } else {
          const init = spec.init === "ones" ? 1 : 0;
          this.out.set(spec.name, { shape: spec.shape, fileBytes: 0, make: () => new Float32Array(numel(spec.shape)).fill(init) });
        }
      } else if (inWeights) {
        this.bindPlain(this.weights, spec, inWeights);
      } else {
        this.errors.push(msg.missingTensor(spec.name, spec.shape, this.weights.label, spec.owner));
      }
    }
  }

  bindPool(pool: IrPool): void {
    // The member form used by this pool's unambiguous tensors decides the ambiguous ones
    // (`b_down` is [D] both per fine and per coarse expert); matrices come first in the order.
    let hint: Grouping["kind"] | undefined;
    for (const spec of this.layout.poolTensors) {
      if (spec.pool !== pool) continue;
      const used = this.bindPoolTensor(spec, hint);
      if (used && hint === undefined) hint = used;
    }
  }

  /** Returns the member grouping it used when that was decided by shape alone. */
  private bindPoolTensor(spec: PoolTensorSpec, hint: Grouping["kind"] | undefined): Grouping["kind"] | undefined {
    const { pool, param: p, name } = spec;
    const file = this.weights.label;
    const gs = groupingsFor(pool, p);
    const whole = this.weights.tensors.get(name);
    const members = [...(this.members.get(`${pool.key}\0${p.name}`) ?? new Map<number, string>()).entries()].sort((a, b) => a[0] - b[0]);
    if (whole) this.claimedW.add(name);
    for (const [, n] of members) this.claimedW.add(n);

    if (whole && members.length) {
      this.errors.push(msg.givenTwice(name, file, whole.shape, members.map(([, n]) => n)));
      return undefined;
    }
    if (whole) {
      const forms = gs.map((g) => ({ g, ...msg.wholeForm(pool, p, g) }));
      const form = forms.find((f) => sameShape(f.shape, whole.shape));
      if (!form) {
        this.errors.push(msg.misShaped(name, file, whole.shape, forms));
        return undefined;
      }
      const read = this.decoder(this.weights, name, whole);
      if (!read) return undefined;
      const size = groupSize(p.layout, pool, form.g);
      // `rows` groups (and `cols` groups of one expert each) are placed one after another: the
      // canonical tensor is the file's, row for row.
      const fp8 = p.layout === "rows" || (p.layout === "cols" && form.g.perGroup === 1) ? fp8Of(whole) : undefined;
      this.out.set(name, {
        shape: spec.shape, fileBytes: byteLengthOf(whole), ...(fp8 ? { fp8 } : {}),
        make: () => {
          const data = read(), dst = new Float32Array(numel(spec.shape));
          for (let gi = 0; gi < form.g.groups; gi++) scatterGroup(p.layout, pool, form.g, gi, data.subarray(gi * size, (gi + 1) * size), dst);
          return dst;
        },
      });
      return undefined;
    }
    if (!members.length) {
      this.errors.push(msg.missingPoolTensor(pool, p, gs, file));
      return undefined;
    }

    // Per-member names: classify each by shape (fine or coarse expert) and index.
    const memberForms = gs.filter((g) => g.kind !== "concat");
    let usable = true;
    const valid: { index: number; name: string; t: TensorLike | LazyTensorLike; fits: Grouping[] }[] = [];
    const given = new Map<Grouping, Set<number>>(memberForms.map((g) => [g, new Set()]));
    for (const [index, mname] of members) {
      const t = this.weights.tensors.get(mname)!;
      const byShape = memberForms.filter((g) => sameShape(groupShape(pool, p, g), t.shape));
      for (const g of memberForms) if (index < g.groups) given.get(g)!.add(index);
      if (!byShape.length) {
        this.errors.push(msg.misShapedMember(mname, file, t.shape, pool, p, memberForms));
        usable = false;
        continue;
      }
      const fits = byShape.filter((g) => index < g.groups);
      if (!fits.length) {
        this.errors.push(msg.memberOutOfRange(mname, file, pool, byShape[0]!));
        usable = false;
        continue;
      }
      valid.push({ index, name: mname, t, fits });
    }
    if (!valid.length) return undefined;

    const candidates = memberForms.filter((g) => valid.every((m) => m.fits.includes(g)));
    if (!candidates.length) {
      const a = valid.find((m) => m.fits.length === 1)!;
      const other = valid.find((m) => !m.fits.includes(a.fits[0]!))!;
      this.errors.push(msg.mixedForms(name, file, { name: a.name, shape: a.t.shape, g: a.fits[0]! }, { name: other.name, shape: other.t.shape, g: other.fits[0]! }));
      return undefined;
    }
    let chosen: Grouping;
    let decided: Grouping["kind"] | undefined;
    if (candidates.length === 1) {
      chosen = candidates[0]!;
      decided = chosen.kind;
    } else {
      // Shapes agree for every form: follow the pool's other tensors, else whichever form the
      // given indices complete (C coarse members 0…C-1 versus N fine ones).
      const coarse = candidates.find((g) => g.kind === "coarse");
      chosen = candidates.find((g) => g.kind === hint) ?? (coarse && valid.length === coarse.groups ? coarse : candidates[0]!);
    }

    const present = given.get(chosen)!;
    const missing: number[] = [];
    for (let i = 0; i < chosen.groups; i++) if (!present.has(i)) missing.push(i);
    if (missing.length) {
      this.errors.push(msg.partialPool(pool, p, file, chosen, missing));
      return decided;
    }
    if (!usable) return decided;
    const reads: { index: number; read: () => Float32Array }[] = [];
    for (const m of valid) {
      const read = this.decoder(this.weights, m.name, m.t);
      if (!read) usable = false;
      else reads.push({ index: m.index, read });
    }
    // Members are read one at a time into the stacked tensor, each released once scattered.
    if (usable) {
      // FP8 members whose scatter is a plain stacking (`rows`; `cols` of one expert per member)
      // keep their own bytes and scales, stacked in member order.
      const fp8s = valid.map((m) => fp8Of(m.t));
      const stacked = p.layout === "rows" || (p.layout === "cols" && chosen.perGroup === 1);
      const fp8 = stacked && fp8s.every((f) => f !== undefined) ? stackFp8(fp8s as (() => Fp8Rows)[]) : undefined;
      this.out.set(name, {
        shape: spec.shape, fileBytes: valid.reduce((a, m) => a + byteLengthOf(m.t), 0), ...(fp8 ? { fp8 } : {}),
        make: () => {
          const dst = new Float32Array(numel(spec.shape));
          for (const r of reads) scatterGroup(p.layout, pool, chosen, r.index, r.read(), dst);
          return dst;
        },
      });
    }
    return decided;
  }

  reportExtras(): void {
    for (const name of this.weights.tensors.keys()) {
      if (!this.claimedW.has(name)) this.errors.push(msg.extraTensor(name, this.weights.label, this.layout, false));
    }
    if (!this.state) return;
    for (const name of this.state.tensors.keys()) {
      if (!this.claimedS.has(name)) this.errors.push(msg.extraTensor(name, this.state.label, this.layout, true));
    }
  }
}
