// moec upcycle round trip: a dense SwiGLU FFN → a split/replicated pool; the MoE layer with every
// expert forced active (zero router, exp → dense selection, scaled by 1/copies) run ON THE GPU
// must give the dense FFN's output, computed here in float64 from the dense weights.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compile } from "../../../compiler/index.js";
import { createRuntime, writeSafetensors, readSafetensors, type Runtime } from "../../../runtime/index.js";
import { main } from "../../../cli/main.js";
import { beforeAllGpu, itGpu } from "../../helpers/gpu-context.js";

const D = 8, H = 24;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-upcycle-"));
let seed = 12345;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) / 2;
const wg = Array.from({ length: H * D }, rnd), wu = Array.from({ length: H * D }, rnd), wd = Array.from({ length: D * H }, rnd);

function denseRef(x: number[]): number[] {
  const silu = (v: number) => v / (1 + Math.exp(-v));
  const h = Array.from({ length: H }, (_, i) => {
    let g = 0, u = 0;
    for (let d = 0; d < D; d++) { g += wg[i * D + d]! * x[d]!; u += wu[i * D + d]! * x[d]!; }
    return silu(g) * u;
  });
  return Array.from({ length: D }, (_, d) => h.reduce((s, hi, i) => s + wd[d * H + i]! * hi, 0));
}

const io = () => {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: dir } };
};

describe("moec upcycle", () => {
  let rt: Runtime;
  beforeAll(async () => {
    writeSafetensors(path.join(dir, "dense.safetensors"), {
      "mlp.w_gate": { dtype: "F32", shape: [H, D], data: wg },
      "mlp.w_up": { dtype: "F32", shape: [H, D], data: wu },
      "mlp.w_down": { dtype: "F32", shape: [D, H], data: wd },
    });
  });
  beforeAllGpu(async () => {
    rt = await createRuntime();
  });
  afterAll(() => rt?.dispose());

  for (const [label, decl, copies] of [
    ["replicate 3 copies split 4", "experts E[3] = ffn(hidden = 24) split 4", 3],
    ["partition into 6 fine experts", "experts E[6] = ffn(hidden = 4)", 1],
  ] as const) {
    itGpu(`${label}: all experts active give the dense output on the GPU`, async () => {
      const file = path.join(dir, `${copies}.moe`);
      fs.writeFileSync(file, `layer up(x: [T, D], D = ${D}) {\n  ${decl}\n  router r = linear |> exp |> dense |> scale(${1 / copies})\n  return moe(x, r, E)\n}\n`);
      const c = io();
      const code = await main(["upcycle", "dense.safetensors", file, "--from", "mlp", "-o", `up${copies}.safetensors`], c.io);
      expect(c.err.join("\n")).toBe("");
      expect(code).toBe(0);
      expect(c.out.join("\n")).toMatch(/max \|error\| = \d\.\d+e-1\d/);
      // The written checkpoint binds as a normal weights file (fine per-member names).
      expect(readSafetensors(path.join(dir, `up${copies}.safetensors`)).tensors.has("E.0.w_gate")).toBe(true);
      const prog = compile({ file });
      expect(prog.ok).toBe(true);
      const layer = await rt.load(prog.program!, { weights: path.join(dir, `up${copies}.safetensors`) });
      const T = 5;
      const x = Array.from({ length: T * D }, () => rnd() * 4);
      const { y } = await layer.run({ x: new Float32Array(x) }, T);
      for (let t = 0; t < T; t++) {
        const ref = denseRef(x.slice(t * D, (t + 1) * D));
        for (let d = 0; d < D; d++) expect(Math.abs(y![t * D + d]! - ref[d]!)).toBeLessThan(2e-5 + 1e-4 * Math.abs(ref[d]!));
      }
      layer.dispose();
    });
  }

  it("explains a pool that fits neither replication nor partition, and a missing dense tensor", async () => {
    const file = path.join(dir, "bad.moe");
    fs.writeFileSync(file, `layer up(x: [T, D], D = ${D}) {\n  experts E[5] = ffn(hidden = 4)\n  router r = linear |> topk(1)\n  return moe(x, r, E)\n}\n`);
    let c = io();
    expect(await main(["upcycle", "dense.safetensors", file, "--from", "mlp", "-o", "x.safetensors"], c.io)).toBe(1);
    expect(c.err.join("")).toContain("does not fit the dense hidden size 24");
    c = io();
    expect(await main(["upcycle", "dense.safetensors", file, "--from", "ffn", "-o", "x.safetensors"], c.io)).toBe(1);
    expect(c.err.join("")).toContain("no dense FFN under prefix `ffn.`");
  });
});
