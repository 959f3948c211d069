// Chat templates rendered to strings typed here from the templates' semantics: Qwen2.5's ChatML
// (a system turn, the default system prompt when none is given, the assistant turn opened), the
// tiny tokenizer's (bos_token first, as transformers passes it), chat_template.jinja winning over
// tokenizer_config.json, named templates; and every failure named.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatMessages, renderChat } from "../../../runtime/text/chat-template.js";
import { loadTokenizer } from "../../../runtime/text/load-tokenizer.js";
import type { TextTokenizer } from "../../../runtime/text/tokenizer.js";
import { QWEN_DIR, TINY_DIR, scratchDirs } from "../../helpers/text-fixtures.js";

const dirs = scratchDirs("moec-chat-");
afterAll(() => dirs.cleanup());

const tinyConfig = JSON.parse(readFileSync(path.join(TINY_DIR, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
/** The tiny tokenizer with its tokenizer_config.json edited. */
function tinyWith(config: Record<string, unknown>, extra: Record<string, string> = {}): TextTokenizer {
  const dir = dirs.make({ "tokenizer_config.json": JSON.stringify(config), ...extra }, TINY_DIR);
  return loadTokenizer(dir, "ckpt");
}

let qwen: TextTokenizer;
beforeAll(() => {
  qwen = loadTokenizer(QWEN_DIR, "qwen");
});

describe("renderChat", () => {
  it("renders Qwen2.5's template for a system and a user message", () => {
    expect(renderChat(qwen, chatMessages("What is 2+2?", "You are terse."))).toBe(
      "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    );
  });

  it("uses Qwen's default system prompt without --system, and can leave the assistant turn closed", () => {
    expect(renderChat(qwen, chatMessages("Hi"), { addGenerationPrompt: false })).toBe(
      "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
    );
  });

  it("passes bos_token as transformers does, and the rendered text encodes to hand-derived ids", () => {
    const tiny = loadTokenizer(TINY_DIR, "tiny");
    const text = renderChat(tiny, chatMessages("hello"));
    expect(text).toBe("<s><|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n");
    // <s> <|im_start|> u s e r <0x0A> h ell o <|im_end|> <0x0A> <|im_start|> a s s i s t a n t <0x0A>:
    // no ▁ (these sections are not the first), and only l l → ll, e ll → ell merge ("h ell" is no merge).
    expect(tiny.encode(text, { addSpecialTokens: false })).toEqual([1, 3, 24, 22, 16, 21, 5, 17, 35, 20, 4, 5, 3, 14, 22, 22, 18, 22, 23, 14, 28, 23, 5]);
  });

  it("prefers chat_template.jinja over tokenizer_config.json", () => {
    const t = tinyWith(tinyConfig, { "chat_template.jinja": "{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}{{ eos_token }}" });
    expect(renderChat(t, chatMessages("hi", "sys"))).toBe("[system:sys][user:hi]<|im_end|>");
  });

  it("uses the template named default from a list", () => {
    const t = tinyWith({ ...tinyConfig, chat_template: [{ name: "tool_use", template: "T" }, { name: "default", template: "D{{ messages[0].content }}" }] });
    expect(renderChat(t, chatMessages("x"))).toBe("Dx");
  });

  it("names every failure", () => {
    const { chat_template: _, ...noTemplate } = tinyConfig;
    expect(() => renderChat(tinyWith(noTemplate), chatMessages("x"))).toThrow(/ckpt\/tokenizer\.json: the checkpoint's tokenizer has no chat template .*--chat cannot be used/);
    expect(() => renderChat(tinyWith({ ...tinyConfig, chat_template: "{% for m in messages %}" }), chatMessages("x"))).toThrow(
      /ckpt\/tokenizer_config\.json: "chat_template": the chat template cannot be parsed/,
    );
    expect(() => renderChat(tinyWith({ ...tinyConfig, chat_template: "{{ raise_exception('roles must alternate') }}" }), chatMessages("x"))).toThrow(
      /ckpt\/tokenizer_config\.json: "chat_template": rendering the chat template failed: roles must alternate/,
    );
    expect(() => tinyWith({ ...tinyConfig, chat_template: [{ name: "rag", template: "R" }] })).toThrow(/"chat_template" lists named templates \("rag"\) but none is "default"/);
    expect(() => tinyWith({ ...tinyConfig, chat_template: 7 })).toThrow(/ckpt\/tokenizer_config\.json: "chat_template" must be a template string or a list of named templates; found 7/);
  });
});
