#!/usr/bin/env node
// Large fuzz runs of the front end (parser, checker, formatter): runs
// tests/compiler/fuzz.test.ts in chunks of --chunk cases, each with its own seed, until --cases
// cases have run, and prints one line per chunk and a total. A chunk that fails prints its
// failing cases (each names FUZZ_SEED and the case index, enough to reproduce it alone).
//
//   node scripts/fuzz-sources.mjs --cases 100000 [--chunk 10000] [--seed 1]
//
// Record large runs in bench/RESULTS.md ("Fuzzing").
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const opts = { cases: 100_000, chunk: 10_000, seed: 1 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i]?.replace(/^--/, "");
  const value = Number(argv[i + 1]);
  if (!(key in opts) || !Number.isInteger(value) || value < 1) {
    console.error(`fuzz-sources: usage: node scripts/fuzz-sources.mjs [--cases N] [--chunk N] [--seed S] (got \`${argv[i]} ${argv[i + 1] ?? ""}\`)`);
    process.exit(2);
  }
  opts[key] = value;
}

let done = 0, withErrors = 0, failing = 0, slowest = 0;
const started = Date.now();
for (let seed = opts.seed; done < opts.cases; seed++) {
  const cases = Math.min(opts.chunk, opts.cases - done);
  const r = spawnSync("npx", ["vitest", "run", "tests/compiler/fuzz.test.ts"], {
    cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FUZZ_CASES: String(cases), FUZZ_SEED: String(seed), MOEC_TEST_NO_GPU: "1" },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const m = /fuzz: (\d+) cases in ([\d.]+) s, (\d+) with errors, (\d+) failing, slowest case (\d+) ms/.exec(out);
  if (!m) {
    console.error(`fuzz-sources: seed ${seed}: the fuzz test did not report (exit ${r.status}):\n${out.slice(-4000)}`);
    process.exit(1);
  }
  done += Number(m[1]);
  withErrors += Number(m[3]);
  failing += Number(m[4]);
  slowest = Math.max(slowest, Number(m[5]));
  console.log(`seed ${seed}: ${m[1]} cases in ${m[2]} s, ${m[3]} with errors, ${m[4]} failing, slowest case ${m[5]} ms`);
  if (r.status !== 0) console.log(out.slice(out.indexOf("case "), out.indexOf("case ") + 4000));
}
console.log(`total: ${done} cases in ${((Date.now() - started) / 1000).toFixed(0)} s, ${withErrors} with errors, ${failing} failing, slowest case ${slowest} ms`);
process.exit(failing ? 1 : 0);
