// Renders diagnostics as rustc/Gleam-style text with code frames, or as JSON data.
import { isAbsolutePath, relativePath } from "../semantic/source-paths.js";
import type { Diagnostic, Label } from "./diagnostic.js";
import { LineIndex } from "./line-index.js";
import { escapeControl } from "./escape.js";

export interface RenderOptions {
  color?: boolean;
  /** Paths are shown relative to this directory. */
  cwd?: string;
}

const C = {
  red: "\x1b[1;31m", yellow: "\x1b[1;33m", blue: "\x1b[1;34m", cyan: "\x1b[1;36m", bold: "\x1b[1m", reset: "\x1b[0m",
};

export class SourceCache {
  private indexes = new Map<string, LineIndex>();
  constructor(private readText: (file: string) => string | undefined) {}
  index(file: string): LineIndex | undefined {
    let ix = this.indexes.get(file);
    if (!ix) {
      const t = this.readText(file);
      if (t === undefined) return undefined;
      ix = new LineIndex(t);
      this.indexes.set(file, ix);
    }
    return ix;
  }
}

export function renderDiagnostic(d: Diagnostic, sources: SourceCache, opts: RenderOptions = {}): string {
  const col = (c: string, s: string) => (opts.color ? c + s + C.reset : s);
  const show = (f: string) => escapeControl(displayPath(f, opts.cwd));
  const ix = sources.index(d.file);
  const pos = ix?.position(d.span.start) ?? { line: 1, column: 1 };
  const sevColor = d.severity === "error" ? C.red : d.severity === "warning" ? C.yellow : C.cyan;
  const out: string[] = [];
  out.push(`${show(d.file)}${d.fileLevel ? "" : `:${pos.line}:${pos.column}`}: ${col(sevColor, `${d.severity}[${d.code}]`)}: ${col(C.bold, escapeControl(d.message))}`);
  if (ix && !d.fileLevel) {
    const sameFile = d.secondary.filter((l) => l.file === d.file);
    const lines = [pos.line, ...sameFile.map((l) => ix.position(l.span.start).line)];
    const gutter = String(lines.reduce((m, l) => Math.max(m, l), 0)).length;
    const bar = col(C.blue, " ".repeat(gutter) + " |");
    out.push(bar);
    const marks: { span: Label["span"]; message: string; primary: boolean }[] = [
      { span: d.span, message: d.label ?? "", primary: true },
      ...sameFile.map((l) => ({ span: l.span, message: l.message, primary: false })),
    ].sort((a, b) => a.span.start - b.span.start);
    let lastLine = -1;
    let view = frameWindow("", 1);
    for (const m of marks) {
      const p = ix.position(m.span.start);
      const end = ix.position(Math.max(m.span.start, m.span.end - 1));
      if (p.line !== lastLine) {
        if (lastLine !== -1 && p.line > lastLine + 1) out.push(col(C.blue, " ".repeat(gutter) + " ..."));
        view = frameWindow(ix.lineText(p.line), p.column);
        out.push(col(C.blue, String(p.line).padStart(gutter) + " |") + " " + escapeControl(view.shown));
        lastLine = p.line;
      }
      const column = view.column(p.column);
      const width = underlineWidth(view.text, column, end.line === p.line ? view.column(end.column) : view.text.length);
      const underline = (m.primary ? "^" : "-").repeat(width);
      out.push(bar + " " + indentUnder(view.text, column) + col(m.primary ? sevColor : C.blue, underline + (m.message ? " " + escapeControl(m.message) : "")));
    }
    for (const l of d.secondary.filter((x) => x.file !== d.file)) {
      const oix = sources.index(l.file);
      if (!oix) continue;
      const p = oix.position(l.span.start);
      out.push(col(C.blue, " ".repeat(gutter) + "::: ") + `${show(l.file)}:${p.line}:${p.column}`);
      const v = frameWindow(oix.lineText(p.line), p.column);
      out.push(col(C.blue, String(p.line).padStart(gutter) + " |") + " " + escapeControl(v.shown));
      const e = oix.position(Math.max(l.span.start, l.span.end - 1));
      const width = e.line === p.line ? underlineWidth(v.text, v.column(p.column), v.column(e.column)) : 1;
      out.push(bar + " " + indentUnder(v.text, v.column(p.column)) + col(C.blue, "-".repeat(width) + " " + escapeControl(l.message)));
    }
  }
  if (d.help) out.push(col(C.blue, " = ") + col(C.bold, "help") + ": " + escapeControl(d.help));
  return out.join("\n");
}

