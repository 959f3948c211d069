// The schedule part of the tuning table (`moec tune`'s schedule step, schedule-search.ts): per pool
// class, the schedule that won at each token count measured and the crossovers it implies, and
// the lookup `auto` asks (lower-pools.ts / lower-moe-fine.ts): the nearest measured class of a
// pool, its crossovers moved to the pool's rows per expert (T·k/E). Pure data: no GPU here.

/** The schedules a routed ffn pool can run (lower-moe-fine.ts). */
export const POOL_SCHEDULES = ["token", "expert", "dense"] as const;
export type PoolSchedule = (typeof POOL_SCHEDULES)[number];

/** Coarse: few experts (≤ COARSE_MAX_EXPERTS); fine: more; all: a router that gives every token every expert. */
export const SCHEDULE_GRAINS = ["coarse", "fine", "all"] as const;
export type ScheduleGrain = (typeof SCHEDULE_GRAINS)[number];
export const COARSE_MAX_EXPERTS = 16;

export interface SchedulePoint {
  tokens: number;
  /** Median milliseconds of each schedule at these tokens (dense only for the `all` grain). */
  ms: Partial<Record<PoolSchedule, number>>;
  winner: PoolSchedule;
  /** Schedules whose output left the tolerance around the token-centric one's (not eligible). */
  rejected?: Partial<Record<PoolSchedule, string>>;
}

/** From `from` tokens on (up to the next step), `schedule` won. The first step is from 1. */
export interface ScheduleStep {
  from: number;
  schedule: PoolSchedule;
}

export interface ScheduleEntry {
  /** The pool measured. */
  experts: number;
  k: number;
  dim: number;
  hidden: number;
  problem: string;
  /** The crossovers: where the winner changes, in the measured pool's tokens. */
  steps: ScheduleStep[];
  points: SchedulePoint[];
}

/** A class name as stored in the table: `schedule/coarse/d-small` (widths: schedule-problem.ts). */
export type ScheduleClass = string;
export const POOL_WIDTHS = ["small", "large"] as const;
export type PoolWidth = (typeof POOL_WIDTHS)[number];
export const poolClassOf = (grain: ScheduleGrain, width: PoolWidth): ScheduleClass => `schedule/${grain}/d-${width}`;
/** Every class a table may hold. */
export const allPoolClasses = (): ScheduleClass[] => SCHEDULE_GRAINS.flatMap((g) => POOL_WIDTHS.map((w) => poolClassOf(g, w)));

export const grainOf = (experts: number, selectsAll: boolean): ScheduleGrain => (selectsAll ? "all" : experts <= COARSE_MAX_EXPERTS ? "coarse" : "fine");

/**
 * The steps of a sequence of measured points (increasing T): the first point's winner from T = 1,
 * then a step where another winner takes over and holds at the next point too. A winner at one
 * point only is noise on a shared machine (a load spike moves every schedule's time) and makes no
 * step; nor does a change at the last point, which nothing confirms.
 */
export function stepsOf(points: readonly SchedulePoint[]): ScheduleStep[] {
  if (points.length === 0) return [];
  const steps: ScheduleStep[] = [{ from: 1, schedule: points[0]!.winner }];
  for (let i = 1; i + 1 < points.length; i++) {
    const p = points[i]!;
    if (p.winner !== steps[steps.length - 1]!.schedule && points[i + 1]!.winner === p.winner) steps.push({ from: p.tokens, schedule: p.winner });
  }
  return steps;
}

/** What `auto` needs to know of a routed pool to find its class. */
export interface PoolFacts {
  experts: number;
  /** Slots per token (the router's k). */
  k: number;
  dim: number;
  selectsAll: boolean;
  /** Whether the dense schedule can run it (it takes no expert biases). */
  denseAllowed: boolean;
}

