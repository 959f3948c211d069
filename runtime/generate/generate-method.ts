// A loaded model's `generate` (LANGUAGE.md §13.2): one prompt (text or ids) or a batch of them,
// with the checkpoint's end-of-sequence ids and context limit as defaults. Node's runtime and the
// browser's both give their models this method.
import type { GpuContext } from "../gpu/device.js";
import type { Executor } from "../executor/types.js";
import type { GenerationSettings } from "../text/generation-config.js";
import type { TextTokenizer } from "../text/tokenizer.js";
import type { GenerateOptions } from "./generate.js";
import { type BatchGenerationStep, generateBatchText, generateText, promptIds, type GenerationStep, type TextPromptOptions } from "./text-generation.js";

export type Prompt = string | Int32Array | readonly number[];

export interface GenerateMethod {
  (prompt: Prompt, options?: GenerateOptions & TextPromptOptions): AsyncGenerator<GenerationStep>;
  (prompts: readonly Prompt[], options?: GenerateOptions & TextPromptOptions): AsyncGenerator<BatchGenerationStep>;
}

/** `label` names the checkpoint in messages (e.g. when text is given but there is no tokenizer). */
export function generateMethod(gpu: GpuContext, exec: Executor, tokenizer: TextTokenizer | undefined, generation: GenerationSettings | undefined, label: string): GenerateMethod {
  return function generate(prompt: Prompt | readonly Prompt[], options: GenerateOptions & TextPromptOptions = {}): AsyncGenerator<GenerationStep & BatchGenerationStep> {
    const { chat: _chat, system: _system, ...rest } = options;
    const defaults = { eosIds: generation?.eosTokenIds, context: generation?.contextLimit, ...rest };
    // An array of texts or id arrays is a batch; an array of numbers is one prompt's ids.
    if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p !== "number")) {
      const batch = (prompt as readonly Prompt[]).map((p) => promptIds(p, tokenizer, options, label));
      return generateBatchText(gpu, exec, batch, tokenizer, defaults) as AsyncGenerator<GenerationStep & BatchGenerationStep>;
    }
    const ids = promptIds(prompt as Prompt, tokenizer, options, label);
    return generateText(gpu, exec, ids, tokenizer, defaults) as AsyncGenerator<GenerationStep & BatchGenerationStep>;
  } as GenerateMethod;
}
