// The `moec/info` request: what the command "moec: Show info for the layer under the cursor"
// asks the server, and what it shows. The server answers with `moec info` for the layer, model
// or graph around the position (compiler/lsp/features/info-request.ts).
export const INFO_REQUEST = "moec/info";

export interface InfoParams {
  /** The document, both as the server reads it (`uri`) and in LSP's TextDocumentPositionParams shape. */
  uri: string;
  textDocument: { uri: string };
  /** Zero-based line and UTF-16 character, as in LSP. */
  position: { line: number; character: number };
}

export interface InfoResult {
  /** The declaration the info is about, when the cursor is inside one. */
  entry?: string;
  /** What to show: Markdown. */
  markdown: string;
}

export function infoParams(uri: string, line: number, character: number): InfoParams {
  return { uri, textDocument: { uri }, position: { line, character } };
}

/** The text to show for a reply; tolerant of a server that answers with a bare string or nothing. */
export function infoText(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (reply && typeof reply === "object" && typeof (reply as InfoResult).markdown === "string") return (reply as InfoResult).markdown;
  return "moec: the server has no info for this position.";
}
