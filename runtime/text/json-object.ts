// A JSON object file's text → the object, with errors that name the file (no file system).
import { TextError, showJson } from "./text-error.js";

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The JSON object in `text`; malformed JSON or another value is a TextError naming `shown`. */
export function parseJsonObject(text: string, shown: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TextError(`${shown}: not valid JSON (${(e as Error).message}).`, shown);
  }
  if (!isObject(v)) throw new TextError(`${shown}: must hold a JSON object; found ${showJson(v)}.`, shown);
  return v;
}

/** The object in file `name` of `files`; an unreadable file is a TextError naming it too. */
export function readJsonFile(files: { shown(name: string): string; readText(name: string): string }, name: string): Record<string, unknown> {
  const shown = files.shown(name);
  let text: string;
  try {
    text = files.readText(name);
  } catch (e) {
    throw new TextError(`${shown}: cannot read it (${(e as Error).message}).`, shown);
  }
  return parseJsonObject(text, shown);
}
