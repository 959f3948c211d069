// Quick fixes: replace a misspelt stage, kind, name, parameter or value with the suggestion the
// checker made ("did you mean `softmax`?").
import type { CodeAction, Diagnostic as LspDiagnostic } from "vscode-languageserver";
import { CodeActionKind } from "vscode-languageserver";
import type { DiagnosticData } from "./diagnostics.js";

export function quickFixes(uri: string, diagnostics: LspDiagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    const data = d.data as DiagnosticData | undefined;
    if (!data?.replacement) continue;
    out.push({
      title: `Change to \`${data.replacement}\``,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: d.range, newText: data.replacement }] } },
    });
  }
  return out;
}
