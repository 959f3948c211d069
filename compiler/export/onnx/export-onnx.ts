// The front door of `moec export onnx`: a lowered program and its weights → ONNX ModelProto bytes
// for ONNX Runtime (opset 17 + com.microsoft 1), the weights as initializers under their moec
// names. What the operators cannot express is refused with every problem listed
// (OnnxExportRefusal; located in the source by locate.ts), as is a model whose initializers
// would pass protobuf's 2 GiB message limit (external data files are not written).
import type { IrProgram } from "../../ir/ir.js";
import { poolTensors } from "../../ir/pool-tensors.js";
import { VERSION } from "../../version.js";
import { emitOnnx, type WeightSource } from "./ir-to-onnx.js";
import { onnxProblems, type OnnxProblem } from "./unmappable.js";

export type { OnnxProblem } from "./unmappable.js";
export type { WeightSource } from "./ir-to-onnx.js";

/** Protobuf's limit on one message: a ModelProto at or above it cannot be read back. */
export const ONNX_MAX_BYTES = 2 ** 31 - 1;

export class OnnxExportRefusal extends Error {
  constructor(readonly problems: OnnxProblem[]) {
    super(problems.map((p) => `${p.code}: ${p.message}`).join("; "));
  }
}

/** Bytes of every f32 tensor the program reads (its weights and its pools' stacked tensors). */
export function weightBytes(program: IrProgram): number {
  let n = 0;
  for (const w of program.weights) n += 4 * w.shape.reduce((a, b) => a * b, 1);
  for (const op of program.ops) {
    if (op.op === "moe" || op.op === "shared") for (const t of poolTensors(op.pool)) n += 4 * t.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/** The problems of `program` for the ONNX export, without weights (the CLI checks before loading them). */
export function checkOnnxExport(program: IrProgram, maxBytes = ONNX_MAX_BYTES): OnnxProblem[] {
  const problems = onnxProblems(program);
  const bytes = weightBytes(program);
  if (bytes >= maxBytes) {
    problems.push({
      code: "ONNX005",
      message: `\`${program.entry}\`'s weights are ${(bytes / 2 ** 30).toFixed(2)} GiB in f32; an ONNX model in one file stays under 2 GiB (protobuf's limit) and the export writes no external data`,
      help: "export a smaller configuration (--set), or use `moec export hf` and ONNX Runtime's model builder",
    });
  }
  return problems;
}

/** ModelProto bytes of `program` with `weight`'s tensors, or OnnxExportRefusal. */
export function exportOnnx(program: IrProgram, weight: WeightSource, opts: { directUnnormalizedMoe?: boolean; maxBytes?: number } = {}): Uint8Array {
  const problems = checkOnnxExport(program, opts.maxBytes);
  if (problems.length) throw new OnnxExportRefusal(problems);
  return emitOnnx(program, weight, { producerVersion: VERSION, ...(opts.directUnnormalizedMoe ? { directUnnormalizedMoe: true } : {}) });
}
