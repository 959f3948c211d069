// The schedule part of the tuning table: crossovers from measured points, the nearest class of a
// pool, the crossovers moved to the pool's rows per expert, and `auto`'s choice with and without a
// table (the fixed rule: grouped GEMMs for ffn pools, token-centric for atoms, dense for atoms
// under dense selection from T = 16). Expected values are worked by hand from the tables below.
import { expect, it } from "vitest";
import { pickSchedule } from "../../../runtime/executor/lower-moe-fine.js";
import { crossoverClear, winnerOf } from "../../../runtime/tune/schedule-search.js";
import { measuredSteps, nearestScheduleEntry, scheduleAt, stepsOf, type ScheduleEntry, type SchedulePoint } from "../../../runtime/tune/schedule-table.js";
import { moeProgram, stages } from "../../helpers/ir-programs.js";
import type { IrOp, IrProgram } from "../../../compiler/ir/ir.js";
import { finePool, fineMoeProgram } from "../executor/fine-programs.js";

const point = (tokens: number, winner: SchedulePoint["winner"]): SchedulePoint => ({ tokens, ms: {}, winner });
const entry = (experts: number, k: number, dim: number, steps: ScheduleEntry["steps"]): ScheduleEntry => ({ experts, k, dim, hidden: 2 * dim, problem: "", steps, points: [] });

const table: Record<string, ScheduleEntry> = {
  // 8 experts top-2: token-centric below T = 16, grouped from 16 (4 rows per expert).
  "schedule/coarse/d-small": entry(8, 2, 128, [{ from: 1, schedule: "token" }, { from: 16, schedule: "expert" }]),
  // the larger width crosses later: from T = 64.
  "schedule/coarse/d-large": entry(8, 2, 512, [{ from: 1, schedule: "token" }, { from: 64, schedule: "expert" }]),
  // 64 experts top-6: grouped never won.
  "schedule/fine/d-small": entry(64, 6, 128, [{ from: 1, schedule: "token" }]),
  // every expert sees every token: token, then dense from 8, then grouped from 128.
  "schedule/all/d-small": entry(8, 8, 128, [{ from: 1, schedule: "token" }, { from: 8, schedule: "dense" }, { from: 128, schedule: "expert" }]),
};

it("crossovers are where another winner takes over and holds at the next T; a lone winner is noise", () => {
  expect(stepsOf([point(1, "dense"), point(2, "dense"), point(8, "token"), point(16, "dense"), point(32, "dense")])).toEqual([{ from: 1, schedule: "dense" }]);
  expect(stepsOf([point(1, "token"), point(2, "expert")])).toEqual([{ from: 1, schedule: "token" }]);
  expect(stepsOf([point(1, "token"), point(2, "dense"), point(4, "dense"), point(8, "expert"), point(16, "expert")])).toEqual([{ from: 1, schedule: "token" }, { from: 2, schedule: "dense" }, { from: 8, schedule: "expert" }]);
  expect(stepsOf([])).toEqual([]);
  expect(stepsOf([point(1, "token"), point(2, "token"), point(4, "expert"), point(8, "expert")])).toEqual([{ from: 1, schedule: "token" }, { from: 4, schedule: "expert" }]);
  expect(stepsOf([point(1, "expert"), point(2, "token"), point(4, "token")])).toEqual([{ from: 1, schedule: "expert" }, { from: 2, schedule: "token" }]);
  expect(stepsOf([point(1, "token")])).toEqual([{ from: 1, schedule: "token" }]);
});

it("the winner: the fastest, unless the grouped GEMMs (the fallback) are within 5 %", () => {
  expect(winnerOf({ token: 1, expert: 2 }, 0.05)).toBe("token");
  expect(winnerOf({ token: 1.0, expert: 1.04 }, 0.05)).toBe("expert"); // 1.0 · 1.05 > 1.04
  expect(winnerOf({ token: 3, expert: 2, dense: 1 }, 0.05)).toBe("dense");
  expect(winnerOf({ token: 1 }, 0.05)).toBe("token"); // expert rejected (wrong output)
});

it("the sweep stops once a new winner held at two token counts", () => {
  expect(crossoverClear([point(1, "token"), point(2, "expert")])).toBe(false);
  expect(crossoverClear([point(1, "token"), point(2, "expert"), point(4, "expert")])).toBe(true);
  expect(crossoverClear([point(1, "token"), point(2, "token"), point(4, "token")])).toBe(false);
  expect(crossoverClear([point(1, "token"), point(2, "expert"), point(4, "token")])).toBe(false);
});

