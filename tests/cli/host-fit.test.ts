// A run's inputs and outputs against the host's memory, decided before anything is drawn: the
// bytes are counted by hand (x [T, 64] in, y [T, 64] out: 512 bytes a token), and `moec run` /
// `moec bench` refuse a million 4096-wide tokens at once, naming the numbers, instead of drawing
// 16 GiB of inputs for minutes.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import { hostRunProblem } from "../../cli/host-fit.js";
import { runIoBytes } from "../../runtime/run-inputs.js";
import { moec } from "../helpers/cli.js";

describe("hostRunProblem", () => {
  const program = compile({ file: "examples/mixtral.moe", set: { D: 64, I: 32 } }).program!;

  it("counts 4 bytes per value of every input and output", () => {
    expect(runIoBytes(program, 1)).toBe((64 + 64) * 4);
    expect(runIoBytes(program, 1000)).toBe(512_000);
  });

  it("allows up to half the host's memory, and names both numbers above it", () => {
    const host = 2 ** 20; // 1 MiB: half is 1,024 tokens of 512 bytes
    expect(hostRunProblem(program, 1024, 1, host)).toBeUndefined();
    expect(hostRunProblem(program, 1025, 1, host)).toMatch(/^1,025 tokens of `mixtral_moe` need 0\.0 GiB of host memory/);
    expect(hostRunProblem(program, 512, 2, host)).toBeUndefined();
    expect(hostRunProblem(program, 513, 2, host)).toBeDefined();
  });

  it("moec run and moec bench refuse before drawing anything", async () => {
    const t0 = Date.now();
    // 2^20 tokens × (2 × 262,144 values) × 4 bytes = 2 TiB: more than any machine this runs on.
    const args = ["examples/mixtral.moe", "--tokens", "1048576", "--set", "D=262144", "I=8"];
    const run = await moec(["run", ...args, "--random-weights"]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/moec run: 1,048,576 tokens of `mixtral_moe` need 2048\.0 GiB of host memory for the inputs and outputs alone, more than half of this machine's/);
    const bench = await moec(["bench", ...args]);
    expect(bench.code).toBe(1);
    expect(bench.err).toMatch(/moec bench: 1,048,576 tokens of `mixtral_moe` need 4096\.0 GiB/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
