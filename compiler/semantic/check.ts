// Checks a whole unit: every layer, model and graph at its defaults (call sites are checked at
// their bindings as the elaborator meets them), every constant, plus the loader's diagnostics.
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { Registry } from "../../stdlib/registry.js";
import type { Unit } from "./module-loader.js";
import { Elaborator } from "./elaborate/elaborator.js";

export function checkUnit(unit: Unit, registry: Registry, elaborator = new Elaborator(unit, registry)): Diagnostic[] {
  const out: Diagnostic[] = [...unit.diagnostics];
  for (const [file, sf] of unit.files) {
    for (const d of sf.program.decls) {
      if (d.kind === "Import") continue;
      if (d.kind === "Const") out.push(...elaborator.checkConst(d, file));
      else out.push(...elaborator.checkAtDefaults(d, file).diagnostics);
    }
  }
  return sortDiagnostics(dedupe(out));
}

export function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const k = `${d.code}|${d.file}|${d.span.start}|${d.span.end}|${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return [...diags].sort((a, b) => (a.file === b.file ? a.span.start - b.span.start : a.file < b.file ? -1 : 1));
}
