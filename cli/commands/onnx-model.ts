// What `moec export onnx` and the `--backend onnxruntime` of `moec run` / `moec generate` share:
// the ONNX export's refusals printed as located diagnostics, and the model's bytes built in memory.
import type { CliIO } from "../output.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { checkFiles, type CompileOptions, type EntryInfo } from "../../compiler/driver.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { checkOnnxExport, exportOnnx } from "../../compiler/export/onnx/export-onnx.js";
import { locateOnnxProblems } from "../../compiler/export/onnx/locate.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";

/** True when `program` can be exported; otherwise prints every problem, located, and a summary line. */
export function onnxExportable(io: CliIO, command: string, program: IrProgram, info: EntryInfo, file: string, opts: CompileOptions): boolean {
  const problems = checkOnnxExport(program);
  if (!problems.length) return true;
  const compilation = checkFiles([file], opts);
  const located = locateOnnxProblems(problems, info, compilation);
  printDiagnostics(located, compilation, io, false);
  io.err(`moec ${command}: \`${info.name}\` cannot be written as an ONNX model: ${located.length} construct${located.length === 1 ? " does" : "s do"} not map (listed above; codes ONNX001-ONNX005, docs/scale-out.md)`);
  return false;
}

/** The ModelProto bytes of a program onnxExportable accepted, with these weights. */
export function onnxModelBytes(program: IrProgram, weights: HostWeights): Uint8Array {
  return exportOnnx(program, (name) => {
    const t = weights.get(name);
    // The weights were bound to this program, so every tensor it names is there.
    if (!t) throw new Error(`onnx export: the bound weights lack \`${name}\``);
    return t;
  });
}
