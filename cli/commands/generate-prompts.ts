// `moec generate --prompts FILE`: every line of FILE a prompt (cli/prompts-file.ts), decoded
// together as one batch (runtime/generate/generate-batch.ts: a KV cache slot per prompt, one
// command buffer per step for all rows, the MoE layers routing the rows together). Each
// continuation is printed when the batch ends, in the file's order under a `--- prompt N` line
// (or all of them in one `--json` object); speeds go to stderr as for one prompt.
import type { CliIO } from "../output.js";
import type { Executor } from "../../runtime/executor/types.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import type { GenerateOptions } from "../../runtime/generate/generate.js";
import type { TextTokenizer } from "../../runtime/text/tokenizer.js";
import type { PromptLine } from "../prompts-file.js";

type Runtime = typeof import("../../runtime/index.js");

interface Row {
  ids: number[];
  text: string;
  stop: string;
}

export async function generatePromptsBatch(
  io: CliIO,
  rt: Runtime,
  gpu: GpuContext,
  exec: Executor,
  batch: { prompts: Int32Array[]; lines: PromptLine[]; shown: string },
  tokenizer: TextTokenizer | undefined,
  opts: GenerateOptions,
  json: boolean,
): Promise<number> {
  const rows: Row[] = batch.prompts.map(() => ({ ids: [], text: "", stop: "length" }));
  let firstMs = 0;
  let seen = 0;
  const t0 = performance.now();
  try {
    for await (const step of rt.generateBatchText(gpu, exec, batch.prompts, tokenizer, opts)) {
      if (seen++ === 0) firstMs = performance.now() - t0;
      const r = rows[step.row]!;
      r.ids.push(step.id);
      if (tokenizer) r.text += step.text ?? "";
      if (step.stop) r.stop = step.stop;
      io.progress?.(`moec generate: ${seen} tokens over ${rows.length} prompts`);
    }
    io.progress?.(`moec generate: ${seen} tokens over ${rows.length} prompts`, true);
  } catch (e) {
    if (e instanceof rt.TextError || e instanceof rt.GenerationError || e instanceof rt.BatchDecodeUnsupportedError) {
      io.err(`moec generate: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const totalMs = performance.now() - t0;
  const total = rows.reduce((n, r) => n + r.ids.length, 0);
  // The first step draws one token per row; every later token is decoding.
  const decodeTps = total > rows.length ? (total - rows.length) / ((totalMs - firstMs) / 1000) : 0;
  const promptTokens = batch.prompts.reduce((n, p) => n + p.length, 0);
  const prefillTps = promptTokens / (firstMs / 1000);
  if (json) {
    io.out(JSON.stringify({
      results: rows.map((r, i) => ({ prompt: i, line: batch.lines[i]!.line, tokens: r.ids, ...(tokenizer ? { text: r.text } : {}), stop: r.stop, prompt_tokens: batch.prompts[i]!.length })),
      time_to_first_token_ms: round(firstMs), prefill_tokens_per_s: round(prefillTps), decode_tokens_per_s: round(decodeTps),
    }));
    return 0;
  }
  rows.forEach((r, i) => {
    io.out(`--- prompt ${i} (${batch.shown}:${batch.lines[i]!.line}, stop: ${r.stop})`);
    io.out(tokenizer ? r.text : r.ids.join(" "));
  });
  io.err(`moec generate: ${rows.length} prompts, ${total} tokens; first step after ${firstMs.toFixed(0)} ms (${promptTokens} prompt tokens at ${prefillTps.toFixed(1)} tokens/s), then ${decodeTps.toFixed(1)} tokens/s over all rows`);
  return 0;
}

const round = (x: number): number => Math.round(x * 100) / 100;
