// Shared helpers for language-server tests: an in-memory host and line/column positions.
import * as path from "node:path";
import type { SourceHost } from "../../../compiler/semantic/module-loader.js";
import { analyze } from "../../../compiler/lsp/analysis.js";
import type { Analysis } from "../../../compiler/lsp/analysis.js";

export const ROOT = "/virtual";

export function memoryHost(files: Record<string, string>): SourceHost {
  return { readFile: (f) => files[path.relative(ROOT, f)] };
}

export function analyzeFiles(files: Record<string, string>, main: string): Analysis {
  return analyze(path.join(ROOT, main), memoryHost(files));
}

/** The 0-based LSP position of the `nth` occurrence of `needle` in `text` (plus `delta` characters). */
export function posOf(text: string, needle: string, nth = 0, delta = 0): { line: number; character: number } {
  let idx = -1;
  for (let i = 0; i <= nth; i++) {
    idx = text.indexOf(needle, idx + 1);
    if (idx < 0) throw new Error(`"${needle}" #${nth} not found`);
  }
  idx += delta;
  const before = text.slice(0, idx);
  const line = before.split("\n").length - 1;
  return { line, character: idx - (before.lastIndexOf("\n") + 1) };
}
