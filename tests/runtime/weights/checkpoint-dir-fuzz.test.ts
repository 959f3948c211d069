// Seeded fuzzing of checkpoint directories through the real loader (loadCheckpointDir: the
// directory, its index, every shard's header, config.json, the name map, the binder): a tiny
// Mixtral in 3 shards with model.safetensors.index.json, then per case 1–3 edits — the index's
// JSON mutated (entries moved to another or a missing shard, paths out of the directory, wrong
// types, entries deleted or added, the text truncated or corrupted), shards deleted, added or
// renamed, a shard's header mutated (tests/helpers/safetensors-mutate.ts), config.json broken,
// model.safetensors added beside the index. Every case is a load whose every weight reads with
// its canonical length, or a refusal whose every error names the directory's file or a tensor;
// nothing may throw. FUZZ_SEED / FUZZ_CASES drive it (scripts/fuzz-loaders.mjs --loader checkpoint).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile, hfCheckpointNames } from "../../../compiler/index.js";
import { SafetensorsError } from "../../../runtime/safetensors/errors.js";
import { loadCheckpointDir } from "../../../runtime/weights/load-checkpoint.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import type { Prng } from "../../helpers/frontend/prng.js";
import { CaseProblem, FUZZ_RSS_LIMIT_MIB, fuzzSettings, fuzzTimeout, runFuzz, unnamedError } from "../../helpers/fuzz-loop.js";
import { mixtralHfTensors, writeHfCheckpoint } from "../../helpers/hf-checkpoint.js";
import { mutateSafetensors } from "../../helpers/safetensors-mutate.js";

