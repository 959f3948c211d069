// One analysis of a document: the checked unit it belongs to (open buffers take precedence over
// disk), the symbol index, and position conversion. Features are pure functions of an Analysis.
import type { Position, Range } from "vscode-languageserver";
import type { SourceHost } from "../semantic/module-loader.js";
import type { Registry } from "../../stdlib/registry.js";
import type { Compilation } from "../compile-pipeline.js";
import { checkFiles } from "../compile-pipeline.js";
import { LineIndex } from "../diagnostics/line-index.js";
import type { Span } from "../syntax/ast.js";
import type { SymbolIndex } from "./symbol-index.js";
import { buildSymbolIndex } from "./symbol-index.js";

export interface Analysis {
  file: string;
  compilation: Compilation;
  index: SymbolIndex;
  text(file: string): string;
  lines(file: string): LineIndex;
}

export function analyze(file: string, host: SourceHost, registry?: Registry): Analysis {
  const compilation = checkFiles([file], { host, registry });
  const index = buildSymbolIndex(compilation.unit, compilation.registry);
  const lineCache = new Map<string, LineIndex>();
  const text = (f: string) => compilation.unit.files.get(f)?.text ?? host.readFile(f) ?? "";
  return {
    file, compilation, index, text,
    lines(f) {
      let ix = lineCache.get(f);
      if (!ix) lineCache.set(f, (ix = new LineIndex(text(f))));
      return ix;
    },
  };
}

/** LSP positions are 0-based; LineIndex is 1-based (the one conversion point, DESIGN.md). */
export function toRange(lines: LineIndex, span: Span): Range {
  return { start: toPosition(lines, span.start), end: toPosition(lines, span.end) };
}

export function toPosition(lines: LineIndex, offset: number): Position {
  const p = lines.position(offset);
  return { line: p.line - 1, character: p.column - 1 };
}

export function toOffset(lines: LineIndex, pos: Position): number {
  return lines.offset(pos.line + 1, pos.character + 1);
}
