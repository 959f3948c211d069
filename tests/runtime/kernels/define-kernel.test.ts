// defineKernel (runtime/kernels/define-kernel.ts): one declaration gives the WGSL bindings, the
// bind-group layout and the uniform words; pure, so no adapter is needed.
import { describe, expect, it } from "vitest";
import { defineKernel, read, uniformBlock, write } from "../../../runtime/kernels/define-kernel.js";

const k = defineKernel({
  name: "demo[f16]",
  dtype: "f16",
  uniforms: { D: "u32", scale: "f32", shift: "i32" },
  buffers: { x: read(), idx: read("array<u32>"), extra: uniformBlock("Extra"), out: write() },
  body: "struct Extra { n: u32 }\n@compute @workgroup_size(1) fn main() {}\n",
});

describe("defineKernel", () => {
  it("numbers the bindings in declaration order after run and params, in WGSL and in the layout", () => {
    expect(k.spec.bindings).toEqual([
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      { name: "x", kind: "read" },
      { name: "idx", kind: "read" },
      { name: "extra", kind: "uniform" },
      { name: "out", kind: "storage" },
    ]);
    const lines = k.spec.code.split("\n");
    expect(lines[0]).toBe("enable f16;");
    expect(lines).toContain("alias st = f16;");
    expect(lines).toContain("struct Params { D: u32, scale: f32, shift: i32 }");
    expect(lines).toContain("@group(0) @binding(1) var<uniform> p: Params;");
    expect(lines).toContain("@group(0) @binding(2) var<storage, read> x: array<st>;");
    expect(lines).toContain("@group(0) @binding(3) var<storage, read> idx: array<u32>;");
    expect(lines).toContain("@group(0) @binding(4) var<uniform> extra: Extra;");
    expect(lines).toContain("@group(0) @binding(5) var<storage, read_write> out: array<st>;");
  });

  it("writes uniform words by name: u32 as is, f32 as its bits, i32 two's complement, padded to 16 bytes", () => {
    const w = k.params({ D: 7, scale: 0.5, shift: -2 });
    expect(Array.from(w)).toEqual([7, 0x3f000000, 0xfffffffe, 0]);
  });

  it("rejects a missing, unknown or out-of-range value", () => {
    expect(() => k.params({ D: 7, scale: 1 } as never)).toThrow(/no value for uniform 'shift'/);
    expect(() => k.params({ D: 7, scale: 1, shift: 0, extra: 1 } as never)).toThrow(/has no uniform 'extra'/);
    expect(() => k.params({ D: -1, scale: 1, shift: 0 })).toThrow(/u32 uniform 'D' = -1/);
    expect(() => k.params({ D: 1.5, scale: 1, shift: 0 })).toThrow(/u32 uniform 'D' = 1.5/);
    expect(() => k.params({ D: 1, scale: Number.NaN, shift: 0 })).toThrow(/'scale' must be a number, got NaN/);
    expect(() => k.params({ D: 1, scale: 1, shift: Number.POSITIVE_INFINITY })).toThrow(/'shift' must be a finite number/);
  });

  it("an f32 uniform takes ±Infinity, as its bits", () => {
    expect(Array.from(k.params({ D: 1, scale: Number.POSITIVE_INFINITY, shift: 0 }))[1]).toBe(0x7f800000);
    expect(Array.from(k.params({ D: 1, scale: Number.NEGATIVE_INFINITY, shift: 0 }))[1]).toBe(0xff800000);
  });

  it("lays out vec4 word arrays after whole vec4s of scalars", () => {
    const r = defineKernel({ name: "block", uniforms: { a: "u32", b: "u32", c: "u32", d: "u32", h: { vec4: "u32", length: 2 } }, buffers: {}, body: "" });
    expect(r.spec.code).toContain("struct Params { a: u32, b: u32, c: u32, d: u32, h: array<vec4<u32>, 2> }");
    expect(Array.from(r.params({ a: 1, b: 2, c: 3, d: 4, h: [5, 6, 7] }))).toEqual([1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0]);
    expect(() => r.params({ a: 1, b: 2, c: 3, d: 4, h: new Array(9).fill(0) })).toThrow(/at most 8 words/);
    expect(() => defineKernel({ name: "bad", uniforms: { a: "u32", h: { vec4: "f32", length: 1 } }, buffers: {}, body: "" })).toThrow(/fill whole vec4s/);
    expect(() => defineKernel({ name: "bad", uniforms: { h: { vec4: "f32", length: 1 }, a: "u32" }, buffers: {}, body: "" })).toThrow(/declare scalars first/);
  });

  it("a kernel without uniforms has no params binding; reserved names are refused", () => {
    const n = defineKernel({ name: "none", uniforms: {}, buffers: { out: write("array<u32>") }, body: "" });
    expect(n.spec.bindings.map((b) => b.name)).toEqual(["run", "out"]);
    expect(n.spec.code).toContain("@group(0) @binding(1) var<storage, read_write> out: array<u32>;");
    expect(() => defineKernel({ name: "bad", uniforms: {}, buffers: { params: read() }, body: "" })).toThrow(/reserved/);
  });
});
