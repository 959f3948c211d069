// Shared checks for the formatter tests: AST equality without positions, comment multisets, and
// the .moe corpus the formatter must handle.
import { readdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSource } from "../../../compiler/syntax/parse.js";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

const POSITION_KEYS = new Set(["span", "opSpan", "keywordSpan", "endSpan"]);

/** The AST of `text` with every source position removed, for structural comparison. */
export function astWithoutSpans(text: string): unknown {
  const { program, diagnostics } = parseSource(text, "test.moe");
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`does not parse: ${errors[0]!.message}`);
  return strip(program.decls);
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !POSITION_KEYS.has(k)).map(([k, v]) => [k, strip(v)]));
}

/** Comment texts as the lexer sees them (line comments without trailing blanks), sorted. */
export function commentTexts(text: string): string[] {
  return parseSource(text, "test.moe")
    .program.comments.map((c) => (c.block ? c.text : c.text.trimEnd()))
    .sort();
}

export function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** Every `.moe` file below `dir` (relative to the repository root), sorted. */
export function moeFilesUnder(dir: string): string[] {
  const abs = join(repoRoot, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(".moe")) out.push(relative(repoRoot, full));
    }
  };
  walk(abs);
  return out;
}
