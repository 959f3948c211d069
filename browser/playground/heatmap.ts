// The #heatmap: one SVG per router (data-router = its key) of a run's §10 statistics
// (runtime/stats/router-stats.ts): a row of cells per expert, coloured by tokens routed to it
// (load) and by routing weight mass (importance), each scaled to its row's maximum, with the
// numbers in each cell's tooltip.
import type { RouterStatsLike } from "./run-panel.js";

const SVG = "http://www.w3.org/2000/svg";
const CELL = 22;
const LABEL = 86;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** White → deep blue by the fraction f ∈ [0, 1]. */
function heat(f: number): string {
  const c = (a: number, b: number) => Math.round(a + (b - a) * f);
  return `rgb(${c(247, 24)},${c(249, 74)},${c(252, 156)})`;
}

function routerSvg(key: string, s: RouterStatsLike): SVGSVGElement {
  const rows: [string, number[]][] = [["load", s.load], ["importance", s.importance]];
  const E = s.experts;
  const width = LABEL + E * CELL + 2;
  const svg = el("svg", { width, height: rows.length * CELL + 20, viewBox: `0 0 ${width} ${rows.length * CELL + 20}`, role: "img" });
  svg.dataset.router = key;
  rows.forEach(([name, values], r) => {
    const max = Math.max(...values, 0);
    const label = el("text", { x: 0, y: r * CELL + 15, "font-size": 12, fill: "#5d6677" });
    label.textContent = name;
    svg.append(label);
    values.forEach((v, e) => {
      const rect = el("rect", { x: LABEL + e * CELL, y: r * CELL, width: CELL - 2, height: CELL - 2, fill: heat(max > 0 ? v / max : 0), stroke: "#d8dce3" });
      rect.dataset.expert = String(e);
      rect.dataset[name] = String(v);
      const title = el("title", {});
      title.textContent = `expert ${e}: ${name} ${Number.isInteger(v) ? v : v.toFixed(4)}`;
      rect.append(title);
      svg.append(rect);
    });
  });
  for (let e = 0; e < E; e += Math.max(1, Math.ceil(E / 16))) {
    const t = el("text", { x: LABEL + e * CELL + CELL / 2 - 1, y: rows.length * CELL + 14, "font-size": 10, "text-anchor": "middle", fill: "#5d6677" });
    t.textContent = String(e);
    svg.append(t);
  }
  return svg;
}

export function showHeatmap(holder: HTMLElement, stats: Record<string, RouterStatsLike> | undefined): void {
  holder.replaceChildren();
  if (!stats) return;
  for (const [key, s] of Object.entries(stats)) {
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = `${key}: ${s.experts} experts, ${s.tokens} tokens · active k ${s.active_k.mean.toFixed(2)} · max violation ${s.maxvio.toFixed(2)} · drop rate ${(s.drop_rate * 100).toFixed(1)} % · entropy ${s.entropy.toFixed(3)}`;
    fig.append(cap, routerSvg(key, s));
    holder.append(fig);
  }
}
