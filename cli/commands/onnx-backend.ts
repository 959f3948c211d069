// `--backend onnxruntime` of `moec run` and `moec generate`: the program is exported in memory as
// `moec export onnx` writes it and run by ONNX Runtime's CPU kernels (runtime/onnx/), a fast path
// on machines without a GPU. `--backend webgpu` (the default) is moec's own kernels.
import { UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";
import type { GenerateOptions } from "../../runtime/generate/generate.js";
import type { TextTokenizer } from "../../runtime/text/tokenizer.js";
import { onnxModelBytes } from "./onnx-model.js";
import { writeOrPrintOutputs } from "./run-outputs.js";

export type Backend = "webgpu" | "onnxruntime";

/** Flags that only moec's GPU path has, by command. */
const GPU_ONLY: Record<string, string[]> = {
  run: ["stats", "state-out", "update-state", "adapter", "device-memory"],
  generate: ["prompts", "kv-dtype", "adapter", "device-memory"],
};

/** The `--backend` value, with the GPU-only flags refused next to onnxruntime. */
export function backendFlag(f: Record<string, unknown>, command: "run" | "generate"): Backend {
  const b = (f.backend as string | undefined) ?? "webgpu";
  if (b !== "webgpu" && b !== "onnxruntime") throw new UsageError(`--backend takes webgpu or onnxruntime, found \`${b}\``);
  if (b === "onnxruntime") {
    for (const n of GPU_ONLY[command]!) if (f[n] !== undefined) throw new UsageError(`--${n} is not available with --backend onnxruntime`);
    if (f.dtype !== undefined && f.dtype !== "f32") throw new UsageError("--backend onnxruntime runs in f32; --dtype f16 is the GPU's");
  }
  return b;
}

/** The ONNX Runtime session of `program` with `weights`, or undefined after saying why there is none. */
async function session(io: CliIO, command: string, program: IrProgram, weights: HostWeights) {
  const { OnnxProgramSession, OnnxRuntimeUnavailableError } = await import("../../runtime/onnx/onnx-session.js");
  const bytes = onnxModelBytes(program, weights);
  try {
    return await OnnxProgramSession.create(program, bytes);
  } catch (e) {
    if (e instanceof OnnxRuntimeUnavailableError) {
      io.err(`moec ${command}: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}

/** `moec run --backend onnxruntime`: one forward, outputs written or printed as the GPU path does. */
export async function runOnOnnxRuntime(
  io: CliIO, program: IrProgram, weights: HostWeights, inputs: { values: Map<string, Float32Array | Int32Array>; tokens: number }, f: Record<string, unknown>,
): Promise<number> {
  const rt = await import("../../runtime/index.js");
  const { OnnxInputError } = await import("../../runtime/onnx/onnx-session.js");
  const s = await session(io, "run", program, weights);
  if (!s) return 1;
  try {
    const t0 = performance.now();
    let out = await s.run(inputs.values, inputs.tokens);
    const ms = performance.now() - t0;
    io.err(`moec run: ${inputs.tokens} token${inputs.tokens === 1 ? "" : "s"} in ${ms.toFixed(1)} ms (ONNX Runtime, CPU)`);
    if (f["last-logits"]) {
      out = new Map([...out].map(([name, v]) => {
        const w = v.length / inputs.tokens;
        return [name, v.slice((inputs.tokens - 1) * w)];
      }));
    }
    writeOrPrintOutputs(io, rt, program, out, inputs.tokens, f);
    return 0;
  } catch (e) {
    if (e instanceof OnnxInputError) {
      io.err(`moec run: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await s.release();
  }
}

/** `moec generate --backend onnxruntime`: the steps of runtime/onnx/onnx-generate.ts. */
export async function generateOnOnnxRuntime(
  io: CliIO, program: IrProgram, weights: HostWeights, prompt: Int32Array, tokenizer: TextTokenizer | undefined, opts: GenerateOptions,
  report: { start(): void; step(step: { id: number; text?: string; stop?: string }): void },
): Promise<number> {
  const { generateOnnx } = await import("../../runtime/onnx/onnx-generate.js");
  const s = await session(io, "generate", program, weights);
  if (!s) return 1;
  try {
    report.start(); // the time to the first token counts from a loaded session, as the GPU's from uploaded weights
    for await (const step of generateOnnx(s, prompt, tokenizer, opts)) report.step(step);
    return 0;
  } finally {
    await s.release();
  }
}
