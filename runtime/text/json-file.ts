// Reading one JSON object file from disk (tokenizer.json, tokenizer_config.json,
// generation_config.json, config.json) with errors that name the file.

import { readFileSync } from "node:fs";
import { TextError } from "./text-error.js";
import { parseJsonObject } from "./json-object.js";

export { isObject } from "./json-object.js";

/** The file's JSON object; a missing, unreadable or malformed file is a TextError naming `shown`. */
export function readJsonObject(file: string, shown: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new TextError(`${shown}: cannot read it (${(e as Error).message}).`, shown);
  }
  return parseJsonObject(text, shown);
}