const settings = fuzzSettings(200, 0xc4ec);
const root = mkdtempSync(path.join(tmpdir(), "moec-ckpt-fuzz-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIZES = { V: 32, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 };
const compiled = compile({ file: path.resolve("examples/models/mixtral_8x7b.moe"), set: SIZES });
if (!compiled.ok) throw new Error(compiled.formatDiagnostics());
const program = compiled.program!;
const names = hfCheckpointNames(compiled);
const weights = randomWeights(program, 3);
const baseDir = path.join(root, "base");
writeHfCheckpoint(baseDir, mixtralHfTensors(weights, SIZES), { shards: 3, config: { model_type: "mixtral" } });
const ORIGINAL = new Map(readdirSync(baseDir).map((f) => [f, new Uint8Array(readFileSync(path.join(baseDir, f)))]));
const SHARDS = [...ORIGINAL.keys()].filter((f) => f.endsWith(".safetensors"));
const INDEX = "model.safetensors.index.json";
const INDEX_JSON = JSON.parse(Buffer.from(ORIGINAL.get(INDEX)!).toString("utf8")) as { metadata: unknown; weight_map: Record<string, unknown> };
const TENSORS = Object.keys(INDEX_JSON.weight_map);

const ODD_VALUES: unknown[] = [null, 0, -1, 1.5, "", ".", "..", "../model-00001-of-00003.safetensors", "/etc/passwd", "a\\b.safetensors", "missing.safetensors", "config.json", INDEX, [], {}, true, "x".repeat(300)];

function mutateIndex(r: Prng): string {
  const j = structuredClone(INDEX_JSON) as Record<string, any>;
  for (let k = 1 + r.int(3); k > 0; k--) {
    const roll = r.int(7);
    const tensor = r.pick(TENSORS);
    const map = j.weight_map;
    // Entry edits need the map an earlier edit may have replaced.
    if (roll < 4 && (map === null || typeof map !== "object" || Array.isArray(map))) continue;
    if (roll === 0) j.weight_map[tensor] = r.pick(SHARDS);
    else if (roll === 1) j.weight_map[tensor] = r.pick(ODD_VALUES);
    else if (roll === 2) delete j.weight_map[tensor];
    else if (roll === 3) j.weight_map[`model.layers.${r.int(9)}.extra.weight`] = r.pick(SHARDS);
    else if (roll === 4) j.weight_map = r.pick<unknown>([null, [], "x", 3, {}, { ...j.weight_map, __proto__: r.pick(SHARDS) }]);
    else if (roll === 5) j.metadata = r.pick(ODD_VALUES);
    else delete j[r.pick(["weight_map", "metadata"])];
  }
  const text = JSON.stringify(j, null, r.next() < 0.5 ? 2 : undefined);
  const roll = r.next();
  if (roll < 0.1) return text.slice(0, r.int(text.length));
  if (roll < 0.2) {
    const at = r.int(text.length);
    return text.slice(0, at) + r.pick(["}", "\"", ",", "]", "\u0000", "\ud800", "9"]) + text.slice(at + 1);
  }
  return text;
}

/** Lays the directory out for one case; returns what was done. */
function layOut(dir: string, r: Prng): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const [f, b] of ORIGINAL) writeFileSync(path.join(dir, f), b);
  const done: string[] = [];
  for (let k = 1 + (r.next() < 0.6 ? 0 : r.int(3)); k > 0; k--) {
    const roll = r.int(10);
    const shard = r.pick(SHARDS);
    if (roll < 3) {
      writeFileSync(path.join(dir, INDEX), mutateIndex(r));
      done.push("index");
    } else if (roll < 6) {
      const p = path.join(dir, shard);
      if (existsSync(p)) writeFileSync(p, mutateSafetensors(new Uint8Array(readFileSync(p)), r));
      done.push(`header of ${shard}`);
    } else if (roll === 6) {
      rmSync(path.join(dir, shard), { force: true });
      done.push(`${shard} deleted`);
    } else if (roll === 7) {
      const p = path.join(dir, shard);
      const other = r.pick(SHARDS);
      if (existsSync(p)) renameSync(p, path.join(dir, other === shard ? "renamed.safetensors" : other));
      done.push(`${shard} renamed`);
    } else if (roll === 8) {
      writeFileSync(path.join(dir, "config.json"), r.pick(["", "[]", "null", "{", '{"model_type": 3}', '{"model_type": "mixtral", "quantization_config": 1}', '{"model_type": "mixtral", "quantization_config": {"quant_method": "gptq", "bits": 3}}', '{"model_type": "llama"}']));
      done.push("config.json");
    } else {
      // model.safetensors beside the index (it wins, as in transformers): one shard's bytes, mutated or not.
      const b = ORIGINAL.get(shard)!;
      writeFileSync(path.join(dir, "model.safetensors"), r.next() < 0.5 ? b : mutateSafetensors(b, r));
      done.push("model.safetensors added");
    }
  }
  return done;
}

describe(`checkpoint directory fuzz: ${settings.cases} mutated directories (seed ${settings.seed})`, () => {
  it("loads every weight or refuses with errors naming the file or tensor", async () => {
    const dir = path.join(root, "case");
    let loaded = 0;
    const report = await runFuzz("checkpoint", settings, (_i, rng) => {
      const done = layOut(dir, rng).join(", ");
      const r = loadCheckpointDir(program, dir, { names });
      if (!r.ok) {
        if (r.errors.length === 0) throw new CaseProblem(`${done}: a refusal without errors`);
        for (const e of r.errors) {
          if (!(e.message.trim().length > 10 && (e.message.includes(dir) || (e.tensor !== "" && e.message.includes(e.tensor))))) {
            throw new CaseProblem(`${done}: an error naming neither the directory's file nor its tensor: ${JSON.stringify(e)}`);
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
          const problem = unnamedError(e, [SafetensorsError], dir);
          if (problem) throw new CaseProblem(`${done}: reading ${k}: ${problem}`);
          continue;
        }
        if (v.length !== weights.get(k)!.length) throw new CaseProblem(`${done}: ${k} read ${v.length} values, the program has ${weights.get(k)!.length}`);
      }
      return "clean";
    });
    expect(report.failures).toEqual([]);
    expect(report.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
    if (report.cases >= 200) {
      expect(loaded).toBeGreaterThan(report.cases / 50);
      expect(report.rejected).toBeGreaterThan(report.cases / 4);
    }
  }, fuzzTimeout(settings.cases, 100));
});
