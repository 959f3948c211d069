// WGSL snippets shared by the generators: the storage-type alias, math functions WGSL lacks
// (erf), activations, and the 2D-grid linearization that keeps every dispatch dimension
// ≤ maxComputeWorkgroupsPerDimension (65 535).

import type { StorageDtype } from "../gpu/buffers.js";

/** Sentinel for "no row / no expert" in index buffers. */
export const NONE = 0xffffffff;

/**
 * Directives (`enable f16;`, `enable subgroups;` — they must precede all declarations) and
 * `st` = the storage type of weights and activations.
 */
export function header(dtype: StorageDtype, opts: { subgroups?: boolean; f16?: boolean } = {}): string {
  let h = dtype === "f16" || opts.f16 ? "enable f16;\n" : "";
  if (opts.subgroups) {
    // Control flow in subgroup kernels is uniform per subgroup (each subgroup works on one item
    // at a time), which WGSL's workgroup-level uniformity analysis cannot prove.
    h += "enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n";
  }
  return `${h}alias st = ${dtype};\n`;
}

/**
 * erf in f32 after N. Juffa's erff (two minimax pieces, the outer one through exp). Measured on
 * the host with f32-rounded arithmetic against a float64 erf on [-6, 6]: max abs error 5.5e-8
 * (about 1 ulp near ±1); the GPU measurement is in docs/kernels.md. Abramowitz–Stegun 7.1.26
 * (1.5e-7 in exact arithmetic, 4.2e-7 with f32 rounding) was too coarse.
 */
export const ERF_WGSL = /* wgsl */ `
fn erf_f32(a: f32) -> f32 {
  let t = abs(a);
  let s = a * a;
  if (t > 0.927734375) {
    var r = fma(-1.72853470e-5, t, 3.83197126e-4);
    let u = fma(-3.88396438e-3, t, 2.42546219e-2);
    r = fma(r, s, u);
    r = fma(r, t, -1.06777877e-1);
    r = fma(r, t, -6.34846687e-1);
    r = fma(r, t, -1.28717512e-1);
    r = fma(r, t, -t);
    // exp(r) underflows to 0 for large t, so erf saturates at exactly ±1.
    let e = 1.0 - exp(r);
    return select(e, -e, a < 0.0);
  }
  var r = -5.96761703e-4;
  r = fma(r, s, 4.99119423e-3);
  r = fma(r, s, -2.67681349e-2);
  r = fma(r, s, 1.12819925e-1);
  r = fma(r, s, -3.76125336e-1);
  r = fma(r, s, 1.28379166e-1);
  return fma(r, a, a);
}
`;

export const ACT_WGSL = /* wgsl */ `
${ERF_WGSL}
fn sigmoid_f32(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn silu_f32(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
fn gelu_f32(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_f32(x * 0.70710678118654752)); }
fn relu_f32(x: f32) -> f32 { return max(x, 0.0); }
// Activation chosen by a uniform code (ACT_CODE), so one pipeline serves every activation.
fn act_f32(code: u32, x: f32) -> f32 {
  switch code {
    case 1u: { return relu_f32(x); }
    case 2u: { return gelu_f32(x); }
    case 3u: { return silu_f32(x); }
    case 4u: { return sigmoid_f32(x); }
    case 5u: { return -x; }
    default: { return x; }
  }
}
`;

/** Uniform codes of act_f32. */
export const ACT_CODE = { identity: 0, relu: 1, gelu: 2, silu: 3, sigmoid: 4, neg: 5 } as const;
export type ActCodeName = keyof typeof ACT_CODE;

/** Bits of an f32 (uniform words are u32; the WGSL struct field is declared f32). */
export function f32Bits(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0]!;
}

/** Declares `wg_linear` from the (up to 3D) workgroup grid, x fastest. */
export const WG_LINEAR = `let wg_linear = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;`;
export const WG_BUILTINS = `@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32`;

/**
 * Opens `main` of a kernel with one thread per item, workgroups of `wg`: declares `i`, the thread's
 * index over the whole grid (and wg_linear, tid). The kernel's statements follow and close it.
 */
export function threadMain(wg: number): string {
  return `@compute @workgroup_size(${wg})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${wg}u + tid;`;
}

/**
 * Host side: a grid of at least `n` workgroups with no dimension above `maxPerDim` (65 535 in
 * WebGPU): 1D while it fits, else 2D, else 3D. Kernels linearize it (WG_LINEAR) and exit past n.
 */
export function grid2D(n: number, maxPerDim = 65535): [number, number, number] {
  if (n <= maxPerDim) return [Math.max(1, n), 1, 1];
  if (n <= maxPerDim * maxPerDim) {
    const y = Math.ceil(n / maxPerDim);
    return [Math.ceil(n / y), y, 1];
  }
  const z = Math.ceil(n / (maxPerDim * maxPerDim));
  if (z > maxPerDim) throw new Error(`dispatch of ${n} workgroups exceeds ${maxPerDim}³`);
  const perZ = Math.ceil(n / z);
  const y = Math.ceil(perZ / maxPerDim);
  return [Math.ceil(perZ / y), y, z];
}

/** Run-wide uniform (the token count of this run), binding 0 of every kernel. */
/** The run uniform: T tokens this run, at absolute positions pos0 … pos0 + T − 1 (0 except in decoding). */
export const RUN_STRUCT = `struct Run { T: u32, pos0: u32, _b: u32, _c: u32 }\n@group(0) @binding(0) var<uniform> run: Run;\n`;

/** Formats a JS number as a WGSL f32 literal. */
export function f32Lit(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`non-finite constant ${v} in a kernel`);
  const s = String(Math.fround(v));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