/** The entry of `grain` nearest to `dim` (|log2 D ratio|, ties to the smaller D), or undefined. */
export function nearestScheduleEntry(schedules: Readonly<Record<ScheduleClass, ScheduleEntry>> | undefined, grain: ScheduleGrain, dim: number): ScheduleEntry | undefined {
  let best: ScheduleEntry | undefined;
  let bestDist = Infinity;
  for (const [cls, e] of Object.entries(schedules ?? {})) {
    if (!cls.startsWith(`schedule/${grain}/`)) continue;
    const dist = Math.abs(Math.log2(dim / e.dim));
    if (dist < bestDist || (dist === bestDist && best !== undefined && e.dim < best.dim)) {
      best = e;
      bestDist = dist;
    }
  }
  return best;
}

/**
 * The measured steps for a pool, in its own tokens, or undefined (no entry of its grain: the fixed
 * rule applies). The crossovers move with rows per expert: a step at T tokens of the measured
 * pool (k_m/E_m rows per expert per token) is at ⌈T · (k_m/E_m) / (k/E)⌉ tokens of this one.
 * Where the dense schedule cannot run the pool, its steps become expert-centric.
 */
export function measuredSteps(schedules: Readonly<Record<ScheduleClass, ScheduleEntry>> | undefined, pool: PoolFacts): ScheduleStep[] | undefined {
  const e = nearestScheduleEntry(schedules, grainOf(pool.experts, pool.selectsAll), pool.dim);
  if (!e || e.steps.length === 0) return undefined;
  const scale = e.k / e.experts / (pool.k / pool.experts);
  const moved = e.steps.map((s, i) => ({ from: i === 0 ? 1 : Math.max(1, Math.ceil(s.from * scale)), schedule: s.schedule === "dense" && !pool.denseAllowed ? ("expert" as const) : s.schedule }));
  // Steps that rounding put at the same T: the later wins; then neighbours that agree merge.
  const steps: ScheduleStep[] = [];
  for (const s of moved) {
    if (steps.length && steps[steps.length - 1]!.from >= s.from) steps.pop();
    if (!steps.length || steps[steps.length - 1]!.schedule !== s.schedule) steps.push(steps.length ? s : { ...s, from: 1 });
  }
  return steps;
}

/** The schedule of `steps` at T tokens: the last step that starts at or below T. */
export function scheduleAt(steps: readonly ScheduleStep[], T: number): PoolSchedule {
  let s = steps[0]!.schedule;
  for (const st of steps) if (st.from <= T) s = st.schedule;
  return s;
}

/** Checks the `schedules` field of a parsed table; returns a message naming the bad field, or undefined. */
export function scheduleEntriesProblem(schedules: unknown, knownClasses: ReadonlySet<string>): string | undefined {
  if (typeof schedules !== "object" || schedules === null || Array.isArray(schedules)) return "schedules is not an object";
  const isSchedule = (s: unknown): s is PoolSchedule => (POOL_SCHEDULES as readonly unknown[]).includes(s);
  const posInt = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 1;
  for (const [cls, e] of Object.entries(schedules as Record<string, Partial<ScheduleEntry> | null>)) {
    const at = `schedules['${cls}']`;
    if (!knownClasses.has(cls)) return `schedules: unknown pool class '${cls}'`;
    if (typeof e !== "object" || e === null) return `${at} is not an object`;
    for (const f of ["experts", "k", "dim", "hidden"] as const) if (!posInt(e[f])) return `${at}.${f} is not a positive integer`;
    if (!Array.isArray(e.steps) || e.steps.length === 0) return `${at}.steps is not a non-empty list`;
    let prev = 0;
    for (const [i, s] of e.steps.entries()) {
      if (!posInt(s?.from) || s.from <= prev || (i === 0 && s.from !== 1)) return `${at}.steps[${i}].from is not an increasing token count starting at 1`;
      if (!isSchedule(s.schedule)) return `${at}.steps[${i}].schedule is not one of ${POOL_SCHEDULES.join(", ")}`;
      prev = s.from;
    }
    if (!Array.isArray(e.points)) return `${at}.points is not a list`;
    for (const [i, p] of e.points.entries()) {
      if (!posInt(p?.tokens) || !isSchedule(p.winner) || typeof p.ms !== "object" || p.ms === null) return `${at}.points[${i}] is not { tokens, ms, winner }`;
    }
  }
  return undefined;
}
