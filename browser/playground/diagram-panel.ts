// The #diagram panel: `moec draw`'s SVG of the entry. The SVG is moec's own output (text it
// generated and escaped), parsed as SVG rather than set as HTML.
export function showDiagram(holder: HTMLElement, svg: string | undefined): void {
  if (!svg) {
    holder.textContent = "";
    return;
  }
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
  const root = doc.documentElement;
  if (root.nodeName !== "svg") {
    holder.textContent = "the diagram could not be shown (moec draw gave malformed SVG; please report it)";
    return;
  }
  holder.replaceChildren(document.importNode(root, true));
}
