// Hover in the editor: the language server's hover (shapes, counts, docs) from moec.hover(),
// its markdown shown as plain HTML (code blocks, inline code, bold, italics; everything else as text).
import { hoverTooltip } from "@codemirror/view";
import { moec } from "./moec-module.js";
import type { SourceInput } from "./source-input.js";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function inline(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>").replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>").replace(/\*([^*\s][^*]*)\*/g, "<i>$1</i>");
}

/** The small markdown subset hovers use, as HTML. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const parts = md.split(/^```[\w-]*\n?/m);
  parts.forEach((part, i) => {
    if (i % 2 === 1) out.push(`<pre>${escapeHtml(part.replace(/\n$/, ""))}</pre>`);
    else for (const para of part.split(/\n{2,}/)) if (para.trim()) out.push(`<p>${para.trim().split("\n").map(inline).join("<br>")}</p>`);
  });
  return out.join("");
}

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
