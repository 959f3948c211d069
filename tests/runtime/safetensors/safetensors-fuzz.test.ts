// Seeded fuzzing of the reader: valid files mutated at random (truncation, byte flips, header
// text edits, header length, offsets, shapes, dtypes). Every case must either parse — and then
// every accessor must work or throw SafetensorsError — or throw SafetensorsError naming the file.
// Anything else (RangeError, TypeError, SyntaxError, a hang) is a bug. Every fourth case goes
// through a file on disk and the lazy reader (openSafetensors, what checkpoint directories use),
// reading every tensor. FUZZ_SEED / FUZZ_CASES drive it (scripts/fuzz-loaders.mjs --loader safetensors).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SafetensorsError } from "../../../runtime/safetensors/errors.js";
import { openSafetensors, readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors } from "../../../runtime/safetensors/writer.js";
import { SAFETENSORS_MUTATORS, mutateSafetensors } from "../../helpers/safetensors-mutate.js";
import { CaseProblem, FUZZ_RSS_LIMIT_MIB, fuzzSettings, fuzzTimeout, runFuzz, unnamedError } from "../../helpers/fuzz-loop.js";

const settings = fuzzSettings(3000, 0x5afe7e45);
const scratch = mkdtempSync(path.join(tmpdir(), "moec-st-fuzz-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const BASES: Uint8Array[] = [
  encodeSafetensors({
    "E.w_up": { dtype: "F32", shape: [2, 3, 4], data: Array.from({ length: 24 }, (_, i) => i / 7) },
    "r.weight": { dtype: "F16", shape: [4, 4], data: Array.from({ length: 16 }, (_, i) => i - 8) },
    "g.bias": { dtype: "BF16", shape: [3], data: [1, -1, 0.5] },
  }, { format: "pt" }),
  encodeSafetensors({
    tokens: { dtype: "I64", shape: [5], data: [1, 2, 3, 2 ** 40, -1] },
    ids: { dtype: "I32", shape: [2, 2], data: [0, 1, 2, 3] },
    empty: { dtype: "F32", shape: [0, 8], data: [] },
  }),
  encodeSafetensors({ x: { dtype: "F32", shape: [], data: [42] } }),
];

const ELEMENT_BYTES = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 } as const;

describe(`safetensors reader fuzz: ${settings.cases} mutated files (seed ${settings.seed})`, () => {
  it("either parses or throws SafetensorsError naming the file", async () => {
    const names = Object.keys(SAFETENSORS_MUTATORS);
    let parsed = 0, accessorErrors = 0;
    const report = await runFuzz("safetensors", settings, (i, rng) => {
      const bytes = mutateSafetensors(rng.pick(BASES), rng, names[i % names.length]!);
      const onDisk = i % 4 === 3;
      const label = onDisk ? "fuzz.safetensors" : "fuzz.st";
      const named = (e: unknown, where: string) => {
        const problem = unnamedError(e, [SafetensorsError], `${label}: `);
        if (problem) throw new CaseProblem(`${where}: ${problem}`);
      };
      if (onDisk) {
        const file = path.join(scratch, "case.safetensors");
        writeFileSync(file, bytes);
        let f;
        try {
          f = openSafetensors(file, label);
        } catch (e) {
          named(e, "openSafetensors");
          return "rejected";
        }
        parsed++;
        for (const [name, t] of f.tensors) {
          const got = t.read();
          if (got.byteLength !== t.byteLength || t.byteLength !== t.shape.reduce((a, d) => a * d, 1) * ELEMENT_BYTES[t.dtype as keyof typeof ELEMENT_BYTES]) {
            throw new CaseProblem(`tensor ${name}: read ${got.byteLength} bytes, header says ${t.byteLength} for ${t.dtype} ${JSON.stringify(t.shape)}`);
          }
        }
        return "clean";
      }
      let f;
      try {
        f = readSafetensors(bytes, label);
      } catch (e) {
        named(e, "readSafetensors");
        return "rejected";
      }
      parsed++;
      for (const [name, t] of f.tensors) {
        if (t.bytes.byteLength !== t.shape.reduce((a, d) => a * d, 1) * ELEMENT_BYTES[t.dtype as keyof typeof ELEMENT_BYTES]) {
          throw new CaseProblem(`tensor ${name}: ${t.bytes.byteLength} bytes for ${t.dtype} ${JSON.stringify(t.shape)}`);
        }
        for (const get of [f.getF32, f.getI32]) {
          try {
            get(name);
          } catch (e) {
            named(e, `tensor ${name}`);
            accessorErrors++;
          }
        }
      }
      return "clean";
    });
    expect(report.failures).toEqual([]);
    expect(report.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
    // Both outcomes must occur often, or the mutators are not exercising anything.
    if (report.cases >= 1000) {
      expect(parsed).toBeGreaterThan(report.cases / 30);
      expect(report.rejected).toBeGreaterThan(report.cases / 3);
      expect(accessorErrors).toBeGreaterThan(0);
    }
  }, fuzzTimeout(settings.cases, 20));
});