/** Lines longer than this are shown as a window around the mark, with `…` where they are cut. */
const MAX_FRAME_LINE = 160;

/**
 * The part of a line a code frame shows: the whole line, or MAX_FRAME_LINE characters around
 * `column` (a 250,000-term sum is one line). `text` is what marks are placed in (the `…` prefix
 * included), `shown` adds the trailing `…`, and `column` maps a line's column into `text`.
 */
function frameWindow(line: string, column: number): { text: string; shown: string; column: (c: number) => number } {
  if (line.length <= MAX_FRAME_LINE) return { text: line, shown: line, column: (c) => c };
  const start = Math.max(0, Math.min(column - 1 - MAX_FRAME_LINE / 4, line.length - MAX_FRAME_LINE));
  const end = Math.min(line.length, start + MAX_FRAME_LINE);
  const prefix = start > 0 ? "…" : "";
  const text = prefix + line.slice(start, end);
  const clamp = (c: number) => Math.max(1, Math.min(c - start + prefix.length, text.length + 1));
  return { text, shown: text + (end < line.length ? "…" : ""), column: clamp };
}

/** Spaces up to a column, keeping the line's tabs so that the underline lines up under them. */
function indentUnder(lineText: string, column: number): string {
  const shown = escapeControl(lineText.slice(0, column - 1));
  return shown.replace(/[^\t]/g, " ").padEnd(shown.length + Math.max(0, column - 1 - lineText.length), " ");
}

/** Width of the underline from `column` to `endColumn` (inclusive) as the escaped line shows it. */
function underlineWidth(lineText: string, column: number, endColumn: number): number {
  const spanned = lineText.slice(column - 1, Math.max(column, endColumn));
  return Math.max(1, escapeControl(spanned).length + Math.max(0, endColumn - column + 1 - spanned.length));
}

export function renderDiagnostics(diags: Diagnostic[], sources: SourceCache, opts: RenderOptions = {}): string {
  if (diags.length === 0) return "";
  const body = diags.map((d) => renderDiagnostic(d, sources, opts)).join("\n\n");
  const errors = diags.filter((d) => d.severity === "error").length;
  const warnings = diags.filter((d) => d.severity === "warning").length;
  const parts = [];
  if (errors) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return body + "\n\n" + parts.join(", ");
}

export interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: string;
  code: string;
  message: string;
  label?: string;
  help?: string;
  secondary: { file: string; line: number; column: number; endLine: number; endColumn: number; message: string }[];
}

/** Positions in JSON are 1-based; the end is exclusive (the column just past the span). */
export function diagnosticToJson(d: Diagnostic, sources: SourceCache, cwd?: string): JsonDiagnostic {
  const range = (file: string, span: { start: number; end: number }) => {
    const ix = sources.index(file);
    const a = ix?.position(span.start) ?? { line: 1, column: 1 };
    const b = ix?.position(span.end) ?? a;
    return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  };
  return {
    file: displayPath(d.file, cwd), ...range(d.file, d.span), severity: d.severity, code: d.code, message: d.message,
    ...(d.label ? { label: d.label } : {}), ...(d.help ? { help: d.help } : {}),
    secondary: d.secondary.map((l) => ({ file: displayPath(l.file, cwd), ...range(l.file, l.span), message: l.message })),
  };
}

export function displayPath(file: string, cwd?: string): string {
  if (!cwd || !isAbsolutePath(file)) return file;
  const rel = relativePath(cwd, file);
  return rel.startsWith("..") ? file : rel;
}
