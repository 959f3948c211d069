// Fuzzing the config reader (`moec import`): random mutations of each family's (small) fixture —
// fields deleted or given wrong types, negative, zero, fractional, huge or NaN-ish values, nested
// rope_scaling fields changed, and the JSON text truncated or corrupted. Every mutant must be
// either a named HfConfigError whose message names the file (and the field, where it is one), a
// program refused only by the checker's size limits (E050x), or a program that checks without
// errors; never another exception, each within the time bound.
// Every case runs the reader (planFromConfig); a config it accepts goes on through importHfConfig
// (emit, format) and the checker. FUZZ_SEED / FUZZ_CASES drive it
// (scripts/fuzz-loaders.mjs --loader config).
import { describe, expect, it } from "vitest";
import { HfConfigError, planFromConfig } from "../../../../compiler/hf/import/import-config.js";
import { CaseProblem, FUZZ_RSS_LIMIT_MIB, fuzzSettings, fuzzTimeout, runFuzz, unnamedError } from "../../../helpers/fuzz-loop.js";
import { FAMILIES, importAndCheck, smallFixture } from "../../../helpers/hf-configs.js";
import type { Prng } from "../../../helpers/frontend/prng.js";

const settings = fuzzSettings(300, 20250);

const VALUES: unknown[] = [
  null, -1, 0, 1, 2, 3, 2.5, 1e300, 2 ** 40, 2 ** 31 - 1, 2 ** 31, -1e-9, -0, "x", "silu", "yarn", "NaN", "Infinity", "-1", "1e999", "0x10", "",
  true, false, [], [0], [1, 2], [-1], {}, { type: "yarn" }, { type: "linear", factor: 2 }, { type: "yarn", factor: "NaN" },
];
const BASES = FAMILIES.map((f) => smallFixture(f));

function mutate(base: Record<string, any>, r: Prng): string {
  const c = structuredClone(base);
  const edits = 1 + r.int(3);
  for (let e = 0; e < edits; e++) {
    const key = r.pick(Object.keys(c));
    const target = c[key] && typeof c[key] === "object" && !Array.isArray(c[key]) && r.next() < 0.5 ? c[key] : c;
    const k = target === c ? key : r.pick(Object.keys(target).length ? Object.keys(target) : ["factor"]);
    if (r.next() < 0.25) delete target[k];
    else target[k] = structuredClone(r.pick(VALUES)); // a copy: the same object twice would nest in itself
  }
  const text = JSON.stringify(c, null, 2);
  const roll = r.next();
  if (roll < 0.08) return text.slice(0, r.int(text.length));
  if (roll < 0.12) {
    const at = r.int(text.length);
    return text.slice(0, at) + r.pick(["}", "\"", ",", "x", "\u0000", "\ud800"]) + text.slice(at + 1);
  }
  return text;
}

describe(`config reader fuzz: ${settings.cases} mutated configs (seed ${settings.seed})`, () => {
  it("named errors or checking programs", async () => {
    let imported = 0;
    const refusedBy = new Set<string>();
    const report = await runFuzz("config", settings, async (i, rng) => {
      const family = FAMILIES[i % FAMILIES.length]!;
      const text = mutate(BASES[i % FAMILIES.length]!, rng);
      try {
        planFromConfig(text, "fuzz/config.json");
        const { res } = await importAndCheck(text, "fuzz/config.json");
        // Each field is bounded by the reader (at most 2^31 - 1); a product of them past the
        // checker's size limits (E050x: tensor elements, total weights) is refused there, by name,
        // before anything is materialised — a named refusal too.
        const all = res.diagnostics.filter((d) => d.severity === "error");
        if (all.length && all.every((d) => /^E050\d$/.test(d.code))) return "rejected";
        const errors = all.map((d) => `${d.code} ${d.message}`);
        if (errors.length || !res.info) throw new CaseProblem(`${family}: the imported program does not check: ${errors.slice(0, 3).join("; ")}\n${text}`);
      } catch (e) {
        if (e instanceof CaseProblem) throw e;
        const problem = unnamedError(e, [HfConfigError], "fuzz/config.json: ");
        if (problem) throw new CaseProblem(`${family}: ${problem}\n${text}`);
        refusedBy.add(family);
        return "rejected";
      }
      imported++;
      return "clean";
    });
    expect(report.failures).toEqual([]);
    expect(report.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
    // Both outcomes occur, for every family, so the mutations reach the reader's checks and its programs.
    if (report.cases >= 300) {
      expect(imported).toBeGreaterThan(report.cases / 20);
      expect([...refusedBy].sort()).toEqual([...FAMILIES].sort());
    }
  }, fuzzTimeout(settings.cases, 200));
});
