// A checkpoint directory's tokenizer (LANGUAGE.md §13.2, §13.3): `tokenizer.json` (required for
// text), `tokenizer_config.json` (special tokens, decoding switches, the chat template) and
// `chat_template.jinja` (newer transformers save the template there; it wins over the config's,
// as in transformers). Every problem is a TextError naming the file and field.

import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { readJsonObject } from "./json-file.js";
import { TextError } from "./text-error.js";
import { TextTokenizer } from "./tokenizer.js";
import { checkTokenizerJson } from "./tokenizer-json.js";
import { readTokenizerSettings } from "./tokenizer-config.js";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
export const CHAT_TEMPLATE_FILE = "chat_template.jinja";

/** Does the directory have a tokenizer (a `tokenizer.json`)? */
export function hasTokenizer(dir: string): boolean {
  return existsSync(path.join(dir, TOKENIZER_FILE));
}

/** The error for text asked of a checkpoint without a tokenizer. */
export function noTokenizerError(label: string): TextError {
  const file = path.join(label, TOKENIZER_FILE);
  return new TextError(
    `${label}: the checkpoint has no tokenizer (no ${TOKENIZER_FILE}), so text cannot be turned into tokens or back; give the prompt as token ids with --input-ids or --input.`,
    file,
  );
}

/** Loads the tokenizer of checkpoint directory `dir` (`label` is how messages show it). */
export function loadTokenizer(dir: string, label = dir): TextTokenizer {
  if (!hasTokenizer(dir)) throw noTokenizerError(label);
  const shown = (f: string) => path.join(label, f);
  const file = shown(TOKENIZER_FILE);
  const json = readJsonObject(path.join(dir, TOKENIZER_FILE), file);
  const facts = checkTokenizerJson(json, file);

  const configFile = shown(TOKENIZER_CONFIG_FILE);
  const config = existsSync(path.join(dir, TOKENIZER_CONFIG_FILE)) ? readJsonObject(path.join(dir, TOKENIZER_CONFIG_FILE), configFile) : {};
  const settings = readTokenizerSettings(config, configFile);

  let chatTemplate: { text: string; file: string } | undefined;
  const templateFile = path.join(dir, CHAT_TEMPLATE_FILE);
  if (existsSync(templateFile)) {
    try {
      chatTemplate = { text: readFileSync(templateFile, "utf8"), file: shown(CHAT_TEMPLATE_FILE) };
    } catch (e) {
      throw new TextError(`${shown(CHAT_TEMPLATE_FILE)}: cannot read it (${(e as Error).message}).`, shown(CHAT_TEMPLATE_FILE));
    }
  } else if (settings.chatTemplate !== undefined) {
    chatTemplate = { text: settings.chatTemplate, file: configFile };
  }
  return TextTokenizer.create(file, json, facts, settings, chatTemplate, configFile);
}

/** A tokenizer whose ids do not all fit the model's vocabulary of `V` rows: the error, naming both numbers; else undefined. */
export function tokenizerVocabMismatch(tokenizer: TextTokenizer, V: number): TextError | undefined {
  if (tokenizer.vocabSize <= V) return undefined;
  return new TextError(
    `${tokenizer.file}: the tokenizer has ids up to ${tokenizer.vocabSize - 1} (${tokenizer.vocabSize} tokens), more than the model's vocabulary V = ${V}; this tokenizer does not belong to this model.`,
    tokenizer.file,
  );
}
