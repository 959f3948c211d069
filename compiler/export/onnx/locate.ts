// The ONNX export's problems as located diagnostics: each at the source of the block whose weight
// key it names (the router, pool or attention call), else at the entry's name, in the style of
// `moec export hf`'s refusals.
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Compilation, EntryInfo } from "../../driver.js";
import { entrySpan, ownerAtKey } from "../../hf/export/unmappable.js";
import type { OnnxProblem } from "./unmappable.js";

/** One diagnostic per code and source location: the layers of a `repeat` share their source, so
 *  the first layer's problem stands for all of them. */
export function locateOnnxProblems(problems: OnnxProblem[], info: EntryInfo, compilation: Compilation): Diagnostic[] {
  const seen = new Set<string>();
  return problems.map((p): Diagnostic => {
    const owner = p.key ? ownerAtKey(info.instance, p.key) : undefined;
    return {
      code: p.code, severity: "error", message: p.message,
      file: owner?.file ?? info.file, span: owner?.span ?? entrySpan(compilation, info),
      secondary: [], ...(p.help ? { help: p.help } : {}),
    };
  }).filter((d) => {
    const k = `${d.code} ${d.file} ${d.span.start}`;
    return !seen.has(k) && Boolean(seen.add(k));
  });
}
