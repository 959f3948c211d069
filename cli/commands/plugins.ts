// `moec plugins`: the router plugins this directory loads (moec.config.json / package.json
// "moec", plus --plugin), with their versions, where they came from and the stages they add.
import type { CommandSpec } from "../args.js";
import { parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { API_VERSION } from "@moec/plugin-api";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";

export const pluginsSpec: CommandSpec = {
  name: "plugins",
  summary: "list the router plugins that load here, with versions and stages",
  usage: "moec plugins [--plugin PATH|PACKAGE ...] [--json]",
  positionals: { name: "nothing", min: 0, max: 0 },
  flags: [
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "also load this plugin (repeatable)" },
    { name: "json", type: "boolean", help: "print { api_version, config, plugins: [{ name, version, file, stages }], diagnostics }" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: `Plugins load from the nearest moec.config.json ({ "plugins": [...] }) or package.json "moec" field,\nand from --plugin; never from a .moe file. Plugin API version: ${API_VERSION}.`,
};

export async function runPlugins(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, pluginsSpec);
  const pl = await cliPlugins(io.cwd, args.flags.plugin);
  const stages = (p: (typeof pl.plugins)[number]) =>
    p.plugin.stages.map((s) => ({
      name: s.name,
      kind: Array.isArray(s.kind) ? [...s.kind] : [s.kind],
      scope: s.scope ?? "token",
      params: (s.params ?? []).map((q) => ({ name: q.name, type: q.type, ...(q.default !== undefined ? { default: q.default } : {}) })),
      state: typeof s.state === "function" ? "(depends on arguments)" : (s.state ?? []).map((x) => x.name),
      gpu: Boolean(s.wgsl),
    }));
  if (args.flags.json) {
    printDiagnostics(pl.diagnostics, undefined, io, true, (d) => ({
      api_version: API_VERSION,
      config: pl.configFile ?? null,
      plugins: pl.plugins.map((p) => ({ name: p.name, version: p.version, file: p.file ?? null, requested_by: p.requestedBy, stages: stages(p) })),
      diagnostics: d,
    }));
    return hasErrors(pl.diagnostics) ? 1 : 0;
  }
  printDiagnostics(pl.diagnostics, undefined, io, false);
  const lines = [`plugin API ${API_VERSION}${pl.configFile ? `; configuration: ${displayPath(pl.configFile, io.cwd)}` : "; no moec.config.json here"}`];
  if (!pl.plugins.length) lines.push("no plugins loaded (add --plugin PATH|PACKAGE, or list them in moec.config.json)");
  for (const p of pl.plugins) {
    lines.push(`${p.name} ${p.version}  (${p.file ? displayPath(p.file, io.cwd) : "object"}; ${p.requestedBy === "--plugin" ? "--plugin" : `from ${displayPath(p.requestedBy, io.cwd)}`})`);
    if (p.plugin.description) lines.push(`  ${p.plugin.description}`);
    for (const s of stages(p)) {
      const params = s.params.map((q) => `${q.name}: ${q.type}${"default" in q ? ` = ${String(q.default)}` : ""}`).join(", ");
      lines.push(`  ${s.name}(${params})  ${s.kind.join("/")}${s.scope === "run" ? ", per run" : ""}${Array.isArray(s.state) && s.state.length ? `, state: ${s.state.join(", ")}` : ""}${s.gpu ? "" : ", no GPU code"}`);
    }
  }
  io.out(lines.join("\n"));
  return hasErrors(pl.diagnostics) ? 1 : 0;
}
