// `--schedule auto|token|expert|dense` on `moec run`, `generate` and `bench`: declared in each
// command's help, a bad value a usage error (exit 2) naming the flag or the --compare entry, before
// any work; on the GPU a forced schedule changes the pool's kernels (dispatch count) but not its output.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseSchedule, scheduleFlag } from "../../../cli/commands/schedule-flag.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { readSafetensors } from "../../../runtime/index.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-schedule-"));
  fs.writeFileSync(
    path.join(dir, "m.moe"),
    "layer m(x: [T, D], D = 16, N = 8, I = 16) {\n  experts E[N] = ffn(hidden = I)\n  router r = linear |> softmax |> topk(2)\n  return moe(x, r, E)\n}\n",
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("parses the four schedules and refuses anything else, naming where", () => {
  expect(["auto", "token", "expert", "dense"].map((s) => scheduleFlag({ schedule: s }))).toEqual(["auto", "token", "expert", "dense"]);
  expect(scheduleFlag({})).toBeUndefined();
  expect(() => scheduleFlag({ schedule: "grouped" })).toThrow("unknown schedule `grouped` in --schedule; use auto, token, expert, dense");
  expect(() => parseSchedule("tok", "`fine@tok`")).toThrow("unknown schedule `tok` in `fine@tok`");
});

it.each(["run", "generate", "bench"])("moec %s --help declares --schedule", async (cmd) => {
  const h = await moec([cmd, "--help"]);
  expect(h.code).toBe(0);
  expect(h.out).toMatch(/--schedule auto\|token\|expert\|dense\s+how routed pools run/);
});

it("a bad value is a usage error before any work", async () => {
  const run = await moec(["run", "m.moe", "--random-weights", "--tokens", "2", "--schedule", "fast"], dir);
  expect(run.code).toBe(2);
  expect(run.err).toContain("unknown schedule `fast` in --schedule; use auto, token, expert, dense");
  const gen = await moec(["generate", "m.moe", "--random-weights", "--input-ids", "1", "--schedule", "fast"], dir);
  expect(gen.code).toBe(2);
  expect(gen.err).toContain("unknown schedule `fast` in --schedule");
  const bench = await moec(["bench", "m.moe", "--tokens", "2", "--schedule", "fast"], dir);
  expect(bench.code).toBe(2);
  expect(bench.err).toContain("unknown schedule `fast` in --schedule");
  const onnx = await moec(["run", "m.moe", "--random-weights", "--tokens", "2", "--schedule", "token", "--backend", "onnxruntime"], dir);
  expect(onnx.code).toBe(2);
  expect(onnx.err).toContain("--schedule applies to the WebGPU backend");
});

describeGpu("moec run --schedule", () => {
  itGpu("token and expert run the same layer with 3 and 5 dispatches", async () => {
    const outputs: Float32Array[] = [];
    for (const s of ["token", "expert"]) {
      const file = path.join(dir, `y-${s}.safetensors`);
      const r = await moec(["run", "m.moe", "--random-weights", "--tokens", "5", "--schedule", s, "-o", file], dir);
      expect(r.code, r.err).toBe(0);
      outputs.push(readSafetensors(file).getF32("y"));
      const bench = await moec(["bench", "m.moe", "--tokens", "5", "--schedule", s, "--iterations", "1", "--warmup", "0", "--json"], dir);
      expect(bench.code, bench.err).toBe(0);
      expect(JSON.parse(bench.out).fused.dispatches).toBe(s === "token" ? 3 : 5);
    }
    // A schedule the pool cannot run is a clear error (exit 1), not an internal one.
    fs.writeFileSync(path.join(dir, "b.moe"), "layer b(x: [T, D], D = 16, N = 4, I = 16) {\n  experts E[N] = ffn(hidden = I, bias = true)\n  router r = linear |> softmax |> topk(2)\n  return moe(x, r, E)\n}\n");
    const dense = await moec(["run", "b.moe", "--random-weights", "--tokens", "3", "--schedule", "dense"], dir);
    expect(dense.code).toBe(1);
    expect(dense.err).toContain("moec run: moe over pool 'E': the dense schedule does not take expert biases; use the token or expert schedule");
    const [a, b] = outputs as [Float32Array, Float32Array];
    expect(a).toHaveLength(5 * 16);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(b[i]!));
  });
});
