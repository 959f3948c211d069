// Token chunking: a run whose activation buffers would exceed the binding limit (any [T, width]
// value, the router's per-token arrays, the expert-sorted hidden rows, the per-slot outputs) is
// split into chunks of at most C tokens that each fit. Every op is per-token except batch-scope
// selection, so a chunk is just a smaller run:
//
//   one plan with capacity C (every buffer sized for C tokens, reused by every chunk)
//   ONE command encoder; per chunk, in order:
//     copy T_chunk ─► run uniform        (the kernels read T from it)
//     copy the chunk's input rows ─► input value buffers   (from a feed buffer written once)
//     clear counters, record every op for T_chunk tokens
//     copy the chunk's output rows (and routing, statistics) ─► staging at the chunk's offset
//   ONE submit, ONE read-back (the staging buffers are mapped together).
//
// The rule: C = the largest token capacity whose every buffer fits min(maxStorageBufferBindingSize,
// maxBufferSize, maxActivationBytes) — measured by building the plan in sizing mode, binary search —
// capped so that one chunk's inputs or outputs fit maxBufferSize, and made even under f16 storage
// (copies need 4-byte offsets). Chunks are [0, C), [C, 2C), …, the last one T − (n−1)·C tokens.
// Feeds and staging are grouped into segments of consecutive chunks of at most maxBufferSize bytes
// each (one segment unless the run's inputs or outputs exceed maxBufferSize: 4 GiB on lavapipe).
// The unfused baseline writes per-run uniforms from the host inside ops, so it submits after each
// chunk (its read-backs are per pool anyway).
//
// Not chunkable: a router with `scope: "run"` (expert choice sees the whole batch), a router whose
// state is updated from the run's load, or any lowering that sets `wholeRun`: TokenChunkError
// names it and the largest T that fits.

import type { IrProgram, ValueId } from "../../compiler/ir/ir.js";
import { bytesPer, padTo4, type StorageDtype, writeFloats } from "../gpu/buffers.js";
import { fromF16 } from "../gpu/f16.js";
import type { KernelSpec } from "../kernels/kernel-spec.js";
import { BuildContext, type Lowering, type Step } from "./build-context.js";
import type { ReadRequest, Recorder } from "./recorder.js";
import type { RoutingResult } from "./types.js";

export class TokenChunkError extends Error {
  override name = "TokenChunkError";
}

// ---------------------------------------------------------------------------------------------
// Sizing: the plan's buffers measured, not allocated.

/**
 * A BuildContext that records the size of every buffer a plan would allocate instead of
 * allocating it (binds shared placeholders, compiles nothing). Used to find the largest token
 * capacity that fits the binding limit; the lowerings run unchanged.
 */
export class SizingContext extends BuildContext {
  /** The largest buffer requested so far. */
  largest = { label: "", bytes: 0 };
  private placeholders: GPUBuffer[] = [];

  private placeholder(usage: number): GPUBuffer {
    const buf = this.device.createBuffer({ size: 256, usage, label: "sizing placeholder" });
    this.placeholders.push(buf);
    return buf;
  }

