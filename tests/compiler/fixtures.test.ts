// Fixture-driven tests of the front end (DESIGN.md "Fixture-driven tests"):
//
//   tests/fixtures/parse/NAME.moe     parses without diagnostics; its printed AST is NAME.ast.txt
//   tests/fixtures/recovery/NAME.moe  syntax errors; inline `//~` expectations + NAME.diagnostics.txt
//   tests/fixtures/check/NAME.moe     invalid programs; inline `//~` expectations (written from
//                                     LANGUAGE.md) + NAME.diagnostics.txt (rendered, for review)
//   tests/fixtures/check/imports/     files that check fixtures import (not checked on their own)
//
// Goldens are rewritten with `UPDATE_GOLDEN=1 npx vitest run tests/compiler` and reviewed in the
// diff; inline expectations are never generated.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseSource } from "../../compiler/syntax/parse.js";
import { checkFiles } from "../../compiler/driver.js";
import { printAst } from "../helpers/frontend/ast-printer.js";
import { matchGolden } from "../helpers/frontend/golden.js";
import { compareExpectations, parseExpectations, positioned } from "../helpers/frontend/expectations.js";
import { renderForGolden } from "../helpers/frontend/render.js";
import { FIXTURES, REPO_ROOT, moeFilesUnder, rel } from "../helpers/frontend/paths.js";

function moeFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".moe")).sort().map((f) => path.join(dir, f));
}

/** Goldens whose .moe is gone would silently rot: every golden must belong to a fixture. */
function expectNoOrphanGoldens(dir: string, suffix: string): void {
  const orphans = fs.readdirSync(dir).filter((f) => f.endsWith(suffix) && !fs.existsSync(path.join(dir, f.slice(0, -suffix.length) + ".moe")));
  expect(orphans, `golden files without a fixture in ${rel(dir)}`).toEqual([]);
}

/** Checks one fixture: every inline expectation in every loaded file met, no unexpected error. */
function checkFixture(file: string): { rendered: string; errors: number } {
  const c = checkFiles([file]);
  const texts = new Map([...c.unit.files].map(([f, sf]) => [f, sf.text]));
  const expectations = [...texts].flatMap(([f, t]) => parseExpectations(f, t));
  expect(expectations.length, `${rel(file)} (or a file it imports) states its expected diagnostics with //~`).toBeGreaterThan(0);
  const actual = c.diagnostics.map((d) => positioned(d, texts.get(d.file)));
  const problems = compareExpectations(expectations, actual, rel);
  expect(problems, `diagnostics of ${rel(file)} differ from its //~ expectations`).toEqual([]);
  // Every diagnostic must point inside its file, with a code and a message.
  for (const d of c.diagnostics) {
    const len = texts.get(d.file)?.length ?? 0;
    expect(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= len, `${d.code} span in range`).toBe(true);
    expect(d.message.length).toBeGreaterThan(0);
  }
  return { rendered: renderForGolden(c.diagnostics, (f) => texts.get(f) ?? (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined)), errors: c.diagnostics.filter((d) => d.severity === "error").length };
}

describe("parse fixtures", () => {
  const dir = path.join(FIXTURES, "parse");
  const files = moeFiles(dir);
  it("exist", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expectNoOrphanGoldens(dir, ".ast.txt");
  });
  for (const file of files) {
    it(path.basename(file, ".moe"), () => {
      const text = fs.readFileSync(file, "utf8");
      const r = parseSource(text, file);
      expect(r.diagnostics.map((d) => `${d.code}: ${d.message}`)).toEqual([]);
      matchGolden(file.replace(/\.moe$/, ".ast.txt"), printAst(r.program, text));
    });
  }
});

describe("recovery fixtures", () => {
  const dir = path.join(FIXTURES, "recovery");
  const files = moeFiles(dir);
  it("exist", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expectNoOrphanGoldens(dir, ".diagnostics.txt");
  });
  for (const file of files) {
    it(path.basename(file, ".moe"), () => {
      const { rendered, errors } = checkFixture(file);
      expect(errors).toBeGreaterThan(0);
      matchGolden(file.replace(/\.moe$/, ".diagnostics.txt"), rendered);
    });
  }
});

describe("check fixtures", () => {
  const dir = path.join(FIXTURES, "check");
  const files = moeFiles(dir);
  it("exist", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    expectNoOrphanGoldens(dir, ".diagnostics.txt");
  });
  for (const file of files) {
    it(path.basename(file, ".moe"), () => {
      const { rendered, errors } = checkFixture(file);
      expect(errors).toBeGreaterThan(0);
      matchGolden(file.replace(/\.moe$/, ".diagnostics.txt"), rendered);
    });
  }
});

describe("valid programs check clean", () => {
  const programs = [
    ...moeFiles(path.join(FIXTURES, "contract")),
    // examples/plugins/ need their router plugins: tests/e2e/plugin-examples.test.ts checks them.
    ...moeFilesUnder(path.join(REPO_ROOT, "examples")).filter((f) => !f.startsWith(path.join(REPO_ROOT, "examples", "plugins") + path.sep)),
  ];
  it("include the contract files and every example", () => {
    expect(programs.map(rel)).toEqual(expect.arrayContaining(["tests/fixtures/contract/section12.moe", "tests/fixtures/contract/section13.moe", "examples/mixtral.moe"]));
  });
  for (const file of programs) {
    it(rel(file), () => {
      const c = checkFiles([file]);
      const shown = renderForGolden(c.diagnostics, (f) => c.unit.files.get(f)?.text);
      expect(c.diagnostics.length, shown).toBe(0);
    });
  }
});
