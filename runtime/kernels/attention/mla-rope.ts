// MLA's rotary step and key assembly (DeepSeek-V2/V3, LANGUAGE.md §13.0), one workgroup per token:
// rotates the rope part (the last Dr of each head's Dn + Dr values) of every query head in place,
// and writes the full keys k[t, h] = [k_nope of head h (from wkv_b's output) | k_pe rotated], the
// one rope key being shared by every head. Values stay where wkv_b wrote them (the flash kernel
// reads them there). Same rotary conventions and tables as qk-prepare.ts.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write } from "../define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";
import { ROPE_KIND } from "./qk-prepare.js";

export const MLA_ROPE_WG = 64;

export function mlaRopeParams(o: { H: number; Dn: number; Dr: number; Dv: number; qLd: number; latLd: number; kpeOff: number; rope: keyof typeof ROPE_KIND; cosSinScale: number }) {
  return {
    H: o.H, Dn: o.Dn, Dr: o.Dr, Dv: o.Dv, q_ld: o.qLd, lat_ld: o.latLd, kpe_off: o.kpeOff,
    rope_kind: ROPE_KIND[o.rope], cs_scale: o.cosSinScale,
  };
}

export function mlaRopeKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `mla_rope[${dtype}]`,
    dtype,
    uniforms: { H: "u32", Dn: "u32", Dr: "u32", Dv: "u32", q_ld: "u32", lat_ld: "u32", kpe_off: "u32", rope_kind: "u32", cs_scale: "f32" },
    buffers: { q: write(), lat: read(), kv: read(), keys: write(), inv_freq: read("array<f32>") },
    body: /* wgsl */ `
const WG = ${MLA_ROPE_WG}u;

/** Pair i of the rotated span: its two positions within the span. */
fn pair(i: u32) -> vec2u {
  if (p.rope_kind == ${ROPE_KIND.half}u) { return vec2u(i, i + p.Dr / 2u); }
  return vec2u(2u * i, 2u * i + 1u);
}

fn cos_sin(t: u32, i: u32) -> vec2f {
  let ang = f32(run.pos0 + t) * inv_freq[i];
  return vec2f(cos(ang), sin(ang)) * p.cs_scale;
}

@compute @workgroup_size(${MLA_ROPE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let t = wg_linear;
  if (t >= run.T) { return; }
  let QD = p.Dn + p.Dr;
  let half = p.Dr / 2u;
  let rotate = p.rope_kind != ${ROPE_KIND.none}u;
  // Keys: no-rope part per head, then the shared rope key, rotated.
  let kpe = t * p.lat_ld + p.kpe_off;
  for (var idx = tid; idx < p.H * QD; idx += WG) {
    let h = idx / QD;
    let d = idx % QD;
    var v = 0.0;
    if (d < p.Dn) { v = f32(kv[t * p.H * (p.Dn + p.Dv) + h * (p.Dn + p.Dv) + d]); }
    else {
      let e = d - p.Dn;
      v = f32(lat[kpe + e]);
      if (rotate) {
        var i = e / 2u;
        if (p.rope_kind == ${ROPE_KIND.half}u) { i = e % half; }
        let pr = pair(i);
        let cs = cos_sin(t, i);
        let x1 = f32(lat[kpe + pr.x]);
        let x2 = f32(lat[kpe + pr.y]);
        v = select(x2 * cs.x + x1 * cs.y, x1 * cs.x - x2 * cs.y, e == pr.x);
      }
    }
    keys[t * p.H * QD + idx] = st(v);
  }
  // Queries: the rope part of every head, in place (one thread per pair).
  if (!rotate) { return; }
  for (var idx = tid; idx < p.H * half; idx += WG) {
    let h = idx / half;
    let i = idx % half;
    let pr = pair(i);
    let base = t * p.q_ld + h * QD + p.Dn;
    let cs = cos_sin(t, i);
    let x1 = f32(q[base + pr.x]);
    let x2 = f32(q[base + pr.y]);
    q[base + pr.x] = st(x1 * cs.x - x2 * cs.y);
    q[base + pr.y] = st(x2 * cs.x + x1 * cs.y);
  }
}
`,
  });
}
