// `moec info` as data and as text, for one entry: the JSON document `moec info --json` prints
// and the table it prints without --json. The CLI and the browser module both use these.
import type { EntryInfo } from "../compile-pipeline.js";
import type { HfMap } from "../hf/map.js";
import { formatCount, humanCount } from "./numbers.js";
import { infoJson } from "./info-json.js";
import { type GraphCost, graphCostJson, graphCostText } from "./graph-cost.js";
import { type ModelReport, reportJson, reportText } from "./model-report.js";

/** The document `moec info --json` prints: counts, weights, the report, a graph's cost, HF names. */
export function infoDocument(info: EntryInfo, report: ModelReport, cost?: GraphCost, hf?: HfMap): Record<string, unknown> {
  return { ...infoJson(info), ...(cost ? graphCostJson(cost) : {}), ...reportJson(report), ...(hf ? hfJson(hf) : {}) };
}

function hfJson(hf: HfMap): Record<string, unknown> {
  return {
    weights_as: `hf:${hf.family.name}`,
    weights: hf.tensors.map((t) => ({
      name: t.hf, shape: t.shape, moec: t.moec.map((p) => p.name),
      ...(t.axis !== undefined && t.moec.length > 1 ? { concatenated_along: t.axis } : {}),
      ...(t.stacked ? { moec_stacked: t.stacked } : {}),
      ...(t.state ? { state: true } : {}),
    })),
  };
}

export function infoText(info: EntryInfo, fileLabel: string, allWeights: boolean, report: ModelReport, hf?: HfMap, cost?: GraphCost): string {
  const c = info.counts;
  const note = (l: string) => (l === "exact" ? "" : `  (${l})`);
  const hyper = Object.entries(info.hyper).map(([k, v]) => `${k} = ${v}`).join(", ");
  const rows: string[] = [
    `${info.name} (${info.kind}) in ${fileLabel}${hyper ? `\n  ${hyper}` : ""}`,
    "",
    `  total parameters   ${formatCount(c.total).padStart(18)}  ${humanCount(c.total)}`,
    `  active per token   ${formatCount(c.active).padStart(18)}  ${humanCount(c.active)}${note(c.activeLabel)}`,
    `  FLOPs per token    ${formatCount(c.flops).padStart(18)}  ${humanCount(c.flops)}${note(c.flopsLabel)}${cost?.form ? "  (all agents, one position each)" : ""}`,
    reportText(report),
    ...(cost ? ["", graphCostText(cost)] : []),
    "",
  ];
  const ws = hf
    ? hf.tensors.map((t) => ({ name: t.hf, shape: t.shape, state: t.state, from: t.moec.length === 1 ? t.moec[0]!.name : `${t.moec.map((p) => p.name).join(" + ")} (concatenated)` }))
    : info.weights.map((w) => ({ ...w, from: undefined as string | undefined }));
  const shown = allWeights || ws.length <= 100 ? ws : ws.slice(0, 40);
  // A loop, not Math.max(...list): a million-expert pool lists millions of tensors.
  let w = 0, sw = 0;
  for (const x of shown) {
    w = Math.max(w, x.name.length);
    sw = Math.max(sw, x.shape.join(", ").length + 2);
  }
  rows.push(hf ? `weights as Hugging Face ${hf.family.name} names (${ws.length} tensors; ${hf.family.modeling}):` : `weights (${ws.length} tensors):`);
  for (const x of shown) {
    const shape = `[${x.shape.join(", ")}]`;
    rows.push(`  ${x.name.padEnd(w)}  ${x.from ? shape.padEnd(sw) : shape}${x.state ? "  state" : ""}${x.from ? `  ← ${x.from}` : ""}`);
  }
  if (shown.length < ws.length) rows.push(`  … and ${ws.length - shown.length} more (--weights lists all, --json gives them as data)`);
  return rows.join("\n");
}
