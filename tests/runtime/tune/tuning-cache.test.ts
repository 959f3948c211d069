// The tuning cache: a table (GEMM entries and schedule crossovers) round-trips through its file; a
// corrupt file, a file of the older format 1 (no schedule crossovers), a table another moec version
// or adapter measured, and MOEC_TUNING=off each give no table (the fallbacks), all but the last with
// a one-line warning naming the file; a missing file is silent.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { readTuningCache, tuningCacheDir, tuningCacheFile, writeTuningCache } from "../../../runtime/tune/tuning-cache.js";
import { parseTuningTable, serializeTuningTable, TuningFormatError, TuningTableError, type TuningTable } from "../../../runtime/tune/tuning-table.js";

const adapter = { vendor: "mesa", architecture: "", device: "", description: "llvmpipe (LLVM 15.0.6, 256 bits)" };

function table(): TuningTable {
  return {
    moec_tuning: 2,
    key: { ...adapter, moec: "9.9.9" },
    clock: "wall-clock",
    measured: "2026-12-02T00:00:00.000Z",
    entries: {
      "dense/r1/k-small": {
        shape: { kind: "gemv", rows: 1, lanes: 16, cols: 2 },
        ms: 1.5,
        fallback: { kind: "gemv", rows: 1, lanes: 4, cols: 2 },
        fallbackMs: 3,
        problem: "1 × 512 × 512",
        candidates: [{ shape: { kind: "gemv", rows: 1, lanes: 4, cols: 2 }, ms: 3 }, { shape: { kind: "gemv", rows: 1, lanes: 16, cols: 2 }, ms: 1.5 }, { shape: { kind: "tile" }, rejected: "output[3] = 1, the first candidate's 2" }],
      },
      "grouped/k-large": { shape: { kind: "tile" }, ms: 10, fallback: { kind: "gemv", rows: 8, lanes: 1, cols: 4 }, fallbackMs: 12, problem: "T 64", candidates: [] },
    },
    schedules: {
      "schedule/coarse/d-small": {
        experts: 8, k: 2, dim: 128, hidden: 256, problem: "D 128, 8 × ffn(256), top-2",
        steps: [{ from: 1, schedule: "token" }, { from: 4, schedule: "expert" }],
        points: [
          { tokens: 1, ms: { token: 0.5, expert: 2 }, winner: "token" },
          { tokens: 2, ms: { token: 0.9, expert: 2.1 }, winner: "token" },
          { tokens: 4, ms: { token: 2.5, expert: 2.2 }, winner: "expert" },
          { tokens: 8, ms: { token: 5 }, winner: "token", rejected: { expert: "output[0] = 1, the first candidate's 2" } },
        ],
      },
    },
  };
}

let dir: string;
let env: NodeJS.ProcessEnv;
let warnings: string[];
const warn = (m: string) => void warnings.push(m);
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-tuning-"));
  env = { XDG_CACHE_HOME: dir };
  warnings = [];
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it("lives under $XDG_CACHE_HOME/moec/tuning, else ~/.cache/moec/tuning, one file per adapter", () => {
  expect(tuningCacheDir(env)).toBe(path.join(dir, "moec", "tuning"));
  expect(tuningCacheDir({})).toBe(path.join(os.homedir(), ".cache", "moec", "tuning"));
  const f = tuningCacheFile(adapter, env);
  expect(path.dirname(f)).toBe(path.join(dir, "moec", "tuning"));
  expect(path.basename(f)).toMatch(/^llvmpipe-llvm-15-0-6-256-bits-[0-9a-f]{8}\.json$/);
  expect(tuningCacheFile({ ...adapter, description: "llvmpipe (LLVM 16.0.6, 256 bits)" }, env)).not.toBe(f);
});

it("round-trips a table through the cache file, written atomically", () => {
  const file = writeTuningCache(table(), env);
  expect(file).toBe(tuningCacheFile(adapter, env));
  expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  expect(readTuningCache(adapter, "9.9.9", warn, env)).toEqual(table());
  expect(warnings).toEqual([]);
});

it("a missing file is no table and no warning; MOEC_TUNING=off ignores a good file", () => {
  expect(readTuningCache(adapter, "9.9.9", warn, env)).toBeUndefined();
  writeTuningCache(table(), env);
  expect(readTuningCache(adapter, "9.9.9", warn, { ...env, MOEC_TUNING: "off" })).toBeUndefined();
  expect(warnings).toEqual([]);
});

