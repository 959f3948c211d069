// `moec tune`'s arguments and summary, and the cache as the CLI's GPU commands read it: a corrupt
// file is one warning line naming it and the run goes on with the default shapes. (The search
// itself: tests/runtime/tune/; a whole `moec tune` takes minutes on lavapipe.)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { scheduleSummary, tuningSummary } from "../../../cli/commands/tune.js";
import { tuningCacheFile } from "../../../runtime/tune/tuning-cache.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { acquireGpu } from "../../../runtime/gpu/dawn.js";

let dir: string;
const saved = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, MOEC_TUNING: process.env.MOEC_TUNING };
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-tune-"));
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

it("takes no arguments (exit 2) and documents its flags", async () => {
  const r = await moec(["tune", "x.moe"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("unexpected argument `x.moe` for `moec tune`");
  const h = await moec(["tune", "--help"]);
  for (const f of ["--adapter NAME", "--quick", "--json", "--dry-run", "MOEC_TUNING=off", "only when asked", "schedule step", "crossover"]) expect(h.out).toContain(f);
});

it("the summary: one line per class, speed-up = fallback time / chosen time", () => {
  const lines = tuningSummary({
    moec_tuning: 2, schedules: {},
    key: { vendor: "", architecture: "", device: "", description: "x", moec: "0" },
    clock: "wall-clock",
    measured: "",
    entries: { "dense/r1/k-small": { shape: { kind: "gemv", rows: 1, lanes: 16, cols: 2 }, ms: 0.5, fallback: { kind: "gemv", rows: 1, lanes: 4, cols: 2 }, fallbackMs: 1.25, problem: "1 × 512 × 512", candidates: [] } },
  });
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^class\s+problem\s+chosen\s+time\s+fallback\s+time\s+speed-up$/);
  expect(lines[1]!.split(/\s{2,}/)).toEqual(["dense/r1/k-small", "1 × 512 × 512", "gemv 1r×16l×2c", "0.500 ms", "gemv 1r×4l×2c", "1.250 ms", "2.50×"]);
});

it("the schedule summary: one line per pool class, the winner at each T and the crossovers", () => {
  const base = { moec_tuning: 2 as const, key: { vendor: "", architecture: "", device: "", description: "x", moec: "0" }, clock: "wall-clock" as const, measured: "", entries: {} };
  expect(scheduleSummary({ ...base, schedules: {} })).toEqual([]);
  const lines = scheduleSummary({
    ...base,
    schedules: {
      "schedule/coarse/d-small": {
        experts: 8, k: 2, dim: 128, hidden: 256, problem: "D 128, 8 × ffn(256), top-2",
        steps: [{ from: 1, schedule: "token" }, { from: 4, schedule: "expert" }],
        points: [{ tokens: 1, ms: {}, winner: "token" }, { tokens: 2, ms: {}, winner: "token" }, { tokens: 4, ms: {}, winner: "expert" }, { tokens: 8, ms: {}, winner: "expert" }],
      },
    },
  });
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^pool class\s+problem\s+winner by T\s+schedule \(auto\)$/);
  expect(lines[1]!.split(/\s{2,}/)).toEqual(["schedule/coarse/d-small", "D 128, 8 × ffn(256), top-2", "1:token 2:token 4:expert 8:expert", "token, expert from T = 4"]);
});

describeGpu("a GPU command with a tuning cache", () => {
  itGpu("a corrupt cache file: one warning naming it, and the run succeeds", async () => {
    process.env.XDG_CACHE_HOME = dir;
    delete process.env.MOEC_TUNING;
    const gpu = await acquireGpu();
    const file = tuningCacheFile(gpu.adapterInfo);
    gpu.dispose();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "{ not json");
    fs.writeFileSync(path.join(dir, "g.moe"), "layer g(x: [T, D], D = 8) {\n  let y = linear(x, out = 4)\n  return y\n}\n");
    const r = await moec(["run", "g.moe", "--random-weights", "--tokens", "2"], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err.trimEnd().split("\n")).toEqual([expect.stringMatching(new RegExp(`^moec run: warning: tuning cache ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is corrupt: not JSON .*; using the default GEMM shapes \\(rerun \`moec tune\`\\)$`))]);
  });
});
