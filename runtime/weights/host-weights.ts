// Weights on the host as the device upload reads them: a Map of canonical f32 arrays, or a
// streamed checkpoint whose tensors are assembled from the files when asked for and not kept,
// so the host holds about one (stacked) tensor at a time while the device fills.

import type { PlannedTensor } from "./bind-weights.js";
import type { Fp8Rows } from "./quant/fp8-e4m3.js";

/** What the weight store reads (a Map<string, Float32Array> is one). */
export interface HostWeights {
  get(name: string): Float32Array | undefined;
  /** The tensor's own FP8 E4M3 bytes and row scales, when it comes from an FP8 checkpoint in a
   *  form the device keeps as read (quantized-checkpoint.ts); undefined otherwise (then `get`
   *  gives its dequantized values). */
  fp8Rows?(name: string): Fp8Rows | undefined;
  has(name: string): boolean;
  keys(): IterableIterator<string>;
  readonly size: number;
}

export interface LoadProgress {
  /** Checkpoint bytes read so far (each tensor counted once), of `totalBytes`. */
  loadedBytes: number;
  totalBytes: number;
  /** The canonical tensor just read. */
  tensor: string;
}

export class StreamedWeights implements HostWeights {
  private readonly seen = new Set<string>();
  private loaded = 0;
  readonly totalBytes: number;

  constructor(private readonly planned: Map<string, PlannedTensor>, private readonly onProgress?: (p: LoadProgress) => void) {
    let total = 0;
    for (const t of planned.values()) total += t.fileBytes;
    this.totalBytes = total;
  }

  /** Reads and assembles the tensor now (from disk every time: nothing is cached). */
  get(name: string): Float32Array | undefined {
    const t = this.planned.get(name);
    if (!t) return undefined;
    const values = t.make();
    this.count(name, t);
    return values;
  }

  /** Counts a tensor's file bytes the first time it is read, for the progress report. */
  private count(name: string, t: PlannedTensor): void {
    if (this.seen.has(name)) return;
    this.seen.add(name);
    this.loaded += t.fileBytes;
    this.onProgress?.({ loadedBytes: this.loaded, totalBytes: this.totalBytes, tensor: name });
  }

  /** The checkpoint's FP8 bytes and row scales of the tensor, when its binding kept them (read now, not cached). */
  fp8Rows(name: string): Fp8Rows | undefined {
    const t = this.planned.get(name);
    if (!t?.fp8) return undefined;
    const rows = t.fp8();
    this.count(name, t);
    return rows;
  }

  has(name: string): boolean {
    return this.planned.has(name);
  }

  keys(): IterableIterator<string> {
    return this.planned.keys();
  }

  get size(): number {
    return this.planned.size;
  }

  /** The canonical shape of a tensor, without reading it. */
  shape(name: string): number[] | undefined {
    return this.planned.get(name)?.shape;
  }
}
