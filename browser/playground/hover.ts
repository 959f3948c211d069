// Hover in the editor: the language server's hover (shapes, counts, docs) from moec.hover(),
// shown as HTML by hover-markdown.ts.
import { hoverTooltip } from "@codemirror/view";
import { moec } from "./moec-module.js";
import type { SourceInput } from "./source-input.js";
import { markdownToHtml } from "./hover-markdown.js";

export function moeHover(currentInput: () => SourceInput) {
  return hoverTooltip((_view, pos) => {
    let md: string | undefined;
    try {
      md = moec.hover({ ...currentInput(), offset: pos });
    } catch {
      md = undefined; // a hover is a hint: a failure shows nothing rather than an error box
    }
    if (!md) return null;
    const text = md;
    return {
      pos,
      create() {
        const dom = document.createElement("div");
        dom.className = "moec-hover";
        dom.innerHTML = markdownToHtml(text);
        return { dom };
      },
    };
  });
}
