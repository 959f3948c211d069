// Counts the non-finite values of each weight as the device upload reads it: checkpoint weights
// are streamed from disk once per read, so checking them on the way costs no second read.

import { countNonFinite, type NonFiniteCount } from "../nonfinite.js";
import type { HostWeights } from "./host-weights.js";

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
