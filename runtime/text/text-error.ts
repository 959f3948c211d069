// The one error type of the text layer (tokenizers, chat templates, generation settings). Every
// problem names the file and, where there is one, the field, so a command prints `.message` and
// never a stack trace.

export class TextError extends Error {
  override readonly name = "TextError";

  constructor(
    message: string,
    /** The file concerned (as shown to the user), when there is one. */
    readonly file?: string,
    /** The JSON field concerned, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A short rendering of a JSON value for messages. */
export function showJson(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? "an empty array" : "an array";
  if (typeof v === "object") return "an object";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `file: "field": message`, the form every field error takes. */
export function fieldError(file: string, field: string, message: string): TextError {
  return new TextError(`${file}: "${field}" ${message}`, file, field);
}
