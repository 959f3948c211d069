// `moec generate --prompts FILE`: one prompt a line. With a tokenizer a line is text (the chat
// template applies to each line under --chat); without one, a line is token ids separated by
// commas or spaces. Every problem names FILE:LINE.
import * as fs from "node:fs";

export class PromptsFileError extends Error {
  override name = "PromptsFileError";
}

/** A prompts file larger than this is refused before it is read (a prompt a line: 64 MiB is far beyond any batch). */
export const PROMPTS_FILE_MAX_BYTES = 64 * 2 ** 20;

export interface PromptLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
}

/** The file's prompts: every line, a final newline not counting as an empty last line. */
export function readPromptsFile(file: string, shown: string): PromptLine[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new PromptsFileError(`cannot read prompts file ${shown}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (!st.isFile()) throw new PromptsFileError(`prompts file ${shown} is not a regular file`);
  if (st.size > PROMPTS_FILE_MAX_BYTES) throw new PromptsFileError(`prompts file ${shown} is ${st.size} bytes, above the limit of ${PROMPTS_FILE_MAX_BYTES}`);
  const bytes = fs.readFileSync(file);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new PromptsFileError(`prompts file ${shown} is not UTF-8 text`);
  }
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const out: PromptLine[] = [];
  lines.forEach((t, i) => {
    if (t.trim() === "") throw new PromptsFileError(`${shown}:${i + 1}: the line is empty; every line is one prompt`);
    out.push({ line: i + 1, text: t });
  });
  if (out.length === 0) throw new PromptsFileError(`prompts file ${shown} has no prompts`);
  return out;
}

/** A line of token ids ("1, 2, 3" or "1 2 3"), for a checkpoint without a tokenizer. */
export function idLine(p: PromptLine, shown: string): number[] {
  const items = p.text.trim().split(/[\s,]+/);
  return items.map((x, i) => {
    if (!/^\d+$/.test(x)) throw new PromptsFileError(`${shown}:${p.line}: item ${i} is \`${x.slice(0, 40)}\`, not a token id (without a tokenizer, each line is token ids separated by commas or spaces)`);
    return Number(x);
  });
}
