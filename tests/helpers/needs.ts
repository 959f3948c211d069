// Tests that need something optional (a WebGPU adapter, a tool on PATH) say so through these
// helpers: where it is missing they are skipped, and tagged with the reason, so that the run ends
// with one line per reason (tests/setup/needs-reporter.ts) instead of failures or hangs.
import { describe, it, type TestFunction } from "vitest";
import { getCurrentSuite } from "vitest/suite";

declare module "vitest" {
  interface ProvidedContext {
    /** Whether there is a WebGPU adapter: probed once per run by tests/setup/gpu-probe.ts. */
    gpu: Need;
  }
}

declare module "@vitest/runner" {
  interface TaskMeta {
    /** Set only on tasks skipped for a missing need: what is missing and how to get it. */
    missing?: string;
  }
}

export interface Need {
  available: boolean;
  /** What the summary line says when it is not, e.g. "no nvim on PATH (…)". */
  missing: string;
}

// The suite collector's latest task is the one `describe`/`it` just registered.
function tagLast(need: Need): void {
  if (need.available) return;
  const last = getCurrentSuite().tasks.at(-1);
  const task = last && ("type" in last && last.type === "collector" ? last.suite : last);
  if (!task) throw new Error("needs.ts: vitest registered no task to tag (its collector API changed?)");
  task.meta.missing = need.missing;
}

/** `describe` whose every test needs `need`; skipped (hooks included) without it. */
export function describeNeeding(need: Need, name: string, fn: () => void): void {
  describe.skipIf(!need.available)(name, fn);
  tagLast(need);
}

/** `it` that needs `need`; skipped without it. */
export function itNeeding(need: Need, name: string, fn: TestFunction, timeout?: number): void {
  it.skipIf(!need.available)(name, fn, timeout);
  tagLast(need);
}
