#!/usr/bin/env node
// Large fuzz runs of the loaders (issue 17): runs one loader's fuzz test in chunks of --chunk
// cases, each chunk with its own seed (--seed, --seed + 1, …), until --cases cases have run, and
// prints one line per chunk and a total per loader. A chunk that fails prints its failing cases
// (each names FUZZ_SEED and the case index: FUZZ_SEED=S FUZZ_ONLY=i npx vitest run FILE reruns it).
//
//   node scripts/fuzz-loaders.mjs --loader NAME|all --cases 100000 [--chunk 10000] [--seed 1]
//
// The front end's own fuzzer is scripts/fuzz-sources.mjs. Record large runs in bench/RESULTS.md
// ("Fuzzing the loaders").
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Each loader's fuzz test; its summary line is `fuzz[NAME]: …` (tests/helpers/fuzz-loop.ts). */
const LOADERS = {
  safetensors: "tests/runtime/safetensors/safetensors-fuzz.test.ts",
  checkpoint: "tests/runtime/weights/checkpoint-dir-fuzz.test.ts",
  config: "tests/compiler/hf/import/config-fuzz.test.ts",
  tokenizer: "tests/runtime/text/tokenizer-fuzz.test.ts",
  gguf: "tests/runtime/weights/gguf/gguf-fuzz.test.ts",
  lsp: "tests/compiler/lsp/lsp-fuzz.test.ts",
};
const usage = `usage: node scripts/fuzz-loaders.mjs --loader ${Object.keys(LOADERS).join("|")}|all [--cases N] [--chunk N] [--seed S]`;

const opts = { loader: undefined, cases: 100_000, chunk: 10_000, seed: 1 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i]?.replace(/^--/, "");
  const raw = argv[i + 1];
  if (key === "loader" && raw !== undefined && (raw === "all" || raw in LOADERS)) {
    opts.loader = raw;
    continue;
  }
  const value = Number(raw);
  if (key === "loader" || !(key in opts) || !Number.isInteger(value) || value < 1) {
    console.error(`fuzz-loaders: ${key === "loader" ? `unknown loader \`${raw ?? ""}\`` : `bad option \`${argv[i]} ${raw ?? ""}\``}\n${usage}`);
    process.exit(2);
  }
  opts[key] = value;
}
if (opts.loader === undefined) {
  console.error(`fuzz-loaders: --loader is required\n${usage}`);
  process.exit(2);
}

const SUMMARY = /fuzz\[(\w+)\]: (\d+) cases in ([\d.]+) s, (\d+) rejected, (\d+) failing, slowest case (\d+) ms, peak rss (\d+) MiB/;

function runLoader(name) {
  let done = 0, rejected = 0, failing = 0, slowest = 0, peakRss = 0;
  const started = Date.now();
  for (let seed = opts.seed; done < opts.cases; seed++) {
    const cases = Math.min(opts.chunk, opts.cases - done);
    const r = spawnSync("npx", ["vitest", "run", LOADERS[name]], {
      cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, FUZZ_CASES: String(cases), FUZZ_SEED: String(seed), MOEC_TEST_NO_GPU: "1" },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    const m = SUMMARY.exec(out);
    if (!m || m[1] !== name) {
      console.error(`fuzz-loaders: ${name}, seed ${seed}: the fuzz test did not report (exit ${r.status}):\n${out.slice(-4000)}`);
      return { name, done, rejected, failing: failing + 1, slowest, peakRss, seconds: (Date.now() - started) / 1000, broken: true };
    }
    done += Number(m[2]);
    rejected += Number(m[4]);
    failing += Number(m[5]);
    slowest = Math.max(slowest, Number(m[6]));
    peakRss = Math.max(peakRss, Number(m[7]));
    console.log(`${name} seed ${seed}: ${m[2]} cases in ${m[3]} s, ${m[4]} rejected, ${m[5]} failing, slowest case ${m[6]} ms, peak rss ${m[7]} MiB`);
    if (r.status !== 0) {
      const at = out.indexOf("case ");
      console.log(at >= 0 ? out.slice(at, at + 4000) : out.slice(-4000));
    }
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`${name} total: ${done} cases in ${seconds.toFixed(0)} s, ${rejected} rejected, ${failing} failing, slowest case ${slowest} ms, peak rss ${peakRss} MiB`);
  return { name, done, rejected, failing, slowest, peakRss, seconds };
}

const names = opts.loader === "all" ? Object.keys(LOADERS) : [opts.loader];
const results = names.map(runLoader);
process.exit(results.some((r) => r.failing > 0) ? 1 : 0);
