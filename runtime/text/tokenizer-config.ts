// The fields of a `tokenizer_config.json` the text layer uses, each checked with an error naming
// the file and field: the special tokens (a string, null, or transformers' {"content": …} object),
// the decoding switches the tokenizer library reads, and the chat template (one string, or a list
// of named templates of which "default" is used, as transformers does).

import { fieldError, showJson } from "./text-error.js";
import { isObject } from "./json-object.js";

/** The special-token fields transformers passes to a chat template by name. */
export const SPECIAL_TOKEN_FIELDS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] as const;
export type SpecialTokenField = (typeof SPECIAL_TOKEN_FIELDS)[number];

export interface TokenizerSettings {
  /** Special tokens by field, as text (absent when unset or null). */
  specialTokens: Partial<Record<SpecialTokenField, string>>;
  additionalSpecialTokens: string[];
  /** The options the tokenizer library reads from the config, already checked. */
  libraryConfig: Record<string, unknown>;
  /** The chat template text, when the config has one. */
  chatTemplate?: string;
}

/** The token text of a special-token field's value, or undefined when unset. */
function tokenText(v: unknown, file: string, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (isObject(v) && typeof v["content"] === "string") return v["content"];
  throw fieldError(file, field, `must be a token (a string, or an object with "content"); found ${showJson(v)}.`);
}

function optBool(config: Record<string, unknown>, field: string, file: string): boolean | undefined {
  const v = config[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw fieldError(file, field, `must be true or false; found ${showJson(v)}.`);
  return v;
}

/** The chat template of a config's `chat_template` field (undefined when absent or null). */
function chatTemplateField(v: unknown, file: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    v.forEach((entry, i) => {
      if (!isObject(entry) || typeof entry["name"] !== "string" || typeof entry["template"] !== "string") {
        throw fieldError(file, `chat_template[${i}]`, `must be {"name": …, "template": …} with strings; found ${showJson(entry)}.`);
      }
    });
    const chosen = (v as { name: string; template: string }[]).find((t) => t.name === "default");
    if (chosen === undefined) {
      const names = v.map((t) => JSON.stringify((t as { name: string }).name)).join(", ");
      throw fieldError(file, "chat_template", `lists named templates (${names}) but none is "default", the one used for a chat.`);
    }
    return chosen.template;
  }
  throw fieldError(file, "chat_template", `must be a template string or a list of named templates; found ${showJson(v)}.`);
}

/** Reads the settings of `config` (the parsed tokenizer_config.json, or {} when there is none). */
export function readTokenizerSettings(config: Record<string, unknown>, file: string): TokenizerSettings {
  const specialTokens: TokenizerSettings["specialTokens"] = {};
  for (const field of SPECIAL_TOKEN_FIELDS) {
    const text = tokenText(config[field], file, field);
    if (text !== undefined) specialTokens[field] = text;
  }
  const extra = config["additional_special_tokens"] ?? [];
  if (!Array.isArray(extra)) throw fieldError(file, "additional_special_tokens", `must be an array of tokens; found ${showJson(extra)}.`);
  const additionalSpecialTokens = extra.map((t, i) => {
    const text = tokenText(t, file, `additional_special_tokens[${i}]`);
    if (text === undefined) throw fieldError(file, `additional_special_tokens[${i}]`, "must be a token; found null.");
    return text;
  });

  const libraryConfig: Record<string, unknown> = { ...specialTokens, additional_special_tokens: additionalSpecialTokens };
  for (const field of ["clean_up_tokenization_spaces", "remove_space", "do_lowercase_and_remove_accent"]) {
    const v = optBool(config, field, file);
    if (v !== undefined) libraryConfig[field] = v;
  }
  const target = config["target_lang"];
  if (target !== undefined && target !== null) {
    if (typeof target !== "string") throw fieldError(file, "target_lang", `must be a string; found ${showJson(target)}.`);
    libraryConfig["target_lang"] = target;
  }
  const chatTemplate = chatTemplateField(config["chat_template"], file);
  return { specialTokens, additionalSpecialTokens, libraryConfig, ...(chatTemplate !== undefined ? { chatTemplate } : {}) };
}
