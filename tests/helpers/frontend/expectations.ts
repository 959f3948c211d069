// Inline expectations in check fixtures, written by hand from LANGUAGE.md:
//
//     experts E[0] = ffn(hidden = 32)   //~ error[E0230] 7:13
//
// `//~` starts a comment that lists one or more `SEVERITY[CODE] LINE:COL` items, where LINE:COL
// (1-based, UTF-16 columns) is the start of the diagnostic's primary span in the file that holds
// the comment. The harness requires every listed diagnostic to be reported at exactly that
// position with that code, and no error that is not listed (warnings are checked only when listed).
import type { Diagnostic } from "../../../compiler/diagnostics/diagnostic.js";
import { LineIndex } from "../../../compiler/diagnostics/line-index.js";

export interface Expectation {
  file: string;
  severity: "error" | "warning";
  code: string;
  line: number;
  column: number;
  /** Line of the `//~` comment, for messages. */
  at: number;
}

const ITEM = /\b(error|warning)\[([A-Z]\d{4})\]\s+(\d+):(\d+)/g;

export function parseExpectations(file: string, text: string): Expectation[] {
  const out: Expectation[] = [];
  const lines = text.split("\n");
  lines.forEach((l, i) => {
    const k = l.search(/\/\/~(\s|$)/);
    if (k < 0) return;
    const body = l.slice(k + 3);
    let matched = 0;
    for (const m of body.matchAll(ITEM)) {
      matched++;
      out.push({ file, severity: m[1] as "error" | "warning", code: m[2]!, line: Number(m[3]), column: Number(m[4]), at: i + 1 });
    }
    if (matched === 0) throw new Error(`${file}:${i + 1}: a \`//~\` comment lists no \`error[CODE] LINE:COL\``);
  });
  return out;
}

export interface Positioned {
  file: string;
  severity: string;
  code: string;
  line: number;
  column: number;
  message: string;
}

export function positioned(d: Diagnostic, text: string | undefined): Positioned {
  const p = text === undefined ? { line: 0, column: 0 } : new LineIndex(text).position(d.span.start);
  return { file: d.file, severity: d.severity, code: d.code, line: p.line, column: p.column, message: d.message };
}

const key = (x: { file: string; severity: string; code: string; line: number; column: number }) => `${x.file}|${x.severity}[${x.code}] ${x.line}:${x.column}`;

/**
 * Compares reported diagnostics with expectations. Returns human-readable problems (empty when
 * they agree): expectations not met, and errors nobody expected.
 */
export function compareExpectations(expected: Expectation[], actual: Positioned[], show: (file: string) => string): string[] {
  const problems: string[] = [];
  const pool = new Map<string, Positioned[]>();
  for (const a of actual) {
    const k = key(a);
    pool.set(k, [...(pool.get(k) ?? []), a]);
  }
  for (const e of expected) {
    const k = key(e);
    const got = pool.get(k);
    if (got && got.length) {
      got.shift();
      continue;
    }
    const sameCode = actual.filter((a) => a.file === e.file && a.code === e.code).map((a) => `${a.line}:${a.column}`);
    problems.push(`missing ${e.severity}[${e.code}] at ${show(e.file)}:${e.line}:${e.column} (expected by the comment on line ${e.at})${sameCode.length ? `; ${e.code} was reported at ${sameCode.join(", ")}` : ""}`);
  }
  for (const rest of pool.values()) {
    for (const a of rest) {
      if (a.severity !== "error") continue;
      problems.push(`unexpected error[${a.code}] at ${show(a.file)}:${a.line}:${a.column}: ${a.message}`);
    }
  }
  return problems;
}
