// One declaration per kernel: its uniforms and buffers are listed once, and the WGSL
// declarations, the bind-group layout (KernelSpec.bindings) and a typed params writer all come
// from that list, so the WGSL `@binding(n)` lines, the host's bindings array and the uniform
// words can never drift apart (router-layout.ts does the same for the router's control block).
//
// Binding 0 is always the run uniform (`run.T`, the token count of this run), binding 1 the
// kernel's `p: Params` struct when it has uniforms, then the buffers in declaration order.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { f32Bits, header, RUN_STRUCT } from "./wgsl-common.js";

/** A scalar uniform field, or a fixed array of vec4 words (router-layout.ts style blocks). */
export type UniformType = "u32" | "f32" | "i32" | { vec4: "u32" | "f32"; length: number };

/** A buffer binding: WGSL type (`st` is the storage dtype) and access. */
export interface BufferDecl {
  /** WGSL type of the binding, e.g. `array<st>`, `array<u32>`, `array<atomic<u32>>`, or a struct for `uniform`. */
  type: string;
  /** `read` (read-only storage), `write` (read_write storage), or `uniform` (a second uniform block,
   *  e.g. one written per run; its struct is declared in the body). */
  access: "read" | "write" | "uniform";
}

export const read = (type = "array<st>"): BufferDecl => ({ type, access: "read" });
export const write = (type = "array<st>"): BufferDecl => ({ type, access: "write" });
export const uniformBlock = (type: string): BufferDecl => ({ type, access: "uniform" });

export interface KernelDecl<U extends Record<string, UniformType>, B extends Record<string, BufferDecl>> {
  /** Human-readable name, used in compile errors and profiles (`linear[f16]`). */
  name: string;
  /** Storage dtype: emits `enable f16;` when needed and `alias st = …` (f32 when omitted). */
  dtype?: StorageDtype;
  subgroups?: boolean;
  /** Uses f16 besides the storage dtype (an f16 KV cache next to f32 activations): `enable f16;`. */
  f16?: boolean;
  /** Uniform fields of `p: Params`, in struct order. */
  uniforms: U;
  /** Storage buffers by role name (the WGSL variable is the same name), in binding order. */
  buffers: B;
  /** Everything after the declarations: constants, workgroup variables, functions and `main`. */
  body: string;
  entryPoint?: string;
}

/** Values of a kernel's uniforms: numbers for scalar fields, word lists for vec4 arrays. */
export type ParamValues<U extends Record<string, UniformType>> = {
  [K in keyof U]: U[K] extends string ? number : ArrayLike<number>;
};

export interface Kernel<U extends Record<string, UniformType> = Record<string, UniformType>, B extends Record<string, BufferDecl> = Record<string, BufferDecl>> {
  readonly spec: KernelSpec;
  readonly uniforms: U;
  readonly buffers: B;
  /** The uniform words for these values (f32 fields as bits), padded to the struct's 16-byte size. */
  params(values: ParamValues<U>): Uint32Array;
}

/** Uniform words a field takes. */
const fieldWords = (t: UniformType): number => (typeof t === "string" ? 1 : 4 * t.length);

function fieldWgsl(name: string, t: UniformType): string {
  return typeof t === "string" ? `${name}: ${t}` : `${name}: array<vec4<${t.vec4}>, ${t.length}>`;
}

export function defineKernel<const U extends Record<string, UniformType>, const B extends Record<string, BufferDecl>>(d: KernelDecl<U, B>): Kernel<U, B> {
  const fields = Object.entries(d.uniforms) as [string, UniformType][];
  // WGSL aligns a vec4 array to 16 bytes: keep scalars ahead of arrays so offsets stay word-exact.
  let seenArray = false;
  for (const [name, t] of fields) {
    if (typeof t !== "string") seenArray = true;
    else if (seenArray) throw new Error(`kernel '${d.name}': uniform '${name}' follows a vec4 array; declare scalars first`);
  }
  const scalarWords = fields.filter(([, t]) => typeof t === "string").length;
  const hasArray = fields.some(([, t]) => typeof t !== "string");
  if (hasArray && scalarWords % 4 !== 0) throw new Error(`kernel '${d.name}': scalars before a vec4 array must fill whole vec4s (${scalarWords} words)`);
  const words = fields.reduce((n, [, t]) => n + fieldWords(t), 0);
  const padded = Math.max(4, Math.ceil(words / 4) * 4);

  const bindings: KernelSpec["bindings"] = [{ name: "run", kind: "uniform" }];
  let decls = RUN_STRUCT;
  if (fields.length > 0) {
    decls += `struct Params { ${fields.map(([n, t]) => fieldWgsl(n, t)).join(", ")} }\n@group(0) @binding(1) var<uniform> p: Params;\n`;
    bindings.push({ name: "params", kind: "uniform" });
  }
  for (const [name, b] of Object.entries(d.buffers)) {
    if (name === "run" || name === "params") throw new Error(`kernel '${d.name}': '${name}' is a reserved binding name`);
    const space = b.access === "uniform" ? "uniform" : b.access === "read" ? "storage, read" : "storage, read_write";
    decls += `@group(0) @binding(${bindings.length}) var<${space}> ${name}: ${b.type};\n`;
    bindings.push({ name, kind: b.access === "uniform" ? "uniform" : b.access === "read" ? "read" : "storage" });
  }
  const code = `${header(d.dtype ?? "f32", { subgroups: d.subgroups, f16: d.f16 })}${decls}${d.body}`;

  return {
    spec: { name: d.name, code, entryPoint: d.entryPoint ?? "main", bindings },
    uniforms: d.uniforms,
    buffers: d.buffers,
    params(values) {
      const out = new Uint32Array(padded);
      const vals = values as Record<string, number | ArrayLike<number>>;
      let w = 0;
      for (const [name, t] of fields) {
        const v = vals[name];
        if (v === undefined) throw new Error(`internal: kernel '${d.name}': no value for uniform '${name}'`);
        if (typeof t === "string") {
          // An f32 field takes ±Infinity (an IR constant such as `x * 1e400` is one); NaN never.
          const ok = typeof v === "number" && (t === "f32" ? !Number.isNaN(v) : Number.isFinite(v));
          if (!ok) throw new Error(`internal: kernel '${d.name}': uniform '${name}' must be a ${t === "f32" ? "number" : "finite number"}, got ${String(v)}`);
          if (t === "f32") out[w] = f32Bits(v);
          else if (t === "i32") out[w] = v >>> 0;
          else {
            if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`internal: kernel '${d.name}': u32 uniform '${name}' = ${v} is out of range`);
            out[w] = v;
          }
          w++;
        } else {
          const n = 4 * t.length;
          const arr = v as ArrayLike<number>;
          if (typeof arr === "number" || arr.length > n) throw new Error(`internal: kernel '${d.name}': uniform '${name}' takes at most ${n} words`);
          for (let i = 0; i < arr.length; i++) out[w + i] = arr[i]!;
          w += n;
        }
      }
      for (const k of Object.keys(vals)) {
        if (!(k in d.uniforms)) throw new Error(`internal: kernel '${d.name}' has no uniform '${k}'`);
      }
      return out;
    },
  };
}
