// Weights on the device: validated against the shapes the program needs, converted to the
// storage dtype, uploaded once. Tensors larger than the binding limit are split into row chunks,
// each its own buffer (a chunk never cuts a row), which the kernels consume one dispatch each.
// The store keeps no host copy: with streamed weights, host memory holds about one tensor.
// With a block format (ExecutorOptions.weightFormat) the matrices the fused-dequantization GEMV
// reads are quantized here, at upload, and kept on the device as Q8_0/Q4_0/FP8 blocks (`blocks`).
// FP8 as read: when the weights hold a tensor's own FP8 bytes and scales (an FP8 checkpoint,
// HostWeights.fp8Rows) and the format is fp8_e4m3, those are uploaded as they are, with no f32
// round trip and no re-quantization.
// A matrix a GEMM reads on a `kn` shape is transposed here, once (`transposedChunks`).

import type { IrPool } from "../../compiler/ir/ir.js";
import { bytesPer, type StorageDtype, uploadFloats } from "../gpu/buffers.js";
import type { HostWeights } from "../weights/host-weights.js";
import { blockLength, type GpuBlocks, type GpuBlockFormat, packFp8Rows, quantizeForGpu, wordsPerBlock } from "../weights/quant/gpu-blocks.js";

export class WeightError extends Error {
  override name = "WeightError";
}

export interface WeightChunk {
  buffer: GPUBuffer;
  /** Rows [g0, g1) of the flattened tensor [rows, rowLen]. */
  g0: number;
  g1: number;
}

/** Rows [g0, g1) of a block-quantized matrix: its values and scale words (weights/quant/gpu-blocks.ts). */
export interface BlockChunk {
  values: GPUBuffer;
  scales: GPUBuffer;
  g0: number;
  g1: number;
}

export type BlockUse = "whole" | "gathered" | "routed";

export interface BlockTensor {
  name: string;
  format: GpuBlockFormat;
  rows: number;
  rowLen: number;
  chunks: BlockChunk[];
}

export interface ChunkedTensor {
  name: string;
  rows: number;
  rowLen: number;
  chunks: WeightChunk[];
}

const shapeText = (s: number[]): string => `[${s.join(", ")}]`;

/** Rows [g0, g1) of a [rows, rowLen] matrix as the [rowLen, g1 − g0] matrix of their columns. */
export function transpose(data: Float32Array, g0: number, g1: number, rowLen: number): Float32Array {
  const n = g1 - g0;
  const out = new Float32Array(n * rowLen);
  for (let r = 0; r < n; r++) {
    const src = (g0 + r) * rowLen;
    for (let k = 0; k < rowLen; k++) out[k * n + r] = data[src + k]!;
  }
  return out;
}

export class WeightStore {
  private readonly uploaded = new Map<string, ChunkedTensor>();
  private readonly derived = new Map<string, GPUBuffer>();
  private readonly quantized = new Map<string, BlockTensor>();
  /** Per block tensor: the bytes it takes less than in the storage dtype. */
  private readonly blockSaved = new Map<string, number>();
  /** How each block tensor is read: whole each run (a GEMM's weight), by rows gathered per token
   *  (an embedding table), or per routed expert (a pool's stacked experts). A tensor read whole by
   *  anyone (a tied LM head) counts as whole. */
  private readonly blockUse = new Map<string, BlockUse>();
  /** Block tensors uploaded from the checkpoint's own FP8 bytes and scales (not re-quantized). */
  private readonly fp8AsRead = new Set<string>();

  constructor(
    private readonly device: GPUDevice,
    /** A Map, or a streamed checkpoint: each tensor is read when first uploaded and not kept. */
    private readonly weights: HostWeights,
    private readonly dtype: StorageDtype,
    /** Largest buffer a kernel may bind, in bytes. */
    readonly maxBindingBytes: number,
    /** Keep the matrices that `blocksFor` accepts as blocks of this format (absent: none). */
    readonly blockFormat?: GpuBlockFormat,
  ) {}

  /** The block format a [rows, rowLen] matrix read by a fused-dequantization GEMM is kept in:
   *  the store's format when rows are whole blocks, else none (it stays in the storage dtype). */
  blocksFor(rowLen: number): GpuBlockFormat | undefined {
    return this.blockFormat && rowLen % blockLength(this.blockFormat) === 0 && rowLen > 0 ? this.blockFormat : undefined;
  }

