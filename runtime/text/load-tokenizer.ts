// A checkpoint directory's tokenizer, read from disk (tokenizer-files.ts does the reading and
// checking over any holder of the files).

import { existsSync } from "node:fs";
import * as path from "node:path";
import type { TextTokenizer } from "./tokenizer.js";
import { TOKENIZER_FILE, tokenizerFromFiles } from "./tokenizer-files.js";
import { diskTextFiles } from "./disk-text-files.js";

export { CHAT_TEMPLATE_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, noTokenizerError, tokenizerVocabMismatch } from "./tokenizer-files.js";

/** Does the directory have a tokenizer (a `tokenizer.json`)? */
export function hasTokenizer(dir: string): boolean {
  return existsSync(path.join(dir, TOKENIZER_FILE));
}

/** Loads the tokenizer of checkpoint directory `dir` (`label` is how messages show it). */
export function loadTokenizer(dir: string, label = dir): TextTokenizer {
  return tokenizerFromFiles(diskTextFiles(dir, label));
}
