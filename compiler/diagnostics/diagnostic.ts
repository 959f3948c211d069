// A diagnostic is data: a stable code, a message, a primary half-open range in one file, labelled
// secondary ranges and an optional help line. Rendering (text, JSON, LSP) happens elsewhere.
import type { Span } from "../syntax/ast.js";

export type Severity = "error" | "warning" | "note";

export interface Label {
  file: string;
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  file: string;
  span: Span;
  /** Text under the primary span's underline. */
  label?: string;
  secondary: Label[];
  help?: string;
  /** About the file as a whole (no code frame), e.g. "choose an entry point". */
  fileLevel?: boolean;
}

/** Collects diagnostics for one file; stages push into it instead of throwing. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(code: string, message: string, span: Span, extra: Partial<Pick<Diagnostic, "label" | "secondary" | "help" | "file">> = {}): Diagnostic {
    return this.push("error", code, message, span, extra);
  }
  warning(code: string, message: string, span: Span, extra: Partial<Pick<Diagnostic, "label" | "secondary" | "help" | "file">> = {}): Diagnostic {
    return this.push("warning", code, message, span, extra);
  }
  private push(severity: Severity, code: string, message: string, span: Span, extra: Partial<Pick<Diagnostic, "label" | "secondary" | "help" | "file">>): Diagnostic {
    const d: Diagnostic = {
      code, severity, message,
      file: extra.file ?? this.file,
      span,
      label: extra.label,
      secondary: extra.secondary ?? [],
      help: extra.help,
    };
    this.items.push(d);
    return d;
  }
  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === "error");
}
