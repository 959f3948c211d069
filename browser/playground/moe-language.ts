// Highlighting of .moe text from moec's own lexer (lex()): a ViewPlugin that re-lexes the
// document on each change and marks every token with a `tok-KIND` class, so the editor colours
// exactly what the parser sees (block comments across lines, contextual keywords, bad characters).
import { RangeSetBuilder } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, ViewPlugin, type ViewUpdate } from "@codemirror/view";
import { moec } from "./moec-module.js";

const marks = new Map<string, Decoration>();
function markOf(kind: string): Decoration {
  let m = marks.get(kind);
  if (!m) marks.set(kind, (m = Decoration.mark({ class: `tok-${kind}` })));
  return m;
}

function tokenDecorations(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  let last = 0;
  for (const t of moec.lex(view.state.doc.toString())) {
    // The builder wants ranges in order and not overlapping; an invalid span may overlap a token.
    if (t.start < last || t.end <= t.start) continue;
    builder.add(t.start, t.end, markOf(t.kind));
    last = t.end;
  }
  return builder.finish();
}

export const moeHighlighting = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = tokenDecorations(view);
    }
    update(u: ViewUpdate) {
      if (u.docChanged) this.decorations = tokenDecorations(u.view);
    }
  },
  { decorations: (v) => v.decorations },
);
