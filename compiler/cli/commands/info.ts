// `moec info FILE`: total and active parameters, FLOPs per token and every weight (§9, §7).
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs, parseSets } from "../args.js";
import type { CliIO } from "../output.js";
import { formatCount, humanCount } from "../output.js";
import { entryInfo } from "../../driver.js";
import type { EntryInfo } from "../../driver.js";
import { hasErrors } from "../../diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";

export const infoSpec: CommandSpec = {
  name: "info",
  summary: "parameters, FLOPs and weights of a layer, model or graph",
  usage: "moec info FILE [--entry NAME] [--set NAME=VALUE ...] [--json] [--weights]",
  positionals: { name: "a .moe file", min: 1, max: 1 },
  flags: [
    { name: "entry", type: "string", value: "NAME", help: "the layer/model/graph (optional when the file has exactly one entry point)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry, e.g. --set D=32 N=16" },
    { name: "json", type: "boolean", help: "print { entry, params: { total, active }, flops_per_token, weights } as JSON" },
    { name: "weights", type: "boolean", help: "list every weight tensor even when there are many" },
    { name: "plugin", type: "multi", value: "PATH", help: "load a router plugin (repeatable)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "Active parameters count everything outside expert pools plus the experts each router selects per token;\nupper bounds (top-p, threshold, mixed pools) and expectations (expert choice) are labelled.",
};

export async function runInfo(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, infoSpec);
  const file = path.resolve(io.cwd, args.positionals[0]!);
  const set = parseSets(args.flags.set as string[] | undefined);
  const res = entryInfo([file], { entry: args.flags.entry as string | undefined, set });
  const json = Boolean(args.flags.json);
  if (!res.info || hasErrors(res.diagnostics)) {
    printDiagnostics(res.diagnostics, res.compilation, io, json, (d) => ({ diagnostics: d }));
    return 1;
  }
  printDiagnostics(res.diagnostics, res.compilation, io, false);
  if (json) io.out(JSON.stringify(infoJson(res.info), null, 2));
  else io.out(infoText(res.info, io.cwd, Boolean(args.flags.weights)));
  return 0;
}

export function infoJson(info: EntryInfo): Record<string, unknown> {
  const c = info.counts;
  return {
    entry: info.name,
    kind: info.kind,
    hyper_parameters: info.hyper,
    params: { total: c.total, active: c.active, ...(c.activeLabel !== "exact" ? { active_is: c.activeLabel } : {}) },
    flops_per_token: c.flops,
    ...(c.flopsLabel !== "exact" ? { flops_per_token_is: c.flopsLabel } : {}),
    params_by_category: c.byCategory,
    weights: info.weights,
  };
}

function infoText(info: EntryInfo, cwd: string, allWeights: boolean): string {
  const c = info.counts;
  const note = (l: string) => (l === "exact" ? "" : `  (${l})`);
  const hyper = Object.entries(info.hyper).map(([k, v]) => `${k} = ${v}`).join(", ");
  const rows: string[] = [
    `${info.name} (${info.kind}) in ${path.relative(cwd, info.file) || info.file}${hyper ? `\n  ${hyper}` : ""}`,
    "",
    `  total parameters   ${formatCount(c.total).padStart(18)}  ${humanCount(c.total)}`,
    `  active per token   ${formatCount(c.active).padStart(18)}  ${humanCount(c.active)}${note(c.activeLabel)}`,
    `  FLOPs per token    ${formatCount(c.flops).padStart(18)}  ${humanCount(c.flops)}${note(c.flopsLabel)}`,
    "",
  ];
  const ws = info.weights;
  const shown = allWeights || ws.length <= 100 ? ws : ws.slice(0, 40);
  const w = Math.max(0, ...shown.map((x) => x.name.length));
  rows.push(`weights (${ws.length} tensors):`);
  for (const x of shown) rows.push(`  ${x.name.padEnd(w)}  [${x.shape.join(", ")}]${x.state ? "  state" : ""}`);
  if (shown.length < ws.length) rows.push(`  … and ${ws.length - shown.length} more (--weights lists all, --json gives them as data)`);
  return rows.join("\n");
}