  override storage(elements: number, label: string, elementBytes = bytesPer(this.dtype)): GPUBuffer {
    const bytes = elements * elementBytes;
    if (bytes > this.largest.bytes) this.largest = { label, bytes };
    return this.placeholder(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  }

  override uniform(_words: number[], _label: string): GPUBuffer {
    return this.placeholder(GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  }

  protected override async bindStep(_spec: KernelSpec, _resources: Record<string, GPUBuffer>, grid: Step["grid"]): Promise<Step> {
    return { pipeline: undefined as unknown as GPUComputePipeline, bindGroup: undefined as unknown as GPUBindGroup, grid };
  }

  override dispose(): void {
    for (const b of this.placeholders) b.destroy();
    this.placeholders = [];
    super.dispose();
  }
}

/** Largest n in [1, hi] with fits(n), for a monotone predicate (true up to some n); 0 if none. */
export async function largestFitting(hi: number, fits: (n: number) => Promise<boolean>): Promise<number> {
  let lo = 0;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (await fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// The chunk rule.

export interface TokenChunk {
  index: number;
  /** First token. */
  t0: number;
  /** Tokens in this chunk. */
  n: number;
}

/** Chunks of `chunk` tokens, the last one the remainder. */
export function splitTokens(T: number, chunk: number): TokenChunk[] {
  if (!(chunk >= 1)) throw new RangeError(`chunk size must be ≥ 1, got ${chunk}`);
  const out: TokenChunk[] = [];
  for (let t0 = 0, index = 0; t0 < T; t0 += chunk, index++) out.push({ index, t0, n: Math.min(chunk, T - t0) });
  return out;
}

/** Bytes a run moves per token through feeds and staging, and per chunk (statistics). */
export interface IoBytes {
  /** Per token, all inputs (each region padded to 4 bytes per segment: see `regions`). */
  feedPerToken: number;
  /** Per token, outputs and routing arrays. */
  stagePerToken: number;
  /** Per chunk, fixed-size reads (routing statistics). */
  stagePerChunk: number;
  /** Regions per segment (each may add 2 bytes of padding). */
  regions: number;
  /** Some input or output row is not a multiple of 4 bytes (f16, odd width): copies need 4-byte
   *  offsets, so chunks must start at even tokens. */
  oddRows: boolean;
}

/**
 * The chunk size for a run of T tokens: min(plan capacity, what fits maxBufferSize per chunk),
 * made even when some row is not a multiple of 4 bytes (f16, odd width) and T is actually split.
 * Returns ≥ T when the run needs no chunks.
 */
export function chunkSize(T: number, planCap: number, io: IoBytes, maxBufferSize: number): number {
  const per = Math.max(io.feedPerToken, io.stagePerToken, 1);
  const ioCap = Math.floor((maxBufferSize - 4 * io.regions - io.stagePerChunk) / per);
  let c = Math.min(planCap, ioCap);
  if (c >= T) return c;
  if (c < 1) {
    throw new TokenChunkError(`cannot split ${T} tokens into chunks: one token's inputs or outputs (${per} bytes) do not fit maxBufferSize ${maxBufferSize}`);
  }
  if (io.oddRows) {
    c -= c % 2;
    if (c < 2) {
      throw new TokenChunkError(
        `cannot split ${T} tokens into chunks: the binding limit allows 1 token per chunk, but rows of odd width in f16 (2-byte aligned) need chunks of an even number of tokens`,
      );
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// What a lowering may declare about chunking (duck-typed: some of these members come with other
// features' lowerings).

interface StatsHook {
  key: string;
  reads(T: number): ReadRequest[];
  decode(data: ArrayBuffer[], T: number): RawStatsLike;
}

/** The additive fields of a router's raw statistics (runtime/stats/router-stats.ts). */
export interface RawStatsLike {
  tokens: number;
  load: ArrayLike<number>;
  importanceSum: ArrayLike<number>;
  pSum: ArrayLike<number>;
  entropySum: number;
  histogram: ArrayLike<number>;
}

interface ChunkHooks {
  /** Lowering.wholeRun: the op needs every token of the run in one pass: why (for the error). */
  wholeRun?: string;
  routerStats?: StatsHook;
  routerState?: { key: string; plan?: { stateUpdates?: readonly unknown[] } };
}

const hooks = (l: Lowering): ChunkHooks => l as unknown as ChunkHooks;

/** Throws TokenChunkError if the program cannot be split into token chunks. */
export function assertChunkable(program: IrProgram, lowerings: Lowering[], T: number, chunk: number, why: string): void {
  const tail = `; a run of ${T} tokens needs ${Math.ceil(T / chunk)} chunks (${why}), so run at most ${chunk} tokens per call`;
  for (const op of program.ops) {
    if (op.op === "moe" && op.router.scope === "run") {
      throw new TokenChunkError(`router '${op.router.key}' selects over the whole run (scope run: expert choice) and cannot be split into token chunks${tail}`);
    }
  }
  for (const l of lowerings) {
    const h = hooks(l);
    if (h.wholeRun) throw new TokenChunkError(`${l.kind} '${l.name}' cannot be split into token chunks: ${h.wholeRun}${tail}`);
    if (h.routerState?.plan?.stateUpdates?.length) {
      throw new TokenChunkError(
        `router '${h.routerState.key}' updates its state from the whole run's expert loads and cannot be split into token chunks${tail}`,
      );
    }
  }
}

/** Sums per-chunk raw router statistics (every field is a sum over tokens); the rest from the last chunk. */
export function sumRawStats<S extends RawStatsLike>(parts: S[]): S {
  const last = parts[parts.length - 1]!;
  const add = (get: (s: S) => ArrayLike<number>): Float64Array => {
    const out = new Float64Array(get(last).length);
    for (const p of parts) {
      const a = get(p);
      for (let i = 0; i < out.length; i++) out[i] += a[i]!;
    }
    return out;
  };
  return {
    ...last,
    tokens: parts.reduce((a, p) => a + p.tokens, 0),
    load: add((s) => s.load),
    importanceSum: add((s) => s.importanceSum),
    pSum: add((s) => s.pSum),
    entropySum: parts.reduce((a, p) => a + p.entropySum, 0),
    histogram: add((s) => s.histogram),
  };
}

// ---------------------------------------------------------------------------------------------
// The chunked run.

export interface ChunkedRun {
  device: GPUDevice;
  program: IrProgram;
  dtype: StorageDtype;
  /** false (unfused baseline): submit after every chunk, its ops write uniforms from the host. */
  fused: boolean;
  values: Map<ValueId, GPUBuffer>;
  lowerings: Lowering[];
  runUniform: GPUBuffer;
  inputs: Map<string, Float32Array | Int32Array>;
  tokens: number;
  chunk: number;
  maxBufferSize: number;
  rec: Recorder;
  returnRouting: boolean;
}

export interface ChunkedResult {
  outputs: Map<string, Float32Array>;
  routing?: Map<string, RoutingResult>;
  /** Per router key, statistics summed over the chunks. */
  stats?: Map<string, RawStatsLike>;
  chunks: number;
}

const valueOf = (program: IrProgram, id: ValueId) => {
  const v = program.values.find((x) => x.id === id);
  if (!v) throw new Error(`internal: unknown value %${id}`);
  return v;
};

/** Per-token regions of the feed (inputs) and of the staging (outputs, routing). */
export function ioRegions(program: IrProgram, dtype: StorageDtype, lowerings: Lowering[], returnRouting: boolean) {
  const sb = bytesPer(dtype);
  const elemBytes = (id: ValueId): number => (valueOf(program, id).dtype === "i32" ? 4 : sb);
  const feed = program.inputs.map((inp) => ({ name: inp.name, value: inp.value, bpt: valueOf(program, inp.value).width * elemBytes(inp.value) }));
  const outs = program.outputs.map((o) => ({ name: o.name, value: o.value, bpt: valueOf(program, o.value).width * elemBytes(o.value) }));
  const routed = returnRouting ? lowerings.filter((l) => l.routing) : [];
  const routing = routed.flatMap((l) => {
    const r = l.routing!;
    return [
      { key: r.key, part: "counts" as const, buffer: r.tokCount, bpt: 4, maxK: r.maxPerToken },
      { key: r.key, part: "ids" as const, buffer: r.ids, bpt: 4 * r.maxPerToken, maxK: r.maxPerToken },
      { key: r.key, part: "weights" as const, buffer: r.wts, bpt: 4 * r.maxPerToken, maxK: r.maxPerToken },
    ];
  });
  const statted = lowerings.filter((l) => hooks(l).routerStats).map((l) => hooks(l).routerStats!);
  return { feed, outs, routing, statted };
}

export function ioBytes(program: IrProgram, dtype: StorageDtype, lowerings: Lowering[], returnRouting: boolean, chunkForStats = 1): IoBytes {
  const r = ioRegions(program, dtype, lowerings, returnRouting);
  const stagePerChunk = r.statted.reduce((a, s) => a + s.reads(chunkForStats).reduce((b, q) => b + padTo4(q.bytes), 0), 0);
  return {
    oddRows: [...r.feed, ...r.outs].some((x) => x.bpt % 4 !== 0),
    feedPerToken: r.feed.reduce((a, f) => a + f.bpt, 0),
    stagePerToken: r.outs.reduce((a, o) => a + o.bpt, 0) + r.routing.reduce((a, o) => a + o.bpt, 0),
    stagePerChunk,
    regions: Math.max(r.feed.length, r.outs.length + r.routing.length),
  };
}

interface Segment {
  chunks: TokenChunk[];
  t0: number;
  n: number;
  feed: GPUBuffer | null;
  feedOffsets: number[];
  staging: GPUBuffer;
  /** Offsets of the outputs, then the routing arrays, then the per-chunk statistics block. */
  outOffsets: number[];
  statsOffset: number;
  statsPerChunk: number;
}

/**
 * Records a run of `tokens` tokens as chunks of `chunk` tokens into `rec` (one command buffer for
 * the fused executor), submits it and reads everything back at once.
 */
export async function runChunked(r: ChunkedRun): Promise<ChunkedResult> {
  const { device, program, dtype, rec, tokens: T, chunk: C } = r;
  const io = ioRegions(program, dtype, r.lowerings, r.returnRouting);
  const statsPerChunk = io.statted.map((s) => s.reads(C)).reduce((a, rs) => a + rs.reduce((b, q) => b + padTo4(q.bytes), 0), 0);
  const stageRegions = [...io.outs.map((o) => o.bpt), ...io.routing.map((o) => o.bpt)];
  const feedRegions = io.feed.map((f) => f.bpt);
  const layout = (bpts: number[], n: number): { offsets: number[]; bytes: number } => {
    const offsets: number[] = [];
    let at = 0;
    for (const b of bpts) {
      offsets.push(at);
      at += padTo4(n * b);
    }
    return { offsets, bytes: at };
  };

  // Segments: consecutive chunks whose feed and staging each fit maxBufferSize.
  const chunks = splitTokens(T, C);
  const groups: TokenChunk[][] = [];
  for (const c of chunks) {
    const g = groups[groups.length - 1];
    if (g) {
      const n = c.t0 + c.n - g[0]!.t0;
      const stage = layout(stageRegions, n).bytes + (g.length + 1) * statsPerChunk;
      if (stage <= r.maxBufferSize && layout(feedRegions, n).bytes <= r.maxBufferSize) {
        g.push(c);
        continue;
      }
    }
    groups.push([c]);
  }

  const created: GPUBuffer[] = [];
  const tCopy = device.createBuffer({ size: 32, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: "chunk T" });
  created.push(tCopy);
  const lastN = chunks[chunks.length - 1]!.n;
  device.queue.writeBuffer(tCopy, 0, new Uint32Array([C, 0, 0, 0, lastN, 0, 0, 0]));

  const segments: Segment[] = [];
  const staged: GPUBuffer[] = [];
  try {
    for (const g of groups) {
      const t0 = g[0]!.t0;
      const n = g.reduce((a, c) => a + c.n, 0);
      const f = layout(feedRegions, n);
      let feed: GPUBuffer | null = null;
      if (f.bytes > 0) {
        feed = device.createBuffer({ size: f.bytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: `feed [${t0}, ${t0 + n})` });
        created.push(feed);
        io.feed.forEach((inp, i) => {
          const data = r.inputs.get(inp.name)!;
          const w = inp.bpt / (data instanceof Int32Array ? 4 : bytesPer(dtype));
          const rows = data.subarray(t0 * w, (t0 + n) * w);
          if (rows instanceof Int32Array) {
            const bytes = new Uint8Array(padTo4(rows.byteLength));
            bytes.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
            device.queue.writeBuffer(feed!, f.offsets[i]!, bytes);
          } else writeFloats(device, feed!, f.offsets[i]!, rows, dtype);
        });
      }
      const s = layout(stageRegions, n);
      const staging = device.createBuffer({
        size: Math.max(4, s.bytes + g.length * statsPerChunk),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        label: `staging [${t0}, ${t0 + n})`,
      });
      staged.push(staging);
      segments.push({ chunks: g, t0, n, feed, feedOffsets: f.offsets, staging, outOffsets: s.offsets, statsOffset: s.bytes, statsPerChunk });
    }

    for (const seg of segments) {
      for (let ci = 0; ci < seg.chunks.length; ci++) {
        const c = seg.chunks[ci]!;
        const rel = c.t0 - seg.t0;
        rec.copy(tCopy, c.n === C ? 0 : 16, r.runUniform, 0, 16);
        io.feed.forEach((inp, i) => {
          rec.copy(seg.feed!, seg.feedOffsets[i]! + rel * inp.bpt, r.values.get(inp.value)!, 0, padTo4(c.n * inp.bpt));
        });
        for (const l of r.lowerings) for (const b of l.clears) rec.clear(b);
        for (const l of r.lowerings) {
          rec.beginOp(l.op, l.kind, l.name);
          await l.encode(rec, c.n);
        }
        io.outs.forEach((o, i) => rec.copy(r.values.get(o.value)!, 0, seg.staging, seg.outOffsets[i]! + rel * o.bpt, padTo4(c.n * o.bpt)));
        io.routing.forEach((o, j) => {
          const i = io.outs.length + j;
          rec.copy(o.buffer, 0, seg.staging, seg.outOffsets[i]! + rel * o.bpt, padTo4(c.n * o.bpt));
        });
        let at = seg.statsOffset + ci * statsPerChunk;
        for (const s of io.statted) {
          for (const q of s.reads(c.n)) {
            rec.copy(q.buffer, q.offset ?? 0, seg.staging, at, padTo4(q.bytes));
            at += padTo4(q.bytes);
          }
        }
        if (!r.fused) rec.submit();
      }
    }
    const data = await rec.finish([], staged);
    staged.length = 0;

    const outputs = new Map<string, Float32Array>();
    io.outs.forEach((o, i) => {
      const v = valueOf(program, o.value);
      const out = new Float32Array(T * v.width);
      segments.forEach((seg, si) => {
        const n = seg.n * v.width;
        const at = seg.outOffsets[i]!;
        const raw = data[si]!;
        out.set(dtype === "f16" ? fromF16(new Uint16Array(raw, at, n)) : new Float32Array(raw, at, n), seg.t0 * v.width);
      });
      outputs.set(o.name, out);
    });

    let routing: Map<string, RoutingResult> | undefined;
    if (r.returnRouting) {
      routing = new Map();
      for (let j = 0; j < io.routing.length; j += 3) {
        const key = io.routing[j]!.key;
        const maxK = io.routing[j]!.maxK;
        const res: RoutingResult = { key, maxPerToken: maxK, counts: new Uint32Array(T), ids: new Uint32Array(T * maxK), weights: new Float32Array(T * maxK) };
        segments.forEach((seg, si) => {
          const raw = data[si]!;
          const off = (k: number) => seg.outOffsets[io.outs.length + j + k]!;
          res.counts.set(new Uint32Array(raw, off(0), seg.n), seg.t0);
          res.ids.set(new Uint32Array(raw, off(1), seg.n * maxK), seg.t0 * maxK);
          res.weights.set(new Float32Array(raw, off(2), seg.n * maxK), seg.t0 * maxK);
        });
        routing.set(key, res);
      }
    }

    let stats: Map<string, RawStatsLike> | undefined;
    if (io.statted.length) {
      const perRouter = io.statted.map(() => [] as RawStatsLike[]);
      segments.forEach((seg, si) => {
        const raw = data[si]!;
        seg.chunks.forEach((c, ci) => {
          let at = seg.statsOffset + ci * statsPerChunk;
          io.statted.forEach((s, k) => {
            const parts = s.reads(c.n).map((q) => {
              const slice = raw.slice(at, at + padTo4(q.bytes));
              at += padTo4(q.bytes);
              return slice;
            });
            perRouter[k]!.push(s.decode(parts, c.n));
          });
        });
      });
      stats = new Map(io.statted.map((s, k) => [s.key, sumRawStats(perRouter[k]!)]));
    }
    return { outputs, routing, stats, chunks: chunks.length };
  } finally {
    for (const b of created) b.destroy();
    for (const b of staged) b.destroy();
  }
}
