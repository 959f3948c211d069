// The small markdown subset the language server's hovers use, as HTML: fenced code blocks,
// inline code, bold, italics; everything else is escaped text.
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