  /** Uploads `name` ([rows, rowLen]) quantized to the store's block format, as row chunks that each
   *  fit the binding limit; `use` says how the caller reads it (for blockBytesSaved). */
  blocks(name: string, rows: number, rowLen: number, what: string, use: BlockUse = "whole"): BlockTensor {
    const format = this.blocksFor(rowLen);
    if (!format) throw new WeightError(`internal: weight '${name}' [${rows}, ${rowLen}] cannot be kept as blocks (format ${this.blockFormat ?? "none"})`);
    const prior = this.blockUse.get(name);
    this.blockUse.set(name, prior === "whole" || use === "whole" ? "whole" : use);
    const have = this.quantized.get(name);
    if (have) return have;
    const rowBytes = (rowLen / blockLength(format)) * wordsPerBlock(format) * 4;
    const rowsPerChunk = Math.floor(this.maxBindingBytes / rowBytes);
    if (rowsPerChunk < 1) throw new WeightError(`weight '${name}': one row of ${rowLen} values as ${format} (${rowBytes} bytes) exceeds the device's storage binding limit of ${this.maxBindingBytes} bytes`);
    const pack = this.blockSource(name, rows, rowLen, what, format);
    const chunks: BlockChunk[] = [];
    for (let g0 = 0; g0 < rows; g0 += rowsPerChunk) {
      const g1 = Math.min(rows, g0 + rowsPerChunk);
      const packed = pack(g0, g1);
      chunks.push({ values: this.uploadWords(packed.values, `${name}[${g0}:${g1}] ${format}`), scales: this.uploadWords(packed.scales, `${name}[${g0}:${g1}] ${format} scales`), g0, g1 });
    }
    const t: BlockTensor = { name, format, rows, rowLen, chunks };
    this.quantized.set(name, t);
    let blockBytes = 0;
    for (const c of chunks) blockBytes += c.values.size + c.scales.size;
    this.blockSaved.set(name, rows * rowLen * bytesPer(this.dtype) - blockBytes);
    return t;
  }

  /** Rows [g0, g1) of `name` in the device form: the checkpoint's own FP8 rows when the format is
   *  fp8_e4m3 and the weights have them, else the f32 tensor quantized. */
  private blockSource(name: string, rows: number, rowLen: number, what: string, format: GpuBlockFormat): (g0: number, g1: number) => GpuBlocks {
    const fp8 = format === "fp8_e4m3" ? this.weights.fp8Rows?.(name) : undefined;
    if (fp8) {
      if (fp8.rows !== rows || fp8.cols !== rowLen) throw new WeightError(`weight '${name}' is FP8 [${fp8.rows}, ${fp8.cols}] in the checkpoint, expected [${rows}, ${rowLen}] (${what})`);
      this.fp8AsRead.add(name);
      const nb = rowLen / blockLength(format);
      return (g0, g1) => packFp8Rows({ rows: g1 - g0, cols: rowLen, bytes: fp8.bytes.subarray(g0 * rowLen, g1 * rowLen), rowScales: fp8.rowScales.subarray(g0 * nb, g1 * nb) }, name);
    }
    const data = this.host(name, [rows, rowLen], what);
    return (g0, g1) => quantizeForGpu(format, data.subarray(g0 * rowLen, g1 * rowLen), g1 - g0, rowLen, name);
  }

  /** The block tensors uploaded from a checkpoint's own FP8 bytes and scales, by name. */
  get fp8AsReadTensors(): string[] {
    return [...this.fp8AsRead];
  }

