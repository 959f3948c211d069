// Fuzzing the config reader: random mutations of each (small) fixture — fields deleted or given
// wrong types, negative, zero, fractional or huge values, nested rope_scaling fields changed, and
// the JSON text truncated or corrupted. Every mutant must be either a named HfConfigError or a
// program that checks without errors; never another exception.
import { describe, expect, it } from "vitest";
import { HfConfigError } from "../../../../compiler/hf/import/import-config.js";
import { FAMILIES, importAndCheck, smallFixture } from "../../../helpers/hf-configs.js";
import { rng } from "../../../helpers/random.js";


const VALUES: unknown[] = [null, -1, 0, 1, 2, 3, 2.5, 1e300, 2 ** 40, 2 ** 31 - 1, -1e-9, "x", "silu", "yarn", true, false, [], [0], [1, 2], {}, { type: "yarn" }];
const MUTANTS_PER_FAMILY = 30;

function mutate(base: Record<string, any>, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const c = structuredClone(base);
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const key = pick(Object.keys(c));
    const target = c[key] && typeof c[key] === "object" && !Array.isArray(c[key]) && r() < 0.5 ? c[key] : c;
    const k = target === c ? key : pick(Object.keys(target).length ? Object.keys(target) : ["factor"]);
    if (r() < 0.25) delete target[k];
    else target[k] = pick(VALUES);
  }
  const text = JSON.stringify(c, null, 2);
  const roll = r();
  if (roll < 0.08) return text.slice(0, Math.floor(r() * text.length));
  if (roll < 0.12) {
    const at = Math.floor(r() * text.length);
    return text.slice(0, at) + pick(["}", "\"", ",", "x", "\u0000"]) + text.slice(at + 1);
  }
  return text;
}

describe("config reader fuzz", () => {
  for (const family of FAMILIES) {
    it(`${family}: ${MUTANTS_PER_FAMILY} mutants are named errors or checking programs`, async () => {
      const base = smallFixture(family);
      let imported = 0, refused = 0;
      for (let i = 0; i < MUTANTS_PER_FAMILY; i++) {
        const seed = FAMILIES.indexOf(family) * 1000 + i;
        const text = mutate(base, rng(seed));
        try {
          const { res } = await importAndCheck(text, "fuzz/config.json");
          const errors = res.diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
          expect({ seed, errors }).toEqual({ seed, errors: [] });
          expect(res.info).toBeDefined();
          imported++;
        } catch (e) {
          if (!(e instanceof HfConfigError)) throw new Error(`seed ${seed}: ${(e as Error).stack}\n${text}`);
          expect(e.message).toMatch(/^fuzz\/config\.json: /);
          refused++;
        }
      }
      // Both outcomes occur, so the mutations reach the reader's checks and its programs.
      expect(imported + refused).toBe(MUTANTS_PER_FAMILY);
      expect(imported).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    });
  }
});
