// The ONNX export's problems as located diagnostics: each at the source of the block whose weight
// key it names (the router, pool or attention call), else at the entry's name, in the style of
// `moec export hf`'s refusals.
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Compilation, EntryInfo } from "../../driver.js";
import { entrySpan, ownerAtKey } from "../../hf/export/unmappable.js";
import type { OnnxProblem } from "./unmappable.js";

export function locateOnnxProblems(problems: OnnxProblem[], info: EntryInfo, compilation: Compilation): Diagnostic[] {
  return problems.map((p) => {
    const owner = p.key ? ownerAtKey(info.instance, p.key) : undefined;
    return {
      code: p.code, severity: "error", message: p.message,
      file: owner?.file ?? info.file, span: owner?.span ?? entrySpan(compilation, info),
      secondary: [], ...(p.help ? { help: p.help } : {}),
    };
  });
}
