// Renders a laid-out diagram as a standalone SVG: one <g> per node with class and data-name (so
// tests and tools can find pools and routers), edges as paths with arrowheads, a title with the
// entry's totals, the layer notes (losses, reports) and a colour legend.
import type { Layout, Placed } from "./layout.js";
import { FONT, STACK, layout, textW } from "./layout.js";
import type { Diagram, NodeKind } from "./diagram.js";

const STYLE: Record<NodeKind, { fill: string; stroke: string; label: string }> = {
  input: { fill: "#f1f5f9", stroke: "#64748b", label: "input / output" },
  output: { fill: "#f1f5f9", stroke: "#64748b", label: "input / output" },
  embed: { fill: "#ede9fe", stroke: "#7c3aed", label: "embedding / head" },
  head: { fill: "#ede9fe", stroke: "#7c3aed", label: "embedding / head" },
  norm: { fill: "#f8fafc", stroke: "#94a3b8", label: "norm" },
  attention: { fill: "#dbeafe", stroke: "#2563eb", label: "attention" },
  ffn: { fill: "#dcfce7", stroke: "#16a34a", label: "dense FFN" },
  linear: { fill: "#f1f5f9", stroke: "#475569", label: "linear" },
  router: { fill: "#fef9c3", stroke: "#ca8a04", label: "router" },
  pool: { fill: "#ffedd5", stroke: "#ea580c", label: "expert pool" },
  shared: { fill: "#ccfbf1", stroke: "#0d9488", label: "shared experts" },
  op: { fill: "#ffffff", stroke: "#334155", label: "operation" },
  repeat: { fill: "#f8fafc", stroke: "#475569", label: "repeat stack" },
  iterate: { fill: "#fefce8", stroke: "#a16207", label: "iterate" },
  layer: { fill: "#ffffff", stroke: "#334155", label: "called layer" },
  agent: { fill: "#e0f2fe", stroke: "#0284c7", label: "model agent" },
};

const FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const MARGIN = 24;

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const f = (n: number) => String(Math.round(n * 10) / 10);

function text(x: number, y: number, s: string, size: number, opts: { bold?: boolean; anchor?: string; fill?: string } = {}): string {
  return `<text x="${f(x)}" y="${f(y)}" font-size="${size}"${opts.bold ? ' font-weight="bold"' : ""}${opts.anchor ? ` text-anchor="${opts.anchor}"` : ""}${opts.fill ? ` fill="${opts.fill}"` : ""}>${escapeXml(s)}</text>`;
}

function nodeSvg(p: Placed, ox: number, oy: number, out: string[]): void {
  const n = p.node;
  const st = STYLE[n.kind];
  const x = ox + p.x, y = oy + p.y;
  const dash = n.reference || n.kind === "repeat" || n.kind === "iterate" ? ' stroke-dasharray="6 4"' : "";
  out.push(`<g class="node ${n.kind}"${n.name !== undefined ? ` data-name="${escapeXml(n.name)}"` : ""}>`);
  out.push(`<title>${escapeXml([n.title, ...n.lines].join("\n"))}</title>`);
  if (n.kind === "op" || n.kind === "input" || n.kind === "output") {
    out.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(p.w)}" height="${f(p.h)}" rx="13" fill="${st.fill}" stroke="${st.stroke}"/>`);
    out.push(text(x + p.w / 2, y + p.h / 2 + 4, n.title, FONT.title, { anchor: "middle" }));
    out.push("</g>");
    return;
  }
  const stacked = n.kind === "pool" || n.kind === "shared";
  const w = stacked ? p.w - STACK : p.w, h = stacked ? p.h - STACK : p.h;
  if (stacked) {
    // Cards behind the box: a pool is many experts of one kind.
    out.push(`<rect x="${f(x + STACK)}" y="${f(y + STACK)}" width="${f(w)}" height="${f(h)}" rx="6" fill="${st.fill}" stroke="${st.stroke}"${dash}/>`);
    out.push(`<rect x="${f(x + STACK / 2)}" y="${f(y + STACK / 2)}" width="${f(w)}" height="${f(h)}" rx="6" fill="${st.fill}" stroke="${st.stroke}"${dash}/>`);
  }
  out.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" rx="6" fill="${st.fill}" stroke="${st.stroke}" stroke-width="${n.inner ? 1.2 : 1.5}"${dash}/>`);
  let ty = y + 7 + 12;
  out.push(text(x + 12, ty, n.title, FONT.title, { bold: true }));
  for (const line of n.lines) {
    ty += 14;
    out.push(text(x + 12, ty, line, FONT.line, { fill: "#334155" }));
  }
  if (p.inner) render(p.inner, x + 14, y + p.headerH!, out);
  out.push("</g>");
}

