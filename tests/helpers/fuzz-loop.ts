// The loop every loader fuzz test shares: FUZZ_SEED / FUZZ_CASES from the environment (a small
// default for CI, 10^5 by scripts/fuzz-loaders.mjs), one seeded Prng per case, a time bound per
// case, a named-error check, and one summary line the script parses:
//   fuzz[NAME]: N cases in S s, R rejected, F failing, slowest case M ms, peak rss P MiB
// A failing case is reported with its seed and index; FUZZ_SEED=S FUZZ_ONLY=i runs it alone.
import { Prng } from "./frontend/prng.js";

export interface FuzzSettings {
  /** FUZZ_CASES, else the CI default. */
  cases: number;
  /** FUZZ_SEED, else the test's fixed seed. */
  seed: number;
}

export function fuzzSettings(defaultCases: number, defaultSeed: number): FuzzSettings {
  const read = (name: string, dflt: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw === "") return dflt;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name}=${raw}: expected a non-negative integer`);
    return v;
  };
  return { cases: read("FUZZ_CASES", defaultCases), seed: read("FUZZ_SEED", defaultSeed) };
}

/** What one case came to: a clean result, or the loader's named error (a rejection). */
export type CaseOutcome = "clean" | "rejected";

/** A thrown value as a problem, unless it is one of `named` and its message starts with `prefix`
 *  (the file, as the loader was told to show it): undefined then. */
export function unnamedError(e: unknown, named: readonly (abstract new (...args: never[]) => Error)[], prefix: string | RegExp): string | undefined {
  if (!named.some((c) => e instanceof c)) {
    return `threw ${e instanceof Error ? e.constructor.name : typeof e}, not ${named.map((c) => c.name).join(" or ")}: ${e instanceof Error ? e.stack : String(e)}`;
  }
  const message = (e as Error).message;
  const ok = typeof prefix === "string" ? message.startsWith(prefix) : prefix.test(message);
  if (!ok) return `${(e as Error).name}'s message does not name the file (${String(prefix)}): ${JSON.stringify(message.slice(0, 300))}`;
  return undefined;
}

/** Thrown by a case's own checks: the problem, not an exception of the loader. */
export class CaseProblem extends Error {}

export interface FuzzReport {
  /** Cases run (one with FUZZ_ONLY). */
  cases: number;
  rejected: number;
  failures: string[];
  slowestMs: number;
  peakRssMiB: number;
}

/**
 * Runs `cases` cases: `runCase(i, rng)` returns what the case came to, or throws (CaseProblem for a
 * check that failed; anything else is an escape from the loader). Each case must finish within
 * `caseLimitMs`. Prints the summary line; the caller asserts on the report.
 */
export async function runFuzz(
  name: string,
  settings: FuzzSettings,
  runCase: (i: number, rng: Prng) => CaseOutcome | Promise<CaseOutcome>,
  opts: { caseLimitMs?: number } = {},
): Promise<FuzzReport> {
  const limit = opts.caseLimitMs ?? 2000;
  const failures: string[] = [];
  let ran = 0, failing = 0, rejected = 0, slowest = 0, peakRss = process.memoryUsage().rss;
  const started = performance.now();
  // FUZZ_ONLY=i runs case i alone (of the same seed): how a reported case is reproduced.
  const only = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
  for (let i = only ?? 0; i < (only === undefined ? settings.cases : only + 1); i++) {
    // Distinct streams for every (seed, case) of a chunked run: seeds 1, 2, … with up to 10^6 cases each.
    const rng = new Prng((settings.seed * 1_000_003 + i) >>> 0);
    const t0 = performance.now();
    ran++;
    let problem: string | undefined;
    try {
      if ((await runCase(i, rng)) === "rejected") rejected++;
    } catch (e) {
      problem = e instanceof CaseProblem ? e.message : `escaped the loader: ${e instanceof Error ? e.stack : String(e)}`;
    }
    const ms = performance.now() - t0;
    if (problem === undefined && ms > limit) {
      // On the shared machine a busy neighbour can stall one case; a slow case is timed again
      // (same seed, same input) and fails the bound only if it is slow both times.
      const t1 = performance.now();
      try {
        await runCase(i, new Prng((settings.seed * 1_000_003 + i) >>> 0));
      } catch {
        // Its outcome was judged the first time.
      }
      const again = performance.now() - t1;
      if (again > limit) problem = `took ${ms.toFixed(0)} ms, then ${again.toFixed(0)} ms timed again (limit ${limit} ms)`;
    }
    slowest = Math.max(slowest, ms);
    if (problem !== undefined) {
      failing++;
      if (failures.length < 20) failures.push(`case ${i} (FUZZ_SEED=${settings.seed}): ${problem.slice(0, 2000)}`);
    }
    if (i % 256 === 255) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      // Let the test runner's worker breathe during long runs.
      await new Promise((r) => setImmediate(r));
    }
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const seconds = (performance.now() - started) / 1000;
  const peakRssMiB = Math.round(peakRss / 2 ** 20);
  console.log(`fuzz[${name}]: ${ran} cases in ${seconds.toFixed(1)} s, ${rejected} rejected, ${failing} failing, slowest case ${slowest.toFixed(0)} ms, peak rss ${peakRssMiB} MiB`);
  return { cases: ran, rejected, failures, slowestMs: slowest, peakRssMiB };
}

/** The process may not grow past this while fuzzing (a loader that allocates what a header claims would). */
export const FUZZ_RSS_LIMIT_MIB = 2048;

/** A vitest timeout for a run of `cases` cases at up to `msPerCase` each. */
export const fuzzTimeout = (cases: number, msPerCase: number) => Math.max(60_000, cases * msPerCase);
