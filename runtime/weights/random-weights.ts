// Deterministic random weights in the canonical layout: N(0, 1/fan_in) for parameters (the
// scale DESIGN.md asks of numeric tests), init values for state. Each tensor draws from its own
// stream seeded by (seed, name), so adding a tensor to a program leaves the others unchanged.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { canonicalLayout, groupingsFor } from "./canonical-layout.js";
import type { HostWeights } from "./host-weights.js";

/** xoshiro128** (Blackman & Vigna), 32-bit outputs. */
export function xoshiro128ss(seed: number): () => number {
  // splitmix32 expands one seed into four non-zero state words.
  let z = seed >>> 0;
  const next = () => {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
    t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let a = next(), b = next(), c = next(), d = next();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    return r;
  };
}
const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** FNV-1a of a string, for per-tensor streams. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Standard normal samples by Box–Muller. */
export function fillNormal(out: Float32Array, std: number, rng: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (rng() + 1) / 4294967297; // (0, 1): log is finite
    const u2 = rng() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/**
 * Random canonical weights for `program`. Where a file form can hold only one output bias per
 * group of experts (coarse split, concatenated shared), the other experts' `b_down` are zero,
 * so that every form of canonicalToFile can write the result. `namePrefix` seeds each tensor as if
 * it were named `PREFIX + name` (agent i of a graph: `i.`), keeping the returned names unprefixed.
 */
export function randomWeights(program: IrProgram, seed: number, namePrefix = ""): Map<string, Float32Array> {
  const lazy = new RandomWeights(program, seed, namePrefix);
  return new Map([...lazy.keys()].map((name) => [name, lazy.get(name)!]));
}

/** The same weights as randomWeights, each drawn when asked for and not kept (HostWeights), so
 *  `moec export hf --random-weights` never holds the whole model. */
export class RandomWeights implements HostWeights {
  private readonly draw = new Map<string, () => Float32Array>();

  constructor(program: IrProgram, seed: number, namePrefix = "") {
    const layout = canonicalLayout(program);
    for (const t of layout.tensors) {
      this.draw.set(t.name, () => {
        const a = new Float32Array(t.shape.reduce((x, d) => x * d, 1));
        if (t.role === "state") a.fill(t.init === "ones" ? 1 : 0);
        else fillNormal(a, Math.sqrt(1 / t.fanIn), xoshiro128ss(hash(namePrefix + t.name) ^ seed));
        return a;
      });
    }
    for (const t of layout.poolTensors) {
      this.draw.set(t.name, () => {
        const a = new Float32Array(t.shape.reduce((x, d) => x * d, 1));
        fillNormal(a, Math.sqrt(1 / Math.max(1, t.fanIn)), xoshiro128ss(hash(namePrefix + t.name) ^ seed));
        if (t.param.layout === "ovec") {
          const widest = Math.max(...groupingsFor(t.pool, t.param).map((g) => g.perGroup));
          const D = t.pool.dim;
          for (let j = 0; j < t.pool.count; j++) if (j % widest !== 0) a.fill(0, j * D, (j + 1) * D);
        }
        return a;
      });
    }
  }

  get(name: string): Float32Array | undefined {
    return this.draw.get(name)?.();
  }

  has(name: string): boolean {
    return this.draw.has(name);
  }

  keys(): IterableIterator<string> {
    return this.draw.keys();
  }

  get size(): number {
    return this.draw.size;
  }
}