  private uploadWords(words: Uint32Array, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({ size: Math.max(4, words.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, label });
    if (words.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return buffer;
  }

  /** The raw host tensor, checked against `shape`. */
  host(name: string, shape: number[], what: string): Float32Array {
    const t = this.weights.get(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!t) throw new WeightError(`missing weight '${name}' ${shapeText(shape)} (${what})`);
    if (!(t instanceof Float32Array)) throw new WeightError(`weight '${name}' must be a Float32Array, got ${(t as object).constructor.name}`);
    if (t.length !== n) {
      throw new WeightError(`weight '${name}' has ${t.length} values, expected ${shapeText(shape)} = ${n} (${what})`);
    }
    return t;
  }

  /** Uploads `name` ([rows, rowLen]) as row chunks that each fit the binding limit. */
  chunked(name: string, rows: number, rowLen: number, what: string): ChunkedTensor {
    const key = `${name}@${this.dtype}`;
    const have = this.uploaded.get(key);
    if (have) return have;
    const data = this.host(name, [rows, rowLen], what);
    const rowBytes = rowLen * bytesPer(this.dtype);
    const rowsPerChunk = Math.floor(this.maxBindingBytes / Math.max(1, rowBytes));
    if (rowsPerChunk < 1) {
      throw new WeightError(
        `weight '${name}': one row of ${rowLen} values (${rowBytes} bytes) exceeds the device's storage binding limit of ${this.maxBindingBytes} bytes`,
      );
    }
    const chunks: WeightChunk[] = [];
    for (let g0 = 0; g0 < rows; g0 += rowsPerChunk) {
      const g1 = Math.min(rows, g0 + rowsPerChunk);
      const buffer = uploadFloats(this.device, data.subarray(g0 * rowLen, g1 * rowLen), this.dtype, `${name}[${g0}:${g1}]`);
      chunks.push({ buffer, g0, g1 });
    }
    const t: ChunkedTensor = { name, rows, rowLen, chunks };
    this.uploaded.set(key, t);
    return t;
  }

  /** `name` as the row chunks of `chunked` (`nk`) or the transposed chunks of `transposedChunks` (`kn`). */
  matrix(name: string, rows: number, rowLen: number, what: string, layout: "nk" | "kn"): ChunkedTensor {
    return layout === "kn" ? this.transposedChunks(name, rows, rowLen, what) : this.chunked(name, rows, rowLen, what);
  }

  /** Uploads `name` ([rows, rowLen], rows a multiple of 4) transposed, for GEMMs on a `kn` shape
   *  (kn-loop.ts): chunk [g0, g1) holds rows g0…g1 of the matrix as a [rowLen, g1 − g0] buffer,
   *  each chunk a multiple of 4 rows wide so its vec4 words never straddle two. */
  transposedChunks(name: string, rows: number, rowLen: number, what: string): ChunkedTensor {
    const key = `${name}@${this.dtype}^T`;
    const have = this.uploaded.get(key);
    if (have) return have;
    if (rows % 4 !== 0) throw new WeightError(`internal: weight '${name}' [${rows}, ${rowLen}] cannot be kept transposed (rows not a multiple of 4)`);
    const data = this.host(name, [rows, rowLen], what);
    const rowBytes = rowLen * bytesPer(this.dtype);
    const rowsPerChunk = 4 * Math.floor(this.maxBindingBytes / Math.max(1, 4 * rowBytes));
    if (rowsPerChunk < 4) throw new WeightError(`weight '${name}': four rows of ${rowLen} values (${4 * rowBytes} bytes) exceed the device's storage binding limit of ${this.maxBindingBytes} bytes`);
    const chunks: WeightChunk[] = [];
    for (let g0 = 0; g0 < rows; g0 += rowsPerChunk) {
      const g1 = Math.min(rows, g0 + rowsPerChunk);
      const buffer = uploadFloats(this.device, transpose(data, g0, g1, rowLen), this.dtype, `${name}[${g0}:${g1}]ᵀ`);
      chunks.push({ buffer, g0, g1 });
    }
    const t: ChunkedTensor = { name, rows, rowLen, chunks };
    this.uploaded.set(key, t);
    return t;
  }

  /** Uploads stacked experts `name` ([experts · rows, rowLen]) with each expert's [rows, rowLen]
   *  block transposed to [rowLen, rows], for grouped GEMMs on a `kn` shape; chunks hold whole
   *  experts. Undefined when one expert exceeds the binding limit (the caller keeps [N, K]). */
  transposedExperts(name: string, experts: number, rows: number, rowLen: number, what: string): ChunkedTensor | undefined {
    const key = `${name}@${this.dtype}^Texperts`;
    const have = this.uploaded.get(key);
    if (have) return have;
    const expertBytes = rows * rowLen * bytesPer(this.dtype);
    const perChunk = Math.floor(this.maxBindingBytes / Math.max(1, expertBytes));
    if (perChunk < 1) return undefined;
    const data = this.host(name, [experts * rows, rowLen], what);
    const chunks: WeightChunk[] = [];
    for (let e0 = 0; e0 < experts; e0 += perChunk) {
      const e1 = Math.min(experts, e0 + perChunk);
      const part = new Float32Array((e1 - e0) * rows * rowLen);
      for (let e = e0; e < e1; e++) part.set(transpose(data, e * rows, (e + 1) * rows, rowLen), (e - e0) * rows * rowLen);
      chunks.push({ buffer: uploadFloats(this.device, part, this.dtype, `${name}[${e0 * rows}:${e1 * rows}]ᵀ per expert`), g0: e0 * rows, g1: e1 * rows });
    }
    const t: ChunkedTensor = { name, rows: experts * rows, rowLen, chunks };
    this.uploaded.set(key, t);
    return t;
  }

  /** A tensor the kernels bind whole (router weights, biases); errors if it exceeds the limit. */
  whole(name: string, shape: number[], what: string): GPUBuffer {
    const rows = shape[0] ?? 1;
    const rowLen = shape.slice(1).reduce((a, b) => a * b, 1);
    const bytes = rows * rowLen * bytesPer(this.dtype);
    if (bytes > this.maxBindingBytes) {
      throw new WeightError(
        `weight '${name}' ${shapeText(shape)} is ${bytes} bytes, above the storage binding limit of ${this.maxBindingBytes} bytes; splitting it is not implemented`,
      );
    }
    return this.chunked(name, rows, rowLen, what).chunks[0]!.buffer;
  }

  /** Σ_e b[e] of a shared pool's down bias `name` [N, D] on the dense path (bias of the concatenated FFN). */
  biasSum(pool: IrPool, name: string): GPUBuffer {
    const key = `${name}_sum@${this.dtype}`;
    const have = this.derived.get(key);
    if (have) return have;
    const b = this.host(name, [pool.count, pool.dim], `pool '${pool.key}' ${name.slice(pool.key.length + 1)}`);
    const sum = new Float32Array(pool.dim);
    for (let e = 0; e < pool.count; e++) for (let d = 0; d < pool.dim; d++) sum[d] += b[e * pool.dim + d]!;
    const buf = uploadFloats(this.device, sum, this.dtype, `${name}_sum`);
    this.derived.set(key, buf);
    return buf;
  }

  /** A state tensor kept in f32 (selection-only bias): from the weights if present, else zeros. */
  stateF32(name: string, length: number): GPUBuffer {
    const have = this.derived.get(name);
    if (have) return have;
    const t = this.weights.get(name);
    if (t && t.length !== length) throw new WeightError(`state '${name}' has ${t.length} values, expected [${length}]`);
    const buf = uploadFloats(this.device, t ?? new Float32Array(length), "f32", name);
    this.derived.set(name, buf);
    return buf;
  }

  /** The raw host tensor if the weights have it (state may be absent: then its init applies). */
  hostMaybe(name: string): Float32Array | undefined {
    return this.weights.get(name);
  }

  /** A device buffer derived from the weights, made once and kept across plans (router aux/state). */
  derivedBuffer(key: string, make: () => GPUBuffer): GPUBuffer {
    let buf = this.derived.get(key);
    if (!buf) {
      buf = make();
      this.derived.set(key, buf);
    }
    return buf;
  }

  /** Bytes the block tensors of one use take less than in the storage dtype. */
  blockBytesSaved(use: BlockUse): number {
    let n = 0;
    for (const [name, saved] of this.blockSaved) if (this.blockUse.get(name) === use) n += saved;
    return n;
  }

  /** Bytes currently on the device. */
  get bytes(): number {
    let n = 0;
    for (const t of this.uploaded.values()) for (const c of t.chunks) n += c.buffer.size;
    for (const b of this.derived.values()) n += b.size;
    for (const t of this.quantized.values()) for (const c of t.chunks) n += c.values.size + c.scales.size;
    return n;
  }

  dispose(): void {
    for (const t of this.uploaded.values()) for (const c of t.chunks) c.buffer.destroy();
    for (const b of this.derived.values()) b.destroy();
    for (const t of this.quantized.values()) for (const c of t.chunks) (c.values.destroy(), c.scales.destroy());
    this.uploaded.clear();
    this.quantized.clear();
    this.derived.clear();
  }
}
