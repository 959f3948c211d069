// Renders diagnostics the way golden files store them: colour off, paths relative to the
// repository root, and any absolute path inside a message rewritten relative to it, so that the
// goldens do not depend on where the repository is checked out.
import type { Diagnostic } from "../../../compiler/diagnostics/diagnostic.js";
import { SourceCache, renderDiagnostics } from "../../../compiler/diagnostics/render.js";
import { REPO_ROOT } from "./paths.js";

export function renderForGolden(diags: Diagnostic[], readText: (file: string) => string | undefined): string {
  const sources = new SourceCache(readText);
  const text = renderDiagnostics(diags, sources, { color: false, cwd: REPO_ROOT });
  return (text || "(no diagnostics)").split(REPO_ROOT + "/").join("");
}
