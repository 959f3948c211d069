// Reporter: one line per missing need at the end of a run, e.g.
//   moec tests: 151 tests skipped: no WebGPU adapter: … (run bash scripts/setup.sh, …)
// counting skipped tests tagged (or inside a suite tagged) by tests/helpers/needs.ts. Silent
// when nothing was skipped for a need.
import type { Reporter, TestCase, TestModule, Vitest } from "vitest/node";
import type {} from "../helpers/needs.js";

function missingOf(test: TestCase): string | undefined {
  if (test.meta().missing) return test.meta().missing;
  for (let p = test.parent; p.type === "suite"; p = p.parent) if (p.meta().missing) return p.meta().missing;
  return undefined;
}

export default class NeedsReporter implements Reporter {
  private vitest!: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>): Promise<void> {
    const counts = new Map<string, number>();
    for (const m of modules) {
      for (const t of m.children.allTests("skipped")) {
        const missing = missingOf(t);
        if (missing) counts.set(missing, (counts.get(missing) ?? 0) + 1);
      }
    }
    // After the default reporter's summary, which vitest 3 prints from onFinished, called next.
    if (counts.size) await new Promise((resolve) => setImmediate(resolve));
    for (const [missing, n] of [...counts].sort((a, b) => b[1] - a[1])) {
      this.vitest.logger.log(`moec tests: ${n} test${n === 1 ? "" : "s"} skipped: ${missing}`);
    }
  }
}
