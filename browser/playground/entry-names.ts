// The entry names a text declares (`layer NAME`, `model NAME`, `graph NAME` at the top level),
// from moec's lexer, for the Entry field's suggestions: a file with several entries needs one.
import { moec } from "./moec-module.js";

const ENTRY_KEYWORDS = new Set(["layer", "model", "graph"]);

export function entryNames(source: string): string[] {
  const tokens = moec.lex(source).filter((t) => t.kind !== "comment");
  const names: string[] = [];
  let depth = 0;
  tokens.forEach((t, i) => {
    const text = source.slice(t.start, t.end);
    if (t.kind === "punctuation" && (text === "{" || text === "(" || text === "[")) depth++;
    else if (t.kind === "punctuation" && (text === "}" || text === ")" || text === "]")) depth = Math.max(0, depth - 1);
    const next = tokens[i + 1];
    if (depth === 0 && t.kind === "keyword" && ENTRY_KEYWORDS.has(text) && next?.kind === "name") names.push(source.slice(next.start, next.end));
  });
  return [...new Set(names)];
}

export function fillEntryList(list: HTMLDataListElement, source: string): void {
  list.replaceChildren(...entryNames(source).map((n) => Object.assign(document.createElement("option"), { value: n })));
}