it("a corrupt file is one warning naming it and the field, and no table", () => {
  const file = tuningCacheFile(adapter, env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, serializeTuningTable(table()).slice(0, 200));
  expect(readTuningCache(adapter, "9.9.9", warn, env)).toBeUndefined();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`tuning cache ${file} is corrupt: not JSON`);

  const bad = table();
  (bad.entries["dense/r1/k-small"]!.shape as { lanes: number }).lanes = 3;
  fs.writeFileSync(file, serializeTuningTable(bad));
  expect(readTuningCache(adapter, "9.9.9", warn, env)).toBeUndefined();
  expect(warnings[1]).toContain("entries['dense/r1/k-small'].shape: lanes 3 is not a power of two dividing 64");
  expect(warnings[1]).not.toContain("\n");
});

it("a file of format 1 (before the schedule crossovers) is refused as such: one warning, no table", () => {
  const file = tuningCacheFile(adapter, env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { schedules: _, ...old } = table();
  fs.writeFileSync(file, JSON.stringify({ ...old, moec_tuning: 1 }));
  expect(readTuningCache(adapter, "9.9.9", warn, env)).toBeUndefined();
  expect(warnings).toEqual([`tuning cache ${file} has format 1, not 2 (an earlier moec's, without the schedule crossovers); using the default GEMM shapes and schedules (rerun \`moec tune\`)`]);
  expect(() => parseTuningTable(JSON.stringify({ ...old, moec_tuning: 1 }))).toThrow(TuningFormatError);
});

it("a table another moec version measured is stale: one warning, no table", () => {
  writeTuningCache(table(), env);
  expect(readTuningCache(adapter, "10.0.0", warn, env)).toBeUndefined();
  expect(warnings).toEqual([expect.stringContaining("was measured by moec 9.9.9 on 'llvmpipe (LLVM 15.0.6, 256 bits)', not by moec 10.0.0")]);
});

it("parsing names what is wrong", () => {
  const bad = (t: unknown) => () => parseTuningTable(JSON.stringify(t));
  expect(bad({ moec_tuning: 2 })).toThrow(TuningTableError);
  expect(bad({ moec_tuning: "2" })).toThrow("not a moec tuning table of format 2 (field moec_tuning)");
  const { schedules: _, ...noSchedules } = table();
  expect(bad(noSchedules)).toThrow("schedules is not an object");
  const sched = table().schedules["schedule/coarse/d-small"]!;
  expect(bad({ ...table(), schedules: { "schedule/huge/d-small": sched } })).toThrow("schedules: unknown pool class 'schedule/huge/d-small'");
  expect(bad({ ...table(), schedules: { "schedule/coarse/d-small": { ...sched, k: 0 } } })).toThrow("schedules['schedule/coarse/d-small'].k is not a positive integer");
  expect(bad({ ...table(), schedules: { "schedule/coarse/d-small": { ...sched, steps: [{ from: 2, schedule: "token" }] } } })).toThrow("schedules['schedule/coarse/d-small'].steps[0].from is not an increasing token count starting at 1");
  expect(bad({ ...table(), schedules: { "schedule/coarse/d-small": { ...sched, steps: [{ from: 1, schedule: "token" }, { from: 1, schedule: "expert" }] } } })).toThrow("steps[1].from is not an increasing");
  expect(bad({ ...table(), schedules: { "schedule/coarse/d-small": { ...sched, steps: [{ from: 1, schedule: "grouped" }] } } })).toThrow("steps[0].schedule is not one of token, expert, dense");
  expect(bad({ ...table(), key: { ...table().key, moec: 1 } })).toThrow("key.moec is not a string");
  expect(bad({ ...table(), entries: { "dense/r3/k-small": table().entries["grouped/k-large"] } })).toThrow("unknown shape class 'dense/r3/k-small'");
  expect(bad({ ...table(), entries: { "grouped/k-large": { ...table().entries["grouped/k-large"], ms: -1 } } })).toThrow("entries['grouped/k-large'].ms is not a non-negative number");
  expect(bad({ ...table(), entries: { "grouped/k-large": { ...table().entries["grouped/k-large"], fallback: { kind: "gemv", rows: 3, lanes: 1, cols: 2 } } } })).toThrow("rows 3 is not a power of two");
});
