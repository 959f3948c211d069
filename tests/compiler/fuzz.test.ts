// Property test of the front end on mutated programs: every example and contract file is mutated
// (tokens deleted, duplicated, swapped, inserted from the lexer's vocabulary; truncation; random
// bytes and unicode; shuffled lines; spliced token runs) and checked through an in-memory
// SourceHost. For every input:
//   - parsing and checking never throw ("parsing never fails", DESIGN.md);
//   - every diagnostic has a code, a severity, a non-empty message, and a range 0 ≤ start ≤ end ≤
//     length in a file of the unit (secondary labels too);
//   - rendering (text and JSON) never throws and names the right line:column;
//   - a program without errors goes on through entryInfo and lowerEntry without throwing;
//   - checking the same text twice gives the same diagnostics;
//   - text that parses without errors formats, and the formatted text parses without errors and
//     formats to itself (the formatter accepts everything the parser accepts);
//   - every case finishes within CASE_LIMIT_MS (depth and size limits keep it bounded).
// Cases are seeded: FUZZ_SEED=S FUZZ_CASES=N reproduce or extend a run (FUZZ_CASES=10000 on demand).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles, entryInfo, lowerEntry, selectEntry } from "../../compiler/driver.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { LineIndex } from "../../compiler/diagnostics/line-index.js";
import { SourceCache, diagnosticToJson, renderDiagnostic, renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { SourceHost } from "../../compiler/semantic/module-loader.js";
import { Prng } from "../helpers/frontend/prng.js";
import { mutateRandomly } from "../helpers/frontend/mutate.js";
import { parseSource } from "../../compiler/syntax/parse.js";
import { formatMoe } from "../../compiler/format/format-moe.js";
import { FIXTURES, REPO_ROOT, moeFilesUnder, rel } from "../helpers/frontend/paths.js";

// 2,000 cases (with formatting) take about 25 s on the loaded 2-core machine; 10,000 or
// more run on demand with FUZZ_CASES (see bench/RESULTS.md for the last such run).
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20250101);
/** One case (check, info, IR, format) takes milliseconds to ~3 s; on the shared 2-core machine a pause of 10 s happened under load, so 30 s (the issue asks for 60 s). */
const CASE_LIMIT_MS = 30_000;

const sourceFiles = [...moeFilesUnder(path.join(REPO_ROOT, "examples")), ...moeFilesUnder(path.join(FIXTURES, "contract"))];
const originals = new Map(sourceFiles.map((f) => [f, fs.readFileSync(f, "utf8")]));

/** The mutated root file; the other files (imports) as they are on disk. */
function hostWith(root: string, text: string): SourceHost {
  const disk = (f: string) => {
    try {
      return fs.readFileSync(f, "utf8"); // a mutated import path may name a directory
    } catch {
      return undefined;
    }
  };
  return { readFile: (f) => (f === root ? text : originals.get(f) ?? disk(f)) };
}

function checkDiagnostic(d: Diagnostic, texts: Map<string, string>, problems: string[]): void {
  const where = `${d.code} ${JSON.stringify(d.message)}`;
  if (!/^[EW]\d{4}$/.test(d.code)) problems.push(`bad code ${where}`);
  if (!["error", "warning", "note"].includes(d.severity)) problems.push(`bad severity ${d.severity} ${where}`);
  if (typeof d.message !== "string" || d.message.trim() === "") problems.push(`empty message ${where}`);
  const ranges = [{ file: d.file, span: d.span, what: "primary" }, ...d.secondary.map((l) => ({ file: l.file, span: l.span, what: `label ${JSON.stringify(l.message)}` }))];
  for (const r of ranges) {
    const text = texts.get(r.file);
    if (text === undefined) {
      problems.push(`${where}: ${r.what} in a file outside the unit: ${r.file}`);
      continue;
    }
    const { start, end } = r.span;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= text.length)) {
      problems.push(`${where}: ${r.what} range [${start}, ${end}) outside 0..${text.length}`);
    }
  }
  for (const l of d.secondary) if (typeof l.message !== "string") problems.push(`${where}: label without a message`);
}

/** Formats text that parses cleanly; the result must parse cleanly and be a fixed point. */
async function checkFormatting(text: string, problems: string[]): Promise<void> {
  if (parseSource(text, "/fuzz/case.moe").diagnostics.some((d) => d.severity === "error")) return;
  try {
    const once = await formatMoe(text, {});
    const errors = parseSource(once, "/fuzz/case.moe").diagnostics.filter((d) => d.severity === "error");
    if (errors.length) problems.push(`formatted text does not parse: ${errors[0]!.code} ${errors[0]!.message}`);
    else if ((await formatMoe(once, {})) !== once) problems.push("formatting is not idempotent");
  } catch (e) {
    problems.push(`formatter threw on text that parses: ${(e as Error).message.split("\n")[0]}`);
  }
}

