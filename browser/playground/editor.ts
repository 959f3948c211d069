// The CodeMirror 6 editor: basic setup, moec's highlighting and hover, format on Shift-Alt-F, and
// a change callback (the caller debounces diagnostics off it).
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { lintGutter } from "@codemirror/lint";
import { moeHighlighting } from "./moe-language.js";
import { moeHover } from "./hover.js";
import type { SourceInput } from "./source-input.js";

export interface EditorHooks {
  onChange(): void;
  onFormat(): void;
  currentInput(): SourceInput;
}

export function createEditor(parent: HTMLElement, text: string, hooks: EditorHooks): EditorView {
  return new EditorView({
    parent,
    doc: text,
    extensions: [
      basicSetup,
      lintGutter(),
      moeHighlighting,
      moeHover(hooks.currentInput),
      keymap.of([{ key: "Shift-Alt-f", run: () => (hooks.onFormat(), true) }]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) hooks.onChange();
      }),
    ],
  });
}

/** Replaces the whole text (one transaction, so undo restores the previous text). */
export function replaceText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
