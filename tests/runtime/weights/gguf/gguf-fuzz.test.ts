// Seeded fuzzing of the GGUF loader: a valid tiny Mixtral GGUF (written by `moec quantize`'s
// writer from a Hugging Face directory: Q8_0 matrices, stacked experts, permuted q/k rows) is
// mutated — truncated, grown, bytes flipped in the header or anywhere, the tensor and KV counts,
// the version, string lengths and tensor infos' dims, types and offsets overwritten — and loaded
// through loadGgufFile for the program (openGguf, ggufAsCheckpoint, the binder). Every case is a
// load whose every weight reads with its canonical length (or throws GgufError naming the file),
// or a refusal whose GgufError messages name the file; nothing else may escape, each case within
// the time bound. FUZZ_SEED / FUZZ_CASES drive it (scripts/fuzz-loaders.mjs --loader gguf).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../../compiler/index.js";
import { hfCheckpointNames } from "../../../../compiler/hf/checkpoint-names.js";
import { GgufError } from "../../../../runtime/weights/gguf/gguf-error.js";
import { loadGgufFile } from "../../../../runtime/weights/gguf/load-gguf.js";
import { quantizeCheckpointDir } from "../../../../runtime/weights/gguf/quantize-checkpoint.js";
import { randomWeights } from "../../../../runtime/weights/random-weights.js";
import type { Prng } from "../../../helpers/frontend/prng.js";
import { CaseProblem, FUZZ_RSS_LIMIT_MIB, fuzzSettings, fuzzTimeout, runFuzz, unnamedError } from "../../../helpers/fuzz-loop.js";
import { hfWeights, writeHfCheckpoint } from "../../../helpers/hf-layout.js";
import { FAMILIES } from "../../../helpers/tiny-families.js";

