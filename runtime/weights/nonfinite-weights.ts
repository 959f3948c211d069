// Counts the non-finite values of each weight as the device upload reads it: checkpoint weights
// are streamed from disk once per read, so checking them on the way costs no second read.

import { countNonFinite, type NonFiniteCount } from "../nonfinite.js";
import type { HostWeights } from "./host-weights.js";
import { dequantizeFp8Rows, type Fp8Rows } from "./quant/fp8-e4m3.js";

export class NonFiniteWeightsCheck implements HostWeights {
  /** Weights with non-finite values, by name, in the order they were read. */
  readonly found = new Map<string, NonFiniteCount>();

  constructor(private readonly inner: HostWeights) {}

  get(name: string): Float32Array | undefined {
    const values = this.inner.get(name);
    if (values && !this.found.has(name)) {
      const n = countNonFinite(values);
      if (n) this.found.set(name, n);
    }
    return values;
  }
  /** An FP8 checkpoint's bytes and scales, passed on (weightFormat fp8_e4m3 uploads them as read).
   *  Bytes alone are finite (the upload refuses the NaN bytes by position); a non-finite scale
   *  makes its block's values non-finite, counted here as `get` would count them. */
  fp8Rows(name: string): Fp8Rows | undefined {
    const rows = this.inner.fp8Rows?.(name);
    if (rows && !this.found.has(name) && countNonFinite(rows.rowScales)) {
      const n = countNonFinite(dequantizeFp8Rows(rows));
      if (n) this.found.set(name, n);
    }
    return rows;
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  keys(): IterableIterator<string> {
    return this.inner.keys();
  }
  get size(): number {
    return this.inner.size;
  }
}
