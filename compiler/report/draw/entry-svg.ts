// `moec draw`'s picture of one entry: the structure diagram (or a decoding graph's agents and
// token flow) as SVG, with a caption of its counts. The CLI and the browser module both use it.
import type { Compilation, EntryInfo } from "../../compile-pipeline.js";
import { selectEntry } from "../../compile-pipeline.js";
import { humanCount } from "../numbers.js";
import { graphCost } from "../graph-cost.js";
import { diagramOf } from "./diagram.js";
import { diagramSvg } from "./svg.js";
import { decodingDiagram } from "./decoding-diagram.js";

/** The SVG of the entry `info` describes (from `entryInfo` over `file`); `fileLabel` names its file in the caption. */
export function entrySvg(compilation: Compilation, info: EntryInfo, file: string, entry: string | undefined, fileLabel: string): string {
  const sel = selectEntry(compilation, file, entry);
  // A decoding graph is drawn as its agents and their token flow; anything else by its statements.
  const graph = info.decoding ? graphCost(info.instance, info.decoding) : undefined;
  const cost = graph?.form;
  const d = info.decoding ? decodingDiagram(info.decoding, graph!) : diagramOf(compilation.unit, sel.decl!, sel.file, info.instance);
  const c = info.counts;
  const label = (l: string) => (l === "exact" ? "" : ` (${l})`);
  const range = (a: number, b: number) => (a === b ? humanCount(a) : `${humanCount(a)}–${humanCount(b)}`);
  return diagramSvg(d, [
    `${info.name} (${info.kind}${cost ? `, ${cost.form}` : ""})`,
    cost
      ? `${humanCount(c.total)} parameters · ${range(cost.best.passes, cost.worst.passes)} forward passes and ${range(cost.best.flops, cost.worst.flops)} FLOPs per generated token (weights)`
      : `${humanCount(c.total)} parameters · ${humanCount(c.active)} active per token${label(c.activeLabel)} · ${humanCount(c.flops)} FLOPs per token (weights)`,
    `${fileLabel}${Object.keys(info.hyper).length ? "  ·  " + Object.entries(info.hyper).map(([k, v]) => `${k} = ${v}`).join(", ") : ""}`,
  ]);
}
