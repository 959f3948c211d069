// WGSL goldens: the text a few generators emit, reviewed once and kept in
// tests/fixtures/wgsl/NAME.wgsl (UPDATE_GOLDEN=1 rewrites them; review the diff). Generators are
// pure functions, so this runs without an adapter; a change to a kernel shows up as a diff of the
// code the GPU compiles, with its binding list, rather than only as a numeric test elsewhere.
import * as path from "node:path";
import { describe, it } from "vitest";
import { combineKernel } from "../../../runtime/kernels/combine-kernel.js";
import type { Kernel } from "../../../runtime/kernels/define-kernel.js";
import { dispatchKernel } from "../../../runtime/kernels/dispatch-kernel.js";
import { embedKernel } from "../../../runtime/kernels/embed-kernel.js";
import { fineAxpyKernel } from "../../../runtime/kernels/fine-axpy.js";
import { fineDotKernel } from "../../../runtime/kernels/fine-gather-dot.js";
import { ffnDownKernel, ffnUpKernel } from "../../../runtime/kernels/gemm/ffn-gemms.js";
import { heteroDownKernel, heteroUpKernel } from "../../../runtime/kernels/gemm/hetero-gemms.js";
import { linearKernel, routerGateKernel } from "../../../runtime/kernels/gemm/linear-gemm.js";
import { fusedRouterKernel } from "../../../runtime/kernels/router-fused.js";
import { samplerKernel } from "../../../runtime/kernels/sampling/sampler-kernel.js";
import { matchGolden } from "../../helpers/frontend/golden.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const DIR = path.join(REPO_ROOT, "tests/fixtures/wgsl");

/** The kernel as the GPU gets it: name, binding list (index, role, kind), uniform fields, code. */
function render(k: Kernel): string {
  const b = k.spec.bindings.map((x, i) => `//   ${i} ${x.name} (${x.kind})`).join("\n");
  const u = Object.entries(k.uniforms).map(([n, t]) => `${n}: ${typeof t === "string" ? t : `array<vec4<${t.vec4}>, ${t.length}>`}`).join(", ");
  return `// kernel ${k.spec.name}, entry ${k.spec.entryPoint}\n// bindings:\n${b}\n// uniforms: ${u || "(none)"}\n${k.spec.code}`;
}

const CASES: [string, () => Kernel][] = [
  ["linear-f32", () => linearKernel("f32")],
  ["linear-gemv-vec4-f32", () => linearKernel("f32", true, { kind: "gemv", rows: 1, lanes: 4, cols: 2, vec4: true })],
  ["expert-up-dense-gated-gemv-scalar-f16", () => ffnUpKernel({ dtype: "f16", gated: true, mode: "dense", shape: { kind: "gemv", rows: 2, lanes: 1, cols: 2, vec4: false } })],
  ["router-gate-f32", () => routerGateKernel("f32")],
  ["expert-up-grouped-gated-f16", () => ffnUpKernel({ dtype: "f16", gated: true, mode: "grouped" })],
  ["expert-up-dense-f32", () => ffnUpKernel({ dtype: "f32", gated: false, mode: "dense" })],
  ["expert-down-grouped-f32", () => ffnDownKernel({ dtype: "f32", mode: "grouped" })],
  ["expert-down-dense-f32", () => ffnDownKernel({ dtype: "f32", mode: "dense" })],
  ["hetero-up-f32", () => heteroUpKernel("f32")],
  ["hetero-down-f32", () => heteroDownKernel("f32")],
  ["dispatch", () => dispatchKernel()],
  ["combine-f16", () => combineKernel("f16")],
  ["router-fused-workgroup-f32", () => fusedRouterKernel({ dtype: "f32", subgroups: false, plugins: [] })],
  ["sampler-f32", () => samplerKernel("f32")],
  // Block-quantized weights (weightFormat): the GEMV over Q4_0 blocks at the CPU decode shape, the token-centric expert kernels and the gather over Q8_0;
  // the same GEMV, fine_dot and gather over FP8 E4M3 (the bit decode, f32 scales per 128).
  ["linear-gemv-q4_0-f32", () => linearKernel("f32", false, { kind: "gemv", rows: 1, lanes: 2, cols: 4, vec4: true }, "q4_0")],
  ["fine-dot-q8_0-f32", () => fineDotKernel("f32", true, "q8_0")],
  ["fine-axpy-q4_0-f32", () => fineAxpyKernel("f32", "q4_0")],
  ["embed-q8_0-f32", () => embedKernel("f32", "q8_0")],
  ["linear-gemv-fp8_e4m3-f32", () => linearKernel("f32", false, { kind: "gemv", rows: 1, lanes: 2, cols: 4, vec4: true }, "fp8_e4m3")],
  ["fine-dot-fp8_e4m3-f32", () => fineDotKernel("f32", true, "fp8_e4m3")],
  ["embed-fp8_e4m3-f32", () => embedKernel("f32", "fp8_e4m3")],
];

describe("WGSL goldens (tests/fixtures/wgsl)", () => {
  for (const [name, make] of CASES) {
    it(name, () => matchGolden(path.join(DIR, `${name}.wgsl`), render(make())));
  }
});
