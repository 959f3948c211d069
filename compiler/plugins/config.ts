// Trusted plugin configuration: `moec.config.json` ({ "plugins": [...] }) or a "moec" field in
// package.json, found from the working directory upwards (the nearest wins). Paths in it are
// relative to the file that names them. A .moe file can never name a plugin.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { PluginRequest } from "./loader.js";

export interface PluginConfig {
  file: string;
  requests: PluginRequest[];
}

function diag(message: string, file: string, help?: string): Diagnostic {
  return { code: "E0902", severity: "error", message, file, span: { start: 0, end: 0 }, secondary: [], help, fileLevel: true };
}

/** The nearest configuration from `cwd` upwards, if any, with problems as diagnostics. */
export function findPluginConfig(cwd: string): { config?: PluginConfig; diagnostics: Diagnostic[] } {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const [name, field] of [["moec.config.json", undefined], ["package.json", "moec"]] as const) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) continue;
      let json: unknown;
      try {
        json = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        if (field) continue; // a broken package.json is not ours to report
        return { diagnostics: [diag(`${name} is not valid JSON: ${(e as Error).message}`, file)] };
      }
      const section = field ? (json as Record<string, unknown> | null)?.[field] : json;
      if (section === undefined) continue;
      const plugins = (section as { plugins?: unknown } | null)?.plugins;
      if (plugins === undefined) return { config: { file, requests: [] }, diagnostics: [] };
      if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== "string")) {
        return { diagnostics: [diag(`${field ? `the "moec" field of ${name}` : name}: "plugins" must be a list of paths or package names`, file, `{ "plugins": ["./my-router.mjs", "moec-plugin-hash"] }`)] };
      }
      return { config: { file, requests: (plugins as string[]).map((specifier) => ({ specifier, baseDir: dir, requestedBy: file })) }, diagnostics: [] };
    }
    const up = path.dirname(dir);
    if (up === dir) return { diagnostics: [] };
    dir = up;
  }
}
