// Text around the decode loop: a prompt as ids, text, or a chat turn (the checkpoint's template,
// an optional system message) becomes token ids; each generated id is streamed back as the text
// that became final with it (UTF-8 characters split across tokens come out whole). Used by
// `model.generate` and `moec generate`.

import type { GpuContext } from "../gpu/device.js";
import type { Executor } from "../executor/types.js";
import { chatMessages, renderChat } from "../text/chat-template.js";
import { StreamDecoder } from "../text/stream-decoder.js";
import { TextError } from "../text/text-error.js";
import type { TextTokenizer } from "../text/tokenizer.js";
import { tokenizerVocabMismatch } from "../text/tokenizer-files.js";
import { generateTokens, modelVocab, type GenerateOptions, type GeneratedToken } from "./generate.js";
import { generateBatch, type BatchToken } from "./generate-batch.js";

export interface TextPromptOptions {
  /** Apply the tokenizer's chat template to the prompt as one user turn (with `system` first). */
  chat?: boolean;
  system?: string;
}

export interface GenerationStep extends GeneratedToken {
  /** The text that became final with this token (where a tokenizer exists; may be ""). */
  text?: string;
}

export interface BatchGenerationStep extends BatchToken {
  /** The text that became final with this token in its row (where a tokenizer exists; may be ""). */
  text?: string;
}

/** The prompt's token ids: given ids as they are; text through the tokenizer (and chat template). */
export function promptIds(prompt: string | ArrayLike<number>, tokenizer: TextTokenizer | undefined, opts: TextPromptOptions = {}, label = "the checkpoint"): Int32Array {
  if (typeof prompt !== "string") {
    if (opts.chat || opts.system !== undefined) throw new TextError("a chat turn (chat, system) needs a text prompt, not token ids");
    return Int32Array.from(prompt as ArrayLike<number>);
  }
  if (!tokenizer) throw new TextError(`a text prompt needs a tokenizer, and ${label} has none (no tokenizer.json); give token ids instead (--input-ids)`);
  if (!opts.chat) {
    if (opts.system !== undefined) throw new TextError("a system message (--system) applies to a chat turn; add --chat");
    return Int32Array.from(tokenizer.encode(prompt));
  }
  // A rendered template already holds its special tokens (BOS and the turn markers).
  return Int32Array.from(tokenizer.encode(renderChat(tokenizer, chatMessages(prompt, opts.system), { addGenerationPrompt: true }), { addSpecialTokens: false }));
}

/** generateTokens with each token's final text (special tokens left out of the text). */
export async function* generateText(gpu: GpuContext, exec: Executor, prompt: Int32Array, tokenizer: TextTokenizer | undefined, opts: GenerateOptions = {}): AsyncGenerator<GenerationStep> {
  if (tokenizer) {
    const mismatch = tokenizerVocabMismatch(tokenizer, modelVocab(exec));
    if (mismatch) throw mismatch;
  }
  // The prompt's tail decides the spacing of the first new piece; it is never printed.
  const decoder = tokenizer ? new StreamDecoder(tokenizer, { skipSpecialTokens: true, contextIds: Array.from(prompt.subarray(Math.max(0, prompt.length - 4))) }) : undefined;
  // Ids past the tokenizer's (a padded vocabulary) have no text: never drawn when text is wanted.
  const sampleVocab = tokenizer ? Math.min(modelVocab(exec), tokenizer.vocabSize) : undefined;
  for await (const t of generateTokens(gpu, exec, prompt, { ...(sampleVocab !== undefined ? { sampleVocab } : {}), ...opts })) {
    if (!decoder) {
      yield t;
      continue;
    }
    let text = decoder.push(t.id);
    if (t.stop) text += decoder.finish();
    yield { ...t, text };
  }
}

/** generateBatch with each token's final text in its row (one stream decoder per row). */
export async function* generateBatchText(gpu: GpuContext, exec: Executor, prompts: readonly Int32Array[], tokenizer: TextTokenizer | undefined, opts: GenerateOptions = {}): AsyncGenerator<BatchGenerationStep> {
  if (tokenizer) {
    const mismatch = tokenizerVocabMismatch(tokenizer, modelVocab(exec));
    if (mismatch) throw mismatch;
  }
  const decoders = tokenizer ? prompts.map((p) => new StreamDecoder(tokenizer, { skipSpecialTokens: true, contextIds: Array.from(p.subarray(Math.max(0, p.length - 4))) })) : undefined;
  const sampleVocab = tokenizer ? Math.min(modelVocab(exec), tokenizer.vocabSize) : undefined;
  for await (const t of generateBatch(gpu, exec, prompts, { ...(sampleVocab !== undefined ? { sampleVocab } : {}), ...opts })) {
    const decoder = decoders?.[t.row];
    if (!decoder) {
      yield t;
      continue;
    }
    let text = decoder.push(t.id);
    if (t.stop) text += decoder.finish();
    yield { ...t, text };
  }
}
