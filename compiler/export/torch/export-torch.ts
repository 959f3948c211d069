// The front door of `moec export torch`: a lowered program → the files of a self-contained
// PyTorch package (modeling_moec.py, configuration_moec.py, config.json). Pure code generation
// from the IR; the CLI adds model.safetensors and writes the directory atomically. A program
// the export cannot write (a router stage without a PyTorch reference, a weight name an
// nn.Module cannot carry) is refused with every problem listed (TorchExportRefusal).
import type { IrProgram } from "../../ir/ir.js";
import { VERSION } from "../../version.js";
import { CONFIGURATION_PY, configJson } from "./config-files.js";
import { emitModeling, moduleTensors } from "./module-emitter.js";

export { TorchExportRefusal } from "./router-stages.js";

export interface TorchPackage {
  files: Record<string, string>;
  /** The module's tensors (parameters and state) under their moec names, for model.safetensors. */
  tensors: { name: string; shape: number[]; role: "param" | "state" }[];
}

export function exportTorch(program: IrProgram, source: string): TorchPackage {
  const header = [
    `# ${program.model ? "Model" : "Layer"} \`${program.entry}\` of ${source}, exported by moec ${VERSION} (moec export torch).`,
    "# Generated from moec's IR, op by op; the float64 reference (runtime/reference/) is its spec.",
    "# MoecModel needs only torch; MoecModel.from_pretrained(DIR) reads DIR/model.safetensors.",
    `"""moec export of \`${program.entry}\`: MoecModel (torch only) and a transformers wrapper."""`,
  ].join("\n");
  return {
    files: {
      "modeling_moec.py": emitModeling(program, header),
      "configuration_moec.py": CONFIGURATION_PY,
      "config.json": configJson(program, VERSION, "float32"),
    },
    tensors: moduleTensors(program).map((w) => ({ name: w.name, shape: [...w.shape], role: w.role })),
  };
}
