// A layered layout for diagrams: ranks by longest path from the inputs, rows centred on one axis,
// nodes ordered by the mean position of what feeds them, and edges that skip ranks (residual
// connections) routed down lanes to the right of the rows they pass. Group nodes lay out their
// inner diagram first and size themselves around it. Monospace text makes widths predictable.
import type { DEdge, DNode, Diagram } from "./diagram.js";

export const FONT = { title: 12.5, line: 11, charW: 0.602 } as const;
const PAD_X = 12;
const PAD_Y = 7;
const TITLE_H = 16;
const LINE_H = 14;
const GAP_X = 26;
const GAP_Y = 36;
const LANE_GAP = 14;
const GROUP_PAD = 14;
export const STACK = 6; // offset of the cards behind a pool

export interface Placed {
  node: DNode;
  x: number;
  y: number;
  w: number;
  h: number;
  rank: number;
  /** Group nodes: the inner layout, at (x + GROUP_PAD, y + headerH). */
  inner?: Layout;
  headerH?: number;
}

export interface PlacedEdge {
  edge: DEdge;
  /** SVG path data, in the diagram's coordinates. */
  path: string;
  label?: { x: number; y: number; text: string };
}

export interface Layout {
  width: number;
  height: number;
  nodes: Placed[];
  edges: PlacedEdge[];
  diagram: Diagram;
}

export const textW = (s: string, size: number) => [...s].length * size * FONT.charW;

function size(n: DNode): { w: number; h: number; inner?: Layout; headerH?: number } {
  const tw = Math.max(textW(n.title, FONT.title), ...n.lines.map((l) => textW(l, FONT.line)));
  if (n.kind === "op" || n.kind === "input" || n.kind === "output") return { w: Math.max(tw + 2 * PAD_X + 6, 56), h: 26 };
  const headerH = PAD_Y + TITLE_H + n.lines.length * LINE_H + PAD_Y;
  if (n.inner) {
    const inner = layout(n.inner);
    return { w: Math.max(tw + 2 * PAD_X, inner.width + 2 * GROUP_PAD), h: headerH + inner.height + GROUP_PAD, inner, headerH };
  }
  const stack = n.kind === "pool" || n.kind === "shared" ? STACK : 0;
  return { w: tw + 2 * PAD_X + stack, h: headerH + stack };
}

/** Longest-path ranks; an edge that would close a cycle is ignored. */
function ranks(d: Diagram): number[] {
  const rank = d.nodes.map(() => 0);
  const preds = d.nodes.map(() => [] as number[]);
  for (const e of d.edges) preds[e.to]!.push(e.from);
  const state = d.nodes.map(() => 0);
  const visit = (v: number): number => {
    if (state[v] === 2) return rank[v]!;
    if (state[v] === 1) return -1; // on the stack: a cycle
    state[v] = 1;
    let r = 0;
    for (const p of preds[v]!) {
      const pr = visit(p);
      if (pr >= 0) r = Math.max(r, pr + 1);
    }
    state[v] = 2;
    rank[v] = r;
    return r;
  };
  d.nodes.forEach((_, i) => visit(i));
  return rank;
}

