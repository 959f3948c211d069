// A checkpoint's tokenizer from its files (LANGUAGE.md §13.2, §13.3), wherever they are held:
// `tokenizer.json` (required for text), `tokenizer_config.json` (special tokens, decoding
// switches, the chat template) and `chat_template.jinja` (newer transformers save the template
// there; it wins over the config's, as in transformers). Every problem is a TextError naming the
// file and field. load-tokenizer.ts reads a directory on disk through this.
import { readJsonFile } from "./json-object.js";
import type { TextFiles } from "./text-files.js";
import { TextError } from "./text-error.js";
import { TextTokenizer } from "./tokenizer.js";
import { checkTokenizerJson } from "./tokenizer-json.js";
import { readTokenizerSettings } from "./tokenizer-config.js";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
export const CHAT_TEMPLATE_FILE = "chat_template.jinja";

/** The error for text asked of a checkpoint without a tokenizer. */
export function noTokenizerError(label: string, file = `${label}/${TOKENIZER_FILE}`): TextError {
  return new TextError(
    `${label}: the checkpoint has no tokenizer (no ${TOKENIZER_FILE}), so text cannot be turned into tokens or back; give the prompt as token ids with --input-ids or --input.`,
    file,
  );
}

/** The tokenizer of the checkpoint whose files are `files`. */
export function tokenizerFromFiles(files: TextFiles): TextTokenizer {
  if (!files.exists(TOKENIZER_FILE)) throw noTokenizerError(files.label, files.shown(TOKENIZER_FILE));
  const file = files.shown(TOKENIZER_FILE);
  const json = readJsonFile(files, TOKENIZER_FILE);
  const facts = checkTokenizerJson(json, file);

  const configFile = files.shown(TOKENIZER_CONFIG_FILE);
  const config = files.exists(TOKENIZER_CONFIG_FILE) ? readJsonFile(files, TOKENIZER_CONFIG_FILE) : {};
  const settings = readTokenizerSettings(config, configFile);

  let chatTemplate: { text: string; file: string } | undefined;
  if (files.exists(CHAT_TEMPLATE_FILE)) {
    const shown = files.shown(CHAT_TEMPLATE_FILE);
    try {
      chatTemplate = { text: files.readText(CHAT_TEMPLATE_FILE), file: shown };
    } catch (e) {
      throw new TextError(`${shown}: cannot read it (${(e as Error).message}).`, shown);
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
