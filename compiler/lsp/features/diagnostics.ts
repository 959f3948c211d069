// moec diagnostics → LSP diagnostics (secondary labels become related information; help text
// and a suggested replacement travel in `data` for quick fixes).
import type { Diagnostic as LspDiagnostic } from "vscode-languageserver";
import { DiagnosticSeverity } from "vscode-languageserver";
import { URI } from "../uri.js";
import type { Analysis } from "../analysis.js";
import { toRange } from "../analysis.js";
import { escapeControl } from "../../diagnostics/escape.js";

export interface DiagnosticData {
  help?: string;
  /** From a "did you mean `X`?" help: the text to put in the primary range. */
  replacement?: string;
}

export function lspDiagnostics(a: Analysis, file: string): LspDiagnostic[] {
  return a.compilation.diagnostics
    .filter((d) => d.file === file)
    .map((d) => {
      const replacement = /did you mean `([^`]+)`\?/.exec(d.help ?? "")?.[1];
      const data: DiagnosticData = { help: d.help, replacement };
      return {
        range: toRange(a.lines(d.file), d.span),
        severity: d.severity === "error" ? DiagnosticSeverity.Error : d.severity === "warning" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
        code: d.code,
        source: "moec",
        message: escapeControl(d.message) + (d.help ? `\nhelp: ${escapeControl(d.help)}` : ""),
        relatedInformation: d.secondary.map((l) => ({
          location: { uri: URI.fromPath(l.file), range: toRange(a.lines(l.file), l.span) },
          message: escapeControl(l.message),
        })),
        data,
      };
    });
}
