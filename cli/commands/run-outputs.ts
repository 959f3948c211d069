// What `moec run` does with a run's outputs, whichever backend computed them: `--output FILE`
// writes them as f32 safetensors, else each is summarized on stdout.
import * as path from "node:path";
import type { CliIO } from "../output.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import type { StagedOutputs } from "../output-files.js";

/** `--output FILE` (f32 safetensors), else a summary of each output on stdout. With `staged`, the
 *  file is staged there (renamed into place with the command's other outputs) and the line that
 *  says so is returned for the caller to print once it is; without, it is written and said now. */
export function writeOrPrintOutputs(io: CliIO, rt: typeof import("../../runtime/index.js"), program: IrProgram, out: Map<string, Float32Array>, tokens: number, f: Record<string, unknown>, staged?: StagedOutputs): string | undefined {
  if (f.output !== undefined) {
    const outFile = path.resolve(io.cwd, f.output as string);
    const said = `moec run: wrote ${[...out.keys()].join(", ")} to ${displayPath(outFile, io.cwd)}`;
    if (staged) {
      staged.write(outFile, (temp) => rt.writeOutputs(program, out, tokens, temp));
      return said;
    }
    rt.writeOutputs(program, out, tokens, outFile);
    io.err(said);
    return undefined;
  }
  for (const o of program.outputs) {
    const v = out.get(o.name)!;
    const width = program.values[o.value]!.width;
    io.out(`${o.name}: [${v.length / width}, ${width}] f32  ${summary(v)}`);
    io.out(`  ${f["last-logits"] ? `token ${tokens - 1}` : "token 0"}: [${[...v.slice(0, Math.min(width, 6))].map((x) => x.toFixed(5)).join(", ")}${width > 6 ? ", …" : ""}]`);
  }
  return undefined;
}

function summary(v: Float32Array): string {
  let sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (const x of v) {
    sum += x;
    sq += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / v.length;
  return `mean ${mean.toFixed(5)}  std ${Math.sqrt(Math.max(0, sq / v.length - mean * mean)).toFixed(5)}  min ${min.toFixed(5)}  max ${max.toFixed(5)}`;
}
