// `moec stats FILE.json`: a summary of the routing statistics `moec run --stats` wrote;
// `--plot [-o out.svg]`: an SVG with one bar chart of expert load per router (people would
// rather look than read): bars are tokens per expert, the dashed line the mean load, the
// title carries MaxVio, entropy, mean active experts and the drop rate.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs, UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { OutputWriteError, outputPathProblem, writeOutputFile } from "../output-files.js";
import { displayPath } from "../../compiler/diagnostics/render.js";

export const statsSpec: CommandSpec = {
  name: "stats",
  summary: "summarize or plot routing statistics written by `moec run --stats`",
  usage: "moec stats STATS.json [--plot] [-o OUT.svg]",
  positionals: { name: "a statistics file (moec run --stats FILE)", min: 1, max: 1 },
  flags: [
    { name: "plot", type: "boolean", help: "draw expert load per router as an SVG (default file: STATS.svg)" },
    { name: "output", short: "o", type: "string", value: "FILE", help: "where to write the SVG (implies --plot; replaced atomically)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
};

interface RouterStatsJson {
  experts: number;
  tokens: number;
  load: number[];
  importance: number[];
  active_k: { mean: number; histogram: number[] };
  entropy: number;
  maxvio: number;
  drop_rate: number;
  balance?: number;
}

interface StatsJson {
  moec_stats: number;
  entry: string;
  tokens: number;
  routers: Record<string, RouterStatsJson>;
  losses?: { balance?: Record<string, number> };
}

function read(file: string): StatsJson {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new StatsFileError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const d = data as Partial<StatsJson>;
  if (d?.moec_stats !== 1 || typeof d.routers !== "object" || d.routers === null) {
    throw new StatsFileError(`${file} is not a moec statistics file (write one with \`moec run … --stats FILE\`)`);
  }
  for (const [k, r] of Object.entries(d.routers)) {
    if (!Array.isArray(r?.load)) throw new StatsFileError(`${file}: router '${k}' has no load`);
  }
  return d as StatsJson;
}

class StatsFileError extends Error {}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** The SVG: one panel per router, stacked. */
export function statsSvg(s: StatsJson): string {
  const routers = Object.entries(s.routers);
  const W = 760, padL = 56, padR = 16, panelH = 210, top = 44, plotH = 130;
  const H = top + Math.max(1, routers.length) * panelH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${padL}" y="26" font-size="16" font-weight="bold">${esc(`Expert load — ${s.entry}, ${s.tokens} token${s.tokens === 1 ? "" : "s"}`)}</text>`,
  ];
  routers.forEach(([key, r], i) => {
    const y0 = top + i * panelH;
    const E = r.load.length;
    const maxLoad = Math.max(1, ...r.load);
    const mean = r.load.reduce((a, b) => a + b, 0) / Math.max(1, E);
    const plotW = W - padL - padR;
    const bw = plotW / Math.max(1, E);
    const yOf = (v: number) => y0 + 28 + plotH - (v / maxLoad) * plotH;
    out.push(
      `<text x="${padL}" y="${y0 + 18}" font-size="13"><tspan font-weight="bold">${esc(key)}</tspan>  ${E} experts · maxvio ${fmt(r.maxvio)} · entropy ${fmt(r.entropy)} · active_k ${fmt(r.active_k.mean, 2)} · drop ${fmt(100 * r.drop_rate, 1)}%${r.balance !== undefined ? ` · loss balance ${r.balance.toPrecision(4)}` : ""}</text>`,
      `<line x1="${padL}" y1="${y0 + 28 + plotH}" x2="${W - padR}" y2="${y0 + 28 + plotH}" stroke="#444"/>`,
      `<line x1="${padL}" y1="${y0 + 28}" x2="${padL}" y2="${y0 + 28 + plotH}" stroke="#444"/>`,
      `<text x="${padL - 6}" y="${y0 + 32}" font-size="11" text-anchor="end">${maxLoad}</text>`,
      `<text x="${padL - 6}" y="${y0 + 28 + plotH}" font-size="11" text-anchor="end">0</text>`,
    );
    r.load.forEach((v, e) => {
      const x = padL + e * bw;
      const y = yOf(v);
      const over = v > mean;
      out.push(`<rect x="${x.toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(0.5, bw - (bw > 4 ? 1 : 0)).toFixed(2)}" height="${(y0 + 28 + plotH - y).toFixed(2)}" fill="${over ? "#d9622b" : "#3b7dd8"}"><title>expert ${e}: ${v} tokens</title></rect>`);
    });
    const ym = yOf(mean);
    out.push(`<line x1="${padL}" y1="${ym.toFixed(2)}" x2="${W - padR}" y2="${ym.toFixed(2)}" stroke="#222" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${W - padR}" y="${(ym - 4).toFixed(2)}" font-size="11" text-anchor="end">mean ${fmt(mean, 2)}</text>`);
    const ticks = Math.min(E, 16);
    for (let j = 0; j < ticks; j++) {
      const e = Math.round((j * (E - 1)) / Math.max(1, ticks - 1));
      out.push(`<text x="${(padL + (e + 0.5) * bw).toFixed(2)}" y="${y0 + 28 + plotH + 14}" font-size="10" text-anchor="middle">${e}</text>`);
    }
    out.push(`<text x="${padL + plotW / 2}" y="${y0 + 28 + plotH + 30}" font-size="11" text-anchor="middle">expert (bars above the mean in orange)</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function summaryText(s: StatsJson): string {
  const lines = [`${s.entry}: ${s.tokens} tokens, ${Object.keys(s.routers).length} router(s)`];
  for (const [k, r] of Object.entries(s.routers)) {
    lines.push(
      `  ${k}: ${r.load.length} experts, load min ${Math.min(...r.load)} / max ${Math.max(...r.load)}, maxvio ${fmt(r.maxvio)}, entropy ${fmt(r.entropy)}, active_k ${fmt(r.active_k.mean, 2)} [${r.active_k.histogram.join(" ")}], drop_rate ${fmt(r.drop_rate)}${r.balance !== undefined ? `, loss balance ${r.balance.toPrecision(4)}` : ""}`,
    );
  }
  return lines.join("\n");
}

export async function runStats(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, statsSpec);
  const file = path.resolve(io.cwd, args.positionals[0]!);
  const plot = Boolean(args.flags.plot) || args.flags.output !== undefined;
  const outArg = (args.flags.output as string | undefined) ?? file.replace(/\.json$/i, "") + ".svg";
  const out = path.resolve(io.cwd, outArg);
  if (plot) {
    if (out === file) throw new UsageError("-o would overwrite the statistics file");
    // Checked before the statistics are read, so a bad -o is reported first.
    const problem = outputPathProblem(out, args.flags.output !== undefined ? "-o" : "the SVG", io.cwd);
    if (problem) {
      io.err(`moec stats: ${problem}`);
      return 1;
    }
  }
  let s: StatsJson;
  try {
    s = read(file);
  } catch (e) {
    if (e instanceof StatsFileError) {
      io.err(`moec stats: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (!plot) {
    io.out(summaryText(s));
    return 0;
  }
  try {
    writeOutputFile(out, statsSvg(s), io.cwd);
  } catch (e) {
    if (!(e instanceof OutputWriteError)) throw e;
    io.err(`moec stats: ${e.message}`);
    return 1;
  }
  io.err(`moec stats: expert load of ${Object.keys(s.routers).length} router(s) drawn to ${displayPath(out, io.cwd)}`);
  return 0;
}
