// Reading one JSON object file of a checkpoint directory (tokenizer.json, tokenizer_config.json,
// generation_config.json, config.json) with errors that name the file.

import { readFileSync } from "node:fs";
import { TextError, showJson } from "./text-error.js";

/** The file's JSON object; a missing, unreadable or malformed file is a TextError naming `shown`. */
export function readJsonObject(file: string, shown: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new TextError(`${shown}: cannot read it (${(e as Error).message}).`, shown);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TextError(`${shown}: not valid JSON (${(e as Error).message}).`, shown);
  }
  if (!isObject(v)) throw new TextError(`${shown}: must hold a JSON object; found ${showJson(v)}.`, shown);
  return v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
