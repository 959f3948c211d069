// Rendering a checkpoint's chat template (`--chat`, with `--system`) through @huggingface/jinja,
// with the variables transformers' apply_chat_template passes: `messages`, `add_generation_prompt`,
// the special tokens by name (`bos_token`, `eos_token`, …); the library itself supplies the
// helpers templates call (`raise_exception`, `strftime_now`, `range`). The rendered text already holds the template's special tokens, so it is
// encoded with `addSpecialTokens: false`, as transformers does.

import { Template } from "@huggingface/jinja";
import { TextError } from "./text-error.js";
import type { TextTokenizer } from "./tokenizer.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface RenderChatOptions {
  /** End with the assistant's turn opened, so the model writes the reply (default true). */
  addGenerationPrompt?: boolean;
}

/** The messages of `--prompt TEXT` with `--chat`: an optional system message, then the user's. */
export function chatMessages(prompt: string, system?: string): ChatMessage[] {
  return [...(system !== undefined ? [{ role: "system" as const, content: system }] : []), { role: "user", content: prompt }];
}

/** Renders `messages` with the tokenizer's chat template; a checkpoint without one is an error saying so. */
export function renderChat(tokenizer: TextTokenizer, messages: readonly ChatMessage[], options: RenderChatOptions = {}): string {
  const source = tokenizer.chatTemplate;
  if (source === undefined) {
    throw new TextError(
      `${tokenizer.file}: the checkpoint's tokenizer has no chat template (no "chat_template" in tokenizer_config.json, no chat_template.jinja), so --chat cannot be used; give the prompt as plain text without --chat.`,
      tokenizer.file,
      "chat_template",
    );
  }
  const where = source.file.endsWith(".jinja") ? source.file : `${source.file}: "chat_template"`;
  let template: Template;
  try {
    template = new Template(source.text);
  } catch (e) {
    throw new TextError(`${where}: the chat template cannot be parsed: ${(e as Error).message}`, source.file, "chat_template");
  }
  const context: Record<string, unknown> = {
    ...tokenizer.specialTokenTexts,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    add_generation_prompt: options.addGenerationPrompt ?? true,
  };
  try {
    return template.render(context);
  } catch (e) {
    // A template's own raise_exception("…") arrives here too, with the template's message.
    throw new TextError(`${where}: rendering the chat template failed: ${(e as Error).message}`, source.file, "chat_template");
  }
}