it("the nearest class: same grain, nearest width on a log scale, ties to the smaller", () => {
  expect(nearestScheduleEntry(table, "coarse", 128)).toBe(table["schedule/coarse/d-small"]);
  expect(nearestScheduleEntry(table, "coarse", 200)).toBe(table["schedule/coarse/d-small"]); // log2(200/128) = 0.64 < log2(512/200) = 1.36
  expect(nearestScheduleEntry(table, "coarse", 256)).toBe(table["schedule/coarse/d-small"]); // 1 vs 1: the smaller
  expect(nearestScheduleEntry(table, "coarse", 4096)).toBe(table["schedule/coarse/d-large"]);
  expect(nearestScheduleEntry(table, "fine", 4096)).toBe(table["schedule/fine/d-small"]);
  expect(nearestScheduleEntry({}, "coarse", 128)).toBeUndefined();
  expect(nearestScheduleEntry(undefined, "all", 128)).toBeUndefined();
});

it("crossovers move with rows per expert (T·k/E) and dense becomes grouped where it cannot run", () => {
  const coarse = { experts: 8, k: 2, dim: 128, selectsAll: false, denseAllowed: true };
  expect(measuredSteps(table, coarse)).toEqual([{ from: 1, schedule: "token" }, { from: 16, schedule: "expert" }]);
  // top-1 of 8: half the rows per expert per token, so the crossover of 16 tokens (4 rows) is at 32.
  expect(measuredSteps(table, { ...coarse, k: 1 })).toEqual([{ from: 1, schedule: "token" }, { from: 32, schedule: "expert" }]);
  // 16 experts top-4 (≤ 16: coarse): the same rows per expert as 8 top-2.
  expect(measuredSteps(table, { ...coarse, experts: 16, k: 4 })).toEqual([{ from: 1, schedule: "token" }, { from: 16, schedule: "expert" }]);
  // 8 top-6: 3× the rows per expert: ⌈16 / 3⌉ = 6.
  expect(measuredSteps(table, { ...coarse, k: 6 })).toEqual([{ from: 1, schedule: "token" }, { from: 6, schedule: "expert" }]);
  // 8 top-8 is the `all` grain: token, dense from 8, grouped from 128; with biases dense is grouped, merging.
  const all = { experts: 8, k: 8, dim: 128, selectsAll: true, denseAllowed: true };
  expect(measuredSteps(table, all)).toEqual([{ from: 1, schedule: "token" }, { from: 8, schedule: "dense" }, { from: 128, schedule: "expert" }]);
  expect(measuredSteps(table, { ...all, denseAllowed: false })).toEqual([{ from: 1, schedule: "token" }, { from: 8, schedule: "expert" }]);
  // No entry of the grain: none (the fixed rule).
  expect(measuredSteps({ "schedule/fine/d-small": table["schedule/fine/d-small"]! }, coarse)).toBeUndefined();
  expect(measuredSteps(undefined, coarse)).toBeUndefined();
});

it("the schedule at T: the last crossover at or below T", () => {
  const steps = table["schedule/all/d-small"]!.steps;
  expect([1, 7, 8, 127, 128, 1000].map((T) => scheduleAt(steps, T))).toEqual(["token", "token", "dense", "dense", "expert", "expert"]);
});

it("auto: the table's crossovers where given, else the fixed rule; token / expert / dense force", () => {
  type MoeOp = Extract<IrOp, { op: "moe" }>;
  const opOf = (p: IrProgram) => p.ops[0] as MoeOp;
  const ffn = opOf(moeProgram({ D: 128, E: 8, I: 256, stages: stages("linear", "softmax", ["topk", { k: 2 }]) }));
  const steps = measuredSteps(table, { experts: 8, k: 2, dim: 128, selectsAll: false, denseAllowed: true });
  expect([1, 15, 16, 64].map((T) => pickSchedule("auto", T, ffn, steps))).toEqual(["token", "token", "expert", "expert"]);
  // No table: ffn pools keep the grouped GEMMs at every T.
  expect([1, 16, 64].map((T) => pickSchedule("auto", T, ffn))).toEqual(["expert", "expert", "expert"]);
  for (const s of ["token", "expert", "dense"] as const) expect([1, 64].map((T) => pickSchedule(s, T, ffn, steps))).toEqual([s, s]);
  // Atoms (no table entry applies to them): token-centric; under dense selection dense from T = 16.
  const atoms = opOf(fineMoeProgram(finePool({ kind: "atom", count: 64, dim: 16 }), stages("linear", "softmax", ["topk", { k: 4 }])));
  expect([1, 64].map((T) => pickSchedule("auto", T, atoms))).toEqual(["token", "token"]);
  const dense = opOf(fineMoeProgram(finePool({ kind: "atom", count: 64, dim: 16 }), stages("linear", "softmax", "dense")));
  expect([15, 16].map((T) => pickSchedule("auto", T, dense))).toEqual(["token", "dense"]);
});
