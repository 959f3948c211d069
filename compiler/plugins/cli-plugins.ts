// The plugins a CLI command runs with: the nearest trusted configuration (moec.config.json or
// package.json "moec") plus every `--plugin PATH|PACKAGE`, loaded into one registry.
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { Registry } from "../../stdlib/registry.js";
import { findPluginConfig } from "./config.js";
import { loadPlugins, type LoadedPlugin, type PluginRequest } from "./loader.js";

export interface CliPlugins {
  /** Undefined when no plugin is configured: the standard library alone. */
  registry?: Registry;
  plugins: LoadedPlugin[];
  diagnostics: Diagnostic[];
  configFile?: string;
}

export async function cliPlugins(cwd: string, flag: unknown): Promise<CliPlugins> {
  const found = findPluginConfig(cwd);
  const requests: PluginRequest[] = [...(found.config?.requests ?? [])];
  for (const specifier of (flag as string[] | undefined) ?? []) requests.push({ specifier, baseDir: cwd, requestedBy: "--plugin" });
  if (!requests.length) return { plugins: [], diagnostics: found.diagnostics, configFile: found.config?.file };
  const set = await loadPlugins(requests);
  return { registry: set.registry, plugins: set.plugins, diagnostics: [...found.diagnostics, ...set.diagnostics], configFile: found.config?.file };
}