const settings = fuzzSettings(300, 0x6f6f);
const root = mkdtempSync(path.join(tmpdir(), "moec-gguf-fuzz-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const family = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
const hfDir = path.join(root, "hf");
writeHfCheckpoint(hfDir, family.hf, hfWeights(family.hf, 17));
const validFile = path.join(root, "valid.gguf");
const quantized = quantizeCheckpointDir(hfDir, validFile, "q8_0");
if (!quantized.ok) throw new Error(quantized.errors.map((e) => e.message).join("\n"));
const VALID = new Uint8Array(readFileSync(validFile));
const compiled = compile({ file: path.resolve(family.moec.file!), set: family.moec.set! });
if (!compiled.ok) throw new Error(compiled.formatDiagnostics());
const program = compiled.program!;
const names = hfCheckpointNames(compiled.info!.instance, compiled.info!.name, { family: family.map });
/** Each canonical tensor's length, from the program alone. */
const canonicalLength = new Map([...randomWeights(program, 1)].map(([k, v]) => [k, v.length]));

/** Where the header ends: the data section starts at the first tensor's aligned offset; mutate before it. */
const HEADER_BYTES = (() => {
  // The last tensor info ends before the padding; a bound good enough for aiming mutations.
  const text = Buffer.from(VALID).toString("latin1");
  return Math.min(VALID.length, text.lastIndexOf("weight") + 64);
})();

const ODD_U64 = [0n, 1n, 2n, 3n, 255n, 65_536n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

function mutate(src: Uint8Array, r: Prng): { bytes: Uint8Array; what: string } {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  const kind = r.int(9);
  switch (kind) {
    case 0:
      return { bytes: b.slice(0, r.int(b.length)), what: "truncate" };
    case 1: {
      const extra = new Uint8Array(1 + r.int(200));
      for (let i = 0; i < extra.length; i++) extra[i] = r.next() < 0.5 ? 0 : r.int(256);
      return { bytes: new Uint8Array([...b, ...extra]), what: "grow" };
    }
    case 2:
      for (let k = 1 + r.int(6); k > 0; k--) b[r.int(HEADER_BYTES)] = r.int(256);
      return { bytes: b, what: "header bytes" };
    case 3:
      for (let k = 1 + r.int(6); k > 0; k--) b[r.int(b.length)] = r.int(256);
      return { bytes: b, what: "any bytes" };
    case 4: {
      // The tensor count (8) or the KV count (16): off by a little, or absurd.
      const at = r.pick([8, 16]);
      const now = dv.getBigUint64(at, true);
      dv.setBigUint64(at, r.next() < 0.5 ? BigInt.asUintN(64, now + BigInt(r.int(5) - 2)) : r.pick(ODD_U64), true);
      return { bytes: b, what: `count at ${at}` };
    }
    case 5:
      dv.setUint32(4, r.pick([0, 1, 2, 4, 0x03000000, 0xffffffff]), true);
      return { bytes: b, what: "version" };
    case 6: {
      // A u64 anywhere in the header (string lengths, array lengths, dims, offsets are all u64s).
      const at = 24 + r.int(Math.max(1, HEADER_BYTES - 32));
      dv.setBigUint64(at, r.pick(ODD_U64), true);
      return { bytes: b, what: `u64 at ${at}` };
    }
    case 7: {
      // A u32 anywhere in the header (value types, n_dims, ggml types).
      const at = 24 + r.int(Math.max(1, HEADER_BYTES - 28));
      dv.setUint32(at, r.pick([0, 1, 2, 4, 5, 8, 9, 12, 13, 14, 30, 31, 99, 0xffffffff]), true);
      return { bytes: b, what: `u32 at ${at}` };
    }
    default: {
      // A run of the header moved elsewhere (infos shifted by a few bytes).
      const at = 24 + r.int(Math.max(1, HEADER_BYTES - 24)), n = 1 + r.int(16);
      b.copyWithin(at, Math.max(24, at + r.int(9) - 4), at + n);
      return { bytes: b, what: `shifted ${n} bytes at ${at}` };
    }
  }
}

describe(`GGUF loader fuzz: ${settings.cases} mutated files (seed ${settings.seed})`, () => {
  it("loads every weight or refuses with GgufError naming the file", async () => {
    const file = path.join(root, "case.gguf");
    let loaded = 0;
    const report = await runFuzz("gguf", settings, async (_i, rng) => {
      const { bytes, what } = mutate(VALID, rng);
      writeFileSync(file, bytes);
      const named = (e: unknown, where: string) => {
        const problem = unnamedError(e, [GgufError], `${file}: `);
        if (problem) throw new CaseProblem(`${what}: ${where}: ${problem}`);
      };
      let r;
      try {
        r = await loadGgufFile(program, file, { names, forceNames: true });
      } catch (e) {
        named(e, "loadGgufFile threw");
        return "rejected";
      }
      if (!r.ok) {
        if (r.errors.length === 0) throw new CaseProblem(`${what}: a refusal without errors`);
        for (const e of r.errors) {
          if (!(e.message.trim().length > 10 && (e.message.includes(file) || (e.tensor !== "" && e.message.includes(e.tensor))))) {
            throw new CaseProblem(`${what}: an error naming neither the file nor its tensor: ${JSON.stringify(e)}`);
          }
        }
        return "rejected";
      }
      loaded++;
      for (const k of r.weights.keys()) {
        let v;
        try {
          v = r.weights.get(k)!;
        } catch (e) {
          named(e, `reading ${k}`);
          continue;
        }
        if (v.length !== canonicalLength.get(k)) throw new CaseProblem(`${what}: ${k} read ${v.length} values, the layout says ${canonicalLength.get(k)}`);
      }
      return "clean";
    });
    expect(report.failures).toEqual([]);
    expect(report.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
    if (report.cases >= 200) {
      // Both outcomes occur, so the mutations reach the checks and past them.
      expect(loaded).toBeGreaterThan(report.cases / 50);
      expect(report.rejected).toBeGreaterThan(report.cases / 4);
    }
  }, fuzzTimeout(settings.cases, 100));
});
