// The `moec/info` request (used by the VS Code command "moec: Show info for the layer under the
// cursor"): `moec info` for the declaration that contains the cursor.
import type { Position } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import { toOffset } from "../analysis.js";
import { entryInfo } from "../../driver.js";
import type { SourceHost } from "../../semantic/module-loader.js";
import { infoJson } from "../../report/info-json.js";
import { humanCount, formatCount } from "../../report/numbers.js";

export interface InfoParams {
  uri: string;
  position: Position;
}

export interface InfoResult {
  entry?: string;
  markdown: string;
  json?: Record<string, unknown>;
}

export function infoAt(a: Analysis, pos: Position, host: SourceHost): InfoResult {
  const offset = toOffset(a.lines(a.file), pos);
  const sf = a.compilation.unit.files.get(a.file);
  const decl = sf?.program.decls.find((d) => (d.kind === "Layer" || d.kind === "Model" || d.kind === "Graph") && d.span.start <= offset && offset <= (d.kind === "Graph" ? d.span.end : d.endSpan.end));
  if (!decl || decl.kind === "Import" || decl.kind === "Const") return { markdown: "The cursor is not inside a layer, model or graph." };
  const res = entryInfo([a.file], { entry: decl.name.name, host, registry: a.compilation.registry });
  if (!res.info) {
    const errs = res.diagnostics.filter((d) => d.severity === "error").map((d) => `- ${d.message}`).join("\n");
    return { entry: decl.name.name, markdown: `**${decl.name.name}** does not check:\n\n${errs}` };
  }
  const c = res.info.counts;
  const rows = [
    `### ${res.info.name} (${res.info.kind})`,
    Object.entries(res.info.hyper).map(([k, v]) => `\`${k} = ${v}\``).join(", "),
    "",
    "| | |", "|---|---:|",
    `| total parameters | ${formatCount(c.total)} (${humanCount(c.total)}) |`,
    `| active per token | ${formatCount(c.active)} (${humanCount(c.active)})${c.activeLabel !== "exact" ? ` ${c.activeLabel}` : ""} |`,
    `| FLOPs per token | ${formatCount(c.flops)} (${humanCount(c.flops)}) |`,
    "",
    `${res.info.weights.length} weight tensors`,
  ];
  return { entry: res.info.name, markdown: rows.join("\n"), json: infoJson(res.info) };
}
