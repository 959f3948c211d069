// Comma-separated lists in brackets: flat when they fit, otherwise one item per line with a
// trailing comma (the only place a trailing comma is printed).
import { doc, type AstPath, type Doc } from "prettier";
import type { MoeNode } from "./moe-nodes.js";
import { printEmptyBrackets } from "./print-comments.js";

const { group, indent, line, softline, join, ifBreak } = doc.builders;

export type PrintFn = (selector?: string | number | Array<string | number> | AstPath<MoeNode>) => Doc;

export interface ListStyle {
  open: string;
  close: string;
  /** `{ a, b }` keeps a space inside the brackets; `(a, b)` and `[a, b]` do not. */
  spaced?: boolean;
  /** Items that are expressions of a restricted grammar level (shape dims are `additive`). */
  wrapItem?: (item: unknown, printed: Doc) => Doc;
}

export function printBracketedList(path: AstPath<MoeNode>, print: PrintFn, key: string, style: ListStyle): Doc {
  const items = (path.node as unknown as Record<string, unknown>)[key] as unknown[] | undefined;
  if (!items || items.length === 0) return printEmptyBrackets(path, style.open, style.close);
  const inner = style.spaced ? line : softline;
  const docs = (path as AstPath<any>).map((p: AstPath) => (style.wrapItem ? style.wrapItem(p.node, print()) : print()), key) as Doc[];
  return group([style.open, indent([inner, join([",", line], docs)]), ifBreak(","), inner, style.close]);
}
