// Diagnostics shown twice: as CodeMirror lint marks in the editor (those of the edited file) and
// as the #diagnostics list, one <li data-line data-column data-code> per diagnostic (1-based, as
// `moec check --json` gives them); clicking an item moves the cursor there.
import { setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import type { EditorView } from "@codemirror/view";
import type { JsonDiagnostic } from "./moec-module.js";

/** The document offset of a 1-based line and column, clamped into the document. */
function offsetOf(view: EditorView, line: number, column: number): number {
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  return Math.min(l.from + Math.max(0, column - 1), l.to);
}

/** Whether a diagnostic's file is the edited one (JSON names files without the leading "/"). */
const inFile = (d: JsonDiagnostic, file: string) => "/" + d.file === file || d.file === file;

export function showDiagnostics(view: EditorView, list: HTMLElement, count: HTMLElement, diagnostics: JsonDiagnostic[], file: string): void {
  const marks: CmDiagnostic[] = diagnostics.filter((d) => inFile(d, file)).map((d) => {
    const from = offsetOf(view, d.line, d.column);
    const to = Math.max(from, offsetOf(view, d.endLine, d.endColumn));
    const severity = d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : "info";
    return { from, to, severity, source: d.code, message: d.message + (d.help ? `\nhelp: ${d.help}` : "") };
  });
  view.dispatch(setDiagnostics(view.state, marks));

  list.replaceChildren(
    ...diagnostics.map((d) => {
      const li = document.createElement("li");
      li.className = d.severity;
      li.dataset.line = String(d.line);
      li.dataset.column = String(d.column);
      li.dataset.code = d.code;
      li.dataset.file = d.file;
      const sev = document.createElement("span");
      sev.className = "sev";
      sev.textContent = `${d.severity}[${d.code}]`;
      li.append(sev, ` ${d.file}:${d.line}:${d.column}: ${d.message}${d.help ? ` (help: ${d.help})` : ""}`);
      if (inFile(d, file)) {
        li.addEventListener("click", () => {
          view.dispatch({ selection: { anchor: offsetOf(view, d.line, d.column) }, scrollIntoView: true });
          view.focus();
        });
      }
      return li;
    }),
  );
  if (!diagnostics.length) {
    const ok = document.createElement("li");
    ok.className = "ok";
    ok.textContent = "no problems";
    list.append(ok);
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  count.textContent = diagnostics.length ? `(${errors} error${errors === 1 ? "" : "s"}, ${diagnostics.length - errors} other)` : "";
}