export function layout(d: Diagram): Layout {
  const rank = ranks(d);
  const placed: Placed[] = d.nodes.map((node, i) => ({ node, x: 0, y: 0, rank: rank[i]!, ...size(node) }));
  const rows: Placed[][] = [];
  for (const p of placed) (rows[p.rank] ??= []).push(p);
  for (let r = 0; r < rows.length; r++) rows[r] ??= [];
  const rowW = (row: Placed[]) => row.reduce((s, p) => s + p.w, 0) + GAP_X * Math.max(0, row.length - 1);
  const width0 = Math.max(60, ...rows.map(rowW));
  const axis = width0 / 2;
  const placeRow = (row: Placed[]) => {
    let x = axis - rowW(row) / 2;
    for (const p of row) {
      p.x = x;
      x += p.w + GAP_X;
    }
  };
  rows.forEach(placeRow);
  // Order each row by where its inputs are (barycentres), twice, keeping creation order on ties.
  for (let pass = 0; pass < 2; pass++) {
    for (const row of rows) {
      const bary = (p: Placed) => {
        const ins = d.edges.filter((e) => e.to === p.node.id && placed[e.from]!.rank < p.rank).map((e) => placed[e.from]!);
        return ins.length ? ins.reduce((s, q) => s + q.x + q.w / 2, 0) / ins.length : p.x + p.w / 2;
      };
      const keyed = row.map((p, i) => ({ p, i, b: bary(p) }));
      keyed.sort((a, b) => a.b - b.b || a.i - b.i);
      row.splice(0, row.length, ...keyed.map((k) => k.p));
      placeRow(row);
    }
  }
  let y = 0;
  const rowTop: number[] = [];
  const rowBottom: number[] = [];
  for (const row of rows) {
    const h = Math.max(0, ...row.map((p) => p.h));
    for (const p of row) p.y = y + (h - p.h) / 2;
    rowTop.push(y);
    rowBottom.push(y + h);
    y += h + GAP_Y;
  }
  const height = Math.max(0, y - GAP_Y);

  // Lanes for edges that skip ranks: beside every row they pass — left of them for edges leaving
  // the left half, right otherwise — shared when their rank spans do not overlap.
  const long = d.edges.filter((e) => placed[e.to]!.rank - placed[e.from]!.rank > 1 || placed[e.to]!.rank <= placed[e.from]!.rank);
  const cxOf = (q: Placed) => q.x + q.w / 2;
  const lanes = { left: [] as { until: number; x: number }[], right: [] as { until: number; x: number }[] };
  const laneOf = new Map<DEdge, { x: number; side: "left" | "right"; index: number }>();
  for (const e of [...long].sort((a, b) => placed[a.from]!.rank - placed[b.from]!.rank)) {
    const a = placed[e.from]!, b = placed[e.to]!;
    const r0 = Math.min(a.rank, b.rank), r1 = Math.max(a.rank, b.rank);
    const side = cxOf(a) < axis - 1 ? "left" : "right";
    const sign = side === "right" ? 1 : -1;
    const passed = rows.slice(r0, r1 + 1).flat();
    // Distance from the axis to the outermost box on this side, plus a gap.
    const need = Math.max(0, ...passed.map((p) => sign * (side === "right" ? p.x + p.w - axis : p.x - axis))) + LANE_GAP;
    const list = lanes[side];
    let lane = list.findIndex((l) => l.until < r0 && l.x >= need);
    if (lane < 0) {
      const x = Math.max(need, ...list.filter((l) => l.until >= r0).map((l) => l.x + LANE_GAP));
      list.push({ until: r1, x });
      lane = list.length - 1;
    } else list[lane]!.until = r1;
    laneOf.set(e, { x: axis + sign * list[lane]!.x, side, index: lane });
  }
  const leftExtent = Math.max(0, ...lanes.left.map((l) => l.x + LANE_GAP - axis));
  const width = leftExtent + Math.max(width0, ...lanes.right.map((l) => axis + l.x + LANE_GAP));

  // Ports: spread a node's adjacent-rank edges along its bottom (out) and top (in) by the other end's x.
  const outPorts = new Map<DEdge, number>();
  const inPorts = new Map<DEdge, number>();
  for (const p of placed) {
    const cx = (q: Placed) => q.x + q.w / 2;
    const outs = d.edges.filter((e) => e.from === p.node.id && !laneOf.has(e)).sort((a, b) => cx(placed[a.to]!) - cx(placed[b.to]!));
    const ins = d.edges.filter((e) => e.to === p.node.id && !laneOf.has(e)).sort((a, b) => cx(placed[a.from]!) - cx(placed[b.from]!));
    const spread = (list: DEdge[], map: Map<DEdge, number>) => list.forEach((e, i) => map.set(e, p.x + p.w / 2 + (list.length === 1 ? 0 : (i / (list.length - 1) - 0.5) * Math.min(p.w * 0.6, 24 * (list.length - 1)))));
    spread(outs, outPorts);
    spread(ins, inPorts);
  }
  const edges: PlacedEdge[] = d.edges.map((e) => {
    const a = placed[e.from]!, b = placed[e.to]!;
    const lane = laneOf.get(e);
    if (lane) return { edge: e, path: lanePath(a, b, lane, rows, rowTop, rowBottom) };
    const sx = outPorts.get(e)!, sy = a.y + a.h, tx = inPorts.get(e)!, ty = b.y;
    const dy = (ty - sy) / 2;
    const path = `M ${r1(sx)} ${r1(sy)} C ${r1(sx)} ${r1(sy + dy)} ${r1(tx)} ${r1(ty - dy)} ${r1(tx)} ${r1(ty)}`;
    return { edge: e, path, ...(e.label ? { label: { x: (sx + tx) / 2, y: (sy + ty) / 2, text: e.label } } : {}) };
  });
  // Left lanes extend past x = 0: shift everything right by their extent.
  if (leftExtent > 0) {
    for (const p of placed) p.x += leftExtent;
    for (const e of edges) {
      e.path = shiftPath(e.path, leftExtent);
      if (e.label) e.label.x += leftExtent;
    }
  }
  return { width, height, nodes: placed, edges, diagram: d };
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * An edge down a lane: it leaves the source sideways when nothing in its row is further out on
 * that side (else from the bottom, across the gap below the row), and enters the target likewise.
 */
function lanePath(a: Placed, b: Placed, lane: { x: number; side: "left" | "right"; index: number }, rows: Placed[][], rowTop: number[], rowBottom: number[]): string {
  const right = lane.side === "right";
  const outermost = (p: Placed) => rows[p.rank]!.every((q) => q === p || (right ? q.x + q.w <= p.x + p.w : q.x >= p.x));
  const stagger = ((lane.index % 4) - 1.5) * 4;
  const pts: [number, number][] = [];
  const sideX = (p: Placed) => (right ? p.x + p.w : p.x);
  const portX = (p: Placed) => p.x + p.w * (right ? 0.8 : 0.2);
  if (outermost(a)) pts.push([sideX(a), a.y + a.h / 2], [lane.x, a.y + a.h / 2]);
  else {
    const gy = rowBottom[a.rank]! + GAP_Y / 2 + stagger;
    pts.push([portX(a), a.y + a.h], [portX(a), gy], [lane.x, gy]);
  }
  if (outermost(b)) pts.push([lane.x, b.y + b.h / 2], [sideX(b), b.y + b.h / 2]);
  else {
    const gy = rowTop[b.rank]! - GAP_Y / 2 + stagger;
    pts.push([lane.x, gy], [portX(b), gy], [portX(b), b.y]);
  }
  return roundedPath(pts, 8);
}

/** An orthogonal polyline with its corners rounded. */
function roundedPath(pts: [number, number][], radius: number): string {
  const out = [`M ${r1(pts[0]![0])} ${r1(pts[0]![1])}`];
  for (let i = 1; i < pts.length - 1; i++) {
    const [px, py] = pts[i - 1]!, [x, y] = pts[i]!, [nx, ny] = pts[i + 1]!;
    const din = Math.hypot(x - px, y - py), dout = Math.hypot(nx - x, ny - y);
    const r = Math.min(radius, din / 2, dout / 2);
    if (r < 0.5) { out.push(`L ${r1(x)} ${r1(y)}`); continue; }
    const ax = x - ((x - px) / din) * r, ay = y - ((y - py) / din) * r;
    const bx = x + ((nx - x) / dout) * r, by = y + ((ny - y) / dout) * r;
    out.push(`L ${r1(ax)} ${r1(ay)} Q ${r1(x)} ${r1(y)} ${r1(bx)} ${r1(by)}`);
  }
  const last = pts[pts.length - 1]!;
  out.push(`L ${r1(last[0])} ${r1(last[1])}`);
  return out.join(" ");
}

/** Moves every x coordinate of a path made of M, L, Q and C commands with absolute points. */
function shiftPath(path: string, dx: number): string {
  const parts = path.split(" ");
  let coord = 0;
  return parts.map((t) => {
    if (/^[A-Z]$/.test(t)) { coord = 0; return t; }
    const v = Number(t);
    const isX = coord % 2 === 0;
    coord++;
    return isX ? String(r1(v + dx)) : t;
  }).join(" ");
}
