// `moec quantize CKPT --to q8_0|q4_0|q4_k -o OUT.gguf`: a Hugging Face checkpoint directory
// written as a GGUF file in one block format (runtime/weights/gguf/quantize-checkpoint.ts), with
// llama.cpp's names, expert stacking, rotary layout and architecture metadata; atomically.
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { UsageError, parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { outputPathProblem } from "../output-files.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { QUANT_TARGETS, quantizeCheckpointDir, type QuantTarget } from "../../runtime/weights/gguf/quantize-checkpoint.js";
import { GGUF_ARCHITECTURES } from "../../runtime/weights/gguf/gguf-names.js";
import { isCheckpointDir } from "../../runtime/weights/checkpoint-dir.js";

export const quantizeSpec: CommandSpec = {
  name: "quantize",
  summary: "write a Hugging Face checkpoint directory as a block-quantized GGUF file",
  usage: "moec quantize CKPT_DIR --to q8_0|q4_0|q4_k -o OUT.gguf",
  positionals: { name: "a checkpoint directory (config.json + model.safetensors or an index and shards)", min: 1, max: 1 },
  flags: [
    { name: "to", type: "string", value: QUANT_TARGETS.join("|"), help: "the block format of the matrices (ggml's Q8_0, Q4_0 or Q4_K)" },
    { name: "output", short: "o", type: "string", value: "FILE", help: "the GGUF file to write (replaced atomically)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: [
    `Model types (config.json): ${GGUF_ARCHITECTURES.flatMap((a) => a.modelTypes).join(", ")}.`,
    "Matrices whose rows are whole blocks are quantized; norms, biases and router gates stay F32, and a",
    "matrix whose rows are not whole blocks is written F16 (listed). Routed experts are stacked per",
    "projection (ffn_gate_exps, …); Llama-architecture q/k rows are permuted to llama.cpp's rotary order.",
    "`moec run|generate --weights OUT.gguf` reads the file back; `moec info OUT.gguf` lists its tensors.",
    "Exit status: 0 ok, 1 a checkpoint that cannot be read or written (the message names the tensor), 2 usage errors.",
  ].join("\n"),
};

export async function runQuantize(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, quantizeSpec);
  const to = args.flags.to as string | undefined;
  if (to === undefined) throw new UsageError(`give the block format with --to ${QUANT_TARGETS.join("|")}`);
  if (!(QUANT_TARGETS as readonly string[]).includes(to)) throw new UsageError(`--to takes ${QUANT_TARGETS.join(", ")}, found \`${to}\``);
  const out = args.flags.output as string | undefined;
  if (out === undefined) throw new UsageError("give the GGUF file to write with -o OUT.gguf");
  // Checked before any work, so a bad -o costs nothing.
  const outProblem = outputPathProblem(path.resolve(io.cwd, out), "-o", io.cwd);
  if (outProblem) {
    io.err(`moec quantize: ${outProblem}`);
    return 1;
  }
  const dir = path.resolve(io.cwd, args.positionals[0]!);
  const shownDir = displayPath(dir, io.cwd);
  if (!isCheckpointDir(dir)) {
    io.err(`moec quantize: ${shownDir} is not a checkpoint directory (moec quantize reads config.json and model.safetensors or its shards)`);
    return 1;
  }
  const target = path.resolve(io.cwd, out);
  const r = quantizeCheckpointDir(dir, target, to as QuantTarget, shownDir);
  if (!r.ok) {
    io.err(`moec quantize: cannot quantize ${shownDir}:\n${r.errors.map((e) => "  - " + e.message).join("\n")}`);
    return 1;
  }
  const bytes = r.tensors.reduce((a, t) => a + t.bytes, 0);
  const counts = new Map<string, number>();
  for (const t of r.tensors) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  const mix = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
  io.err(`wrote ${displayPath(target, io.cwd)} (${r.architecture}, ${r.tensors.length} tensors: ${mix}; ${(bytes / 1e6).toFixed(2)} MB of tensor data from ${(r.sourceBytes / 1e6).toFixed(2)} MB)`);
  if (r.fallbacks.length) io.err(`moec quantize: note: ${r.fallbacks.length} matri${r.fallbacks.length === 1 ? "x has rows" : "ces have rows"} that are not whole ${to} blocks, written F16: ${r.fallbacks.slice(0, 4).join(", ")}${r.fallbacks.length > 4 ? ` and ${r.fallbacks.length - 4} more` : ""}`);
  return 0;
}
