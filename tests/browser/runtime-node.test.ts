// The browser module's runtime (dist/browser/moec.js) in Node, over Dawn's GPU object instead of
// navigator.gpu: a layer loaded from a seed, or from safetensors given as bytes, an ArrayBuffer,
// a Blob or a URL, gives the Node runtime's output for the same weights and inputs; bad bytes are
// the WeightsError a page can show; no WebGPU is a GpuUnavailableError that says so.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { compile } from "../../compiler/index.js";
import { createExecutor } from "../../runtime/executor/executor.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { canonicalToFile } from "../../runtime/weights/canonical-to-file.js";
import { encodeSafetensors } from "../../runtime/safetensors/writer.js";
import { randomInputs } from "../../runtime/run-inputs.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { importBundle, type BrowserModule } from "../helpers/browser/bundle.js";
import { beforeAllGpu, describeGpu, itGpu, testGpu, releaseTestGpu } from "../helpers/gpu-context.js";
import { describe, it } from "vitest";

let m: BrowserModule;

beforeAll(async () => {
  m = await importBundle();
}, 120_000);

const SEED = 5, T = 3;
const source = fs.readFileSync(path.join(REPO_ROOT, "examples/mixtral.moe"), "utf8");
let program: IrProgram;
let expected: Float32Array;
let rt: Awaited<ReturnType<BrowserModule["createRuntime"]>> | undefined;

beforeAllGpu(async () => {
  program = compile({ source, set: { D: 16, I: 24 } }).program!;
  const gpu = await testGpu();
  // The Node runtime's answer: the same executor over Node's device, seeded weights and inputs.
  const exec = await createExecutor(gpu, program, randomWeights(program, SEED));
  expected = (await exec.run(randomInputs(program, T, SEED).values, T)).get("y")!;
  exec.dispose();
  rt = await m.createRuntime({ gpu: gpu.gpu });
}, 120_000);

afterAll(async () => {
  rt?.dispose();
  await releaseTestGpu();
});

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), 0);

describeGpu("the browser runtime", () => {
  itGpu("with a seed gives Node's output for the same seed", async () => {
    const c = m.compile({ source, set: { D: 16, I: 24 } });
    const layer = await rt!.load(c.program!, { randomSeed: SEED });
    const inputs = m.randomInputs(c.program!, T, SEED);
    expect([...inputs.get("x")!]).toEqual([...randomInputs(program, T, SEED).values.get("x")!]);
    const { y } = await layer.run(inputs, T);
    expect(y!.length).toBe(T * 16);
    expect(maxDiff(y!, expected)).toBeLessThanOrEqual(1e-6);
    layer.dispose();
  }, 60_000);

  itGpu("reads safetensors from bytes, an ArrayBuffer, a Blob and a URL", async () => {
    const file = encodeSafetensors(canonicalToFile(program, randomWeights(program, SEED), "stacked"));
    const sources = [file, file.slice().buffer, new Blob([file]), `data:application/octet-stream;base64,${Buffer.from(file).toString("base64")}`];
    for (const weights of sources) {
      const layer = await rt!.load(program, { weights });
      const { y } = await layer.run(randomInputs(program, T, SEED).values, T);
      expect(maxDiff(y!, expected), typeof weights === "string" ? "URL" : weights.constructor.name).toBeLessThanOrEqual(1e-6);
      layer.dispose();
    }
  }, 60_000);

  itGpu("names what is wrong with bad weights", async () => {
    const file = encodeSafetensors(canonicalToFile(program, randomWeights(program, SEED), "stacked"));
    await expect(rt!.load(program, { weights: new Blob([file.subarray(0, file.length - 5)]) })).rejects.toMatchObject({
      name: "WeightsError", message: expect.stringMatching(/beyond the data section|truncated/),
    });
    const wrong = encodeSafetensors(new Map([["E.w_up", { dtype: "F32" as const, shape: [2, 2], data: new Float32Array(4) }]]));
    await expect(rt!.load(program, { weights: wrong })).rejects.toMatchObject({ name: "WeightsError" });
    await expect(rt!.load(program, { weights: "data:application/octet-stream;base64," })).rejects.toMatchObject({ name: "WeightsError", message: expect.stringContaining("at least 8") });
  }, 60_000);
});

describe("without WebGPU", () => {
  it("createRuntime() says the browser has none", async () => {
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    if (nav?.gpu) return; // a Node with navigator.gpu (none today) has WebGPU
    await expect(m.createRuntime()).rejects.toMatchObject({ name: "GpuUnavailableError", message: expect.stringContaining("no WebGPU") });
  });
});
