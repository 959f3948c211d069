// Go to definition, find references and rename — across imports, through the symbol index.
import type { Location, Position, Range, WorkspaceEdit, TextEdit } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import { toOffset, toRange } from "../analysis.js";
import { refAt, occurrences } from "../symbol-index.js";
import { URI } from "../uri.js";
import { keywordWords } from "../../syntax/tokens.js";

export function definition(a: Analysis, pos: Position): Location | undefined {
  const ref = refAt(a.index, a.file, toOffset(a.lines(a.file), pos));
  if (!ref?.def) return undefined;
  return { uri: URI.fromPath(ref.def.file), range: toRange(a.lines(ref.def.file), ref.def.span) };
}

export function references(a: Analysis, pos: Position, includeDeclaration: boolean): Location[] {
  const ref = refAt(a.index, a.file, toOffset(a.lines(a.file), pos));
  if (!ref?.def) return [];
  return occurrences(a.index, ref.def)
    .filter((r) => includeDeclaration || !r.isDef)
    .map((r) => ({ uri: URI.fromPath(r.file), range: toRange(a.lines(r.file), r.span) }));
}

export function prepareRename(a: Analysis, pos: Position): { range: Range; placeholder: string } | undefined {
  const ref = refAt(a.index, a.file, toOffset(a.lines(a.file), pos));
  if (!ref?.def) return undefined;
  return { range: toRange(a.lines(a.file), ref.span), placeholder: ref.def.name };
}

export class RenameError extends Error {}

export function rename(a: Analysis, pos: Position, newName: string): WorkspaceEdit | undefined {
  const ref = refAt(a.index, a.file, toOffset(a.lines(a.file), pos));
  if (!ref?.def) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) throw new RenameError(`\`${newName}\` is not a valid name`);
  if (keywordWords.includes(newName)) throw new RenameError(`\`${newName}\` is a keyword`);
  const changes: Record<string, TextEdit[]> = {};
  for (const r of occurrences(a.index, ref.def)) {
    (changes[URI.fromPath(r.file)] ??= []).push({ range: toRange(a.lines(r.file), r.span), newText: newName });
  }
  return { changes };
}