function render(l: Layout, ox: number, oy: number, out: string[]): void {
  for (const e of l.edges) {
    const route = e.edge.kind === "route";
    const weights = e.edge.kind === "weights";
    out.push(`<path class="edge ${e.edge.kind}" d="${e.path}" transform="translate(${f(ox)} ${f(oy)})" fill="none" stroke="${route ? "#ca8a04" : weights ? "#ea580c" : "#475569"}" stroke-width="${route ? 1.8 : 1.3}"${weights ? ' stroke-dasharray="4 3"' : ""} marker-end="url(#${route ? "arrow-route" : "arrow"})"/>`);
  }
  for (const p of l.nodes) nodeSvg(p, ox, oy, out);
  for (const e of l.edges) {
    if (!e.label) continue;
    const w = textW(e.label.text, FONT.line) + 8;
    const x = ox + e.label.x + 6, y = oy + e.label.y;
    out.push(`<rect x="${f(x)}" y="${f(y - 9)}" width="${f(w)}" height="15" rx="3" fill="#fffbeb" stroke="#ca8a04" stroke-width="0.6"/>`);
    out.push(text(x + 4, y + 2.5, e.label.text, FONT.line, { fill: "#854d0e" }));
  }
}

/** The whole picture: heading lines, the diagram, notes and a legend of the kinds that appear. */
export function diagramSvg(d: Diagram, heading: string[]): string {
  const l = layout(d);
  const notes = d.notes;
  const kinds = [...new Set(allKinds(d).map((k) => STYLE[k].label))];
  const headH = heading.length * 18 + 10;
  const legendItems = kinds.map((label) => ({ label, w: 22 + textW(label, FONT.line) + 18 }));
  const width = Math.max(l.width, textW(heading[0] ?? "", 15) + 10, ...heading.slice(1).map((h) => textW(h, FONT.line)), ...notes.map((n) => textW(n, FONT.line))) + 2 * MARGIN;
  const legendRows: { label: string; w: number }[][] = [[]];
  let rowW = 0;
  for (const it of legendItems) {
    if (rowW + it.w > width - 2 * MARGIN && legendRows[legendRows.length - 1]!.length) { legendRows.push([]); rowW = 0; }
    legendRows[legendRows.length - 1]!.push(it);
    rowW += it.w;
  }
  const notesH = notes.length ? notes.length * 15 + 12 : 0;
  const height = MARGIN + headH + l.height + 20 + notesH + legendRows.length * 20 + MARGIN;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${f(width)}" height="${f(height)}" viewBox="0 0 ${f(width)} ${f(height)}" font-family="${FONT_FAMILY}">`);
  out.push("<defs>");
  out.push('<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#475569"/></marker>');
  out.push('<marker id="arrow-route" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#ca8a04"/></marker>');
  out.push("</defs>");
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  heading.forEach((h, i) => out.push(text(MARGIN, MARGIN + 14 + i * 18, h, i === 0 ? 15 : FONT.line, { bold: i === 0, fill: i === 0 ? "#0f172a" : "#475569" })));
  const ox = MARGIN + (width - 2 * MARGIN - l.width) / 2;
  render(l, ox, MARGIN + headH, out);
  let y = MARGIN + headH + l.height + 20;
  for (const n of notes) {
    y += 15;
    out.push(text(MARGIN, y - 3, n, FONT.line, { fill: "#475569" }));
  }
  if (notes.length) y += 12;
  for (const row of legendRows) {
    let x = MARGIN;
    for (const it of row) {
      const st = Object.values(STYLE).find((s) => s.label === it.label)!;
      out.push(`<rect x="${f(x)}" y="${f(y + 2)}" width="14" height="12" rx="2" fill="${st.fill}" stroke="${st.stroke}"/>`);
      out.push(text(x + 20, y + 12, it.label, FONT.line, { fill: "#475569" }));
      x += it.w;
    }
    y += 20;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function allKinds(d: Diagram, out: NodeKind[] = []): NodeKind[] {
  for (const n of d.nodes) {
    out.push(n.kind);
    if (n.inner) allKinds(n.inner, out);
  }
  return out;
}