function runCase(i: number): { problems: string[]; errors: number; applied: string; text: string } {
  const rng = new Prng(SEED + i * 7919);
  const root = sourceFiles[i % sourceFiles.length]!;
  const { text, applied } = mutateRandomly(originals.get(root)!, rng);
  const problems: string[] = [];
  const host = hostWith(root, text);
  let errors = 0;
  try {
    const c = checkFiles([root], { host });
    const texts = new Map([...c.unit.files].map(([f, sf]) => [f, sf.text]));
    if (!texts.has(root)) problems.push("the root file is not in the unit");
    for (const d of c.diagnostics) checkDiagnostic(d, texts, problems);
    errors = c.diagnostics.filter((d) => d.severity === "error").length;
    // Rendering: every diagnostic, text and JSON, and the header names its line:column.
    const sources = new SourceCache((f) => texts.get(f));
    renderDiagnostics(c.diagnostics, sources, { color: true, cwd: REPO_ROOT });
    for (const d of c.diagnostics) {
      const out = renderDiagnostic(d, sources, { cwd: REPO_ROOT });
      const p = new LineIndex(texts.get(d.file) ?? "").position(d.span.start);
      if (!d.fileLevel && !out.split("\n")[0]!.includes(`:${p.line}:${p.column}: `)) problems.push(`${d.code}: rendered header does not name ${p.line}:${p.column}`);
      const j = diagnosticToJson(d, sources, REPO_ROOT);
      if (j.line !== p.line || j.column !== p.column) problems.push(`${d.code}: JSON position ${j.line}:${j.column}, expected ${p.line}:${p.column}`);
    }
    // Same input, same diagnostics (no state leaks between compilations).
    if (i % 25 === 0) {
      const again = checkFiles([root], { host: hostWith(root, text) });
      const key = (ds: Diagnostic[]) => JSON.stringify(ds.map((d) => [d.code, d.file, d.span, d.message]));
      if (key(again.diagnostics) !== key(c.diagnostics)) problems.push("checking the same text twice gave different diagnostics");
    }
    // An error-free program goes on to the entry's counts and its IR.
    if (errors === 0) {
      const sel = selectEntry(c, root);
      const entry = sel.decl?.name.name ?? c.unit.files.get(root)?.program.decls.find((d) => d.kind === "Layer" || d.kind === "Graph")?.name.name;
      if (entry) {
        const info = entryInfo([root], { host, entry });
        for (const d of info.diagnostics) checkDiagnostic(d, texts, problems);
        lowerEntry([root], { host, entry });
      }
    }
  } catch (e) {
    problems.push(`threw: ${(e as Error).stack ?? String(e)}`);
  }
  return { problems, errors, applied: applied.join("+"), text };
}

describe(`front end on ${CASES} mutated programs (seed ${SEED})`, () => {
  it("never throws and reports well-formed diagnostics", async () => {
    expect(sourceFiles.length).toBeGreaterThanOrEqual(13);
    const failures: string[] = [];
    let withErrors = 0;
    let slowest = 0;
    const started = performance.now();
    for (let i = 0; i < CASES; i++) {
      // Let the test runner's worker breathe during long on-demand runs.
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
      const t0 = performance.now();
      const r = runCase(i);
      await checkFormatting(r.text, r.problems);
      const ms = performance.now() - t0;
      if (ms > CASE_LIMIT_MS) r.problems.push(`took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS})`);
      slowest = Math.max(slowest, ms);
      if (r.errors > 0) withErrors++;
      if (r.problems.length && failures.length < 20) {
        failures.push(`case ${i} (FUZZ_SEED=${SEED}, ${rel(sourceFiles[i % sourceFiles.length]!)}, ${r.applied}):\n  ${r.problems.slice(0, 5).join("\n  ")}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s, ${withErrors} with errors, ${failures.length} failing, slowest case ${slowest.toFixed(0)} ms`);
    expect(failures).toEqual([]);
    // The mutations are not all harmless: most cases must exercise error paths.
    expect(withErrors).toBeGreaterThan(CASES / 2);
    // ~20 s on an idle 2-core machine; error-free mutants of the whole-model examples now lower
    // every layer of their `repeat` stacks, so leave room for a loaded machine.
  }, Math.max(180_000, CASES * 45));
});
