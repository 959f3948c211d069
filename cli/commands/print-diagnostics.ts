// Prints diagnostics for a command: code frames on stderr, or a JSON document on stdout.
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { JsonDiagnostic } from "../../compiler/diagnostics/render.js";
import { SourceCache, renderDiagnostics, diagnosticToJson } from "../../compiler/diagnostics/render.js";
import type { Compilation } from "../../compiler/driver.js";
import { fsHost } from "../../compiler/driver.js";
import type { CliIO } from "../output.js";

export function sourcesOf(c: Compilation | undefined): SourceCache {
  return new SourceCache((f) => c?.unit.files.get(f)?.text ?? fsHost.readFile(f));
}

export function printDiagnostics(
  diags: Diagnostic[], c: Compilation | undefined, io: CliIO, json: boolean,
  wrap?: (d: JsonDiagnostic[]) => unknown,
): void {
  const sources = sourcesOf(c);
  if (json) {
    const data = diags.map((d) => diagnosticToJson(d, sources, io.cwd));
    if (wrap) io.out(JSON.stringify(wrap(data), null, 2));
    return;
  }
  if (diags.length) io.err(renderDiagnostics(diags, sources, { color: io.color, cwd: io.cwd }));
}
