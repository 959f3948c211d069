// Loading router plugins (ESM `.js`/`.mjs` files or packages) named on the command line, in
// trusted configuration (moec.config.json, a "moec" field in package.json, the editor's
// settings) or handed to `compile({ plugins })`. Never from a .moe file: opening a file must
// not run code. Every failure — not found, throws at import, API version mismatch, invalid
// plugin, a stage name taken — is a diagnostic naming the plugin, never a crash.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Plugin } from "@moec/plugin-api";
import * as api from "@moec/plugin-api";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { Registry } from "../../stdlib/registry.js";
import { createStdRegistry } from "../../stdlib/index.js";
import { PluginError, registerPluginStages, validatePlugin } from "./register.js";

export interface LoadedPlugin {
  plugin: Plugin;
  name: string;
  version: string;
  /** `name@version`: how diagnostics and the registry name it. */
  source: string;
  /** The file it was loaded from (absent for objects handed to the library). */
  file?: string;
  /** How it was asked for: `--plugin ./x.mjs`, `moec.config.json`, … */
  requestedBy: string;
}

export interface PluginRequest {
  /** A path (`./my-router.mjs`, absolute) or a package name (`moec-plugin-hash`). */
  specifier: string;
  /** Paths and packages resolve from here. */
  baseDir: string;
  /** For messages: `--plugin`, `/path/moec.config.json`. */
  requestedBy: string;
}

export interface PluginSet {
  plugins: LoadedPlugin[];
  diagnostics: Diagnostic[];
  /** The standard library plus every plugin that loaded. */
  registry: Registry;
}

function diag(code: string, message: string, file: string, help?: string): Diagnostic {
  return { code, severity: "error", message, file, span: { start: 0, end: 0 }, secondary: [], help, fileLevel: true };
}

const isPath = (s: string): boolean => s.startsWith(".") || s.startsWith("/") || path.isAbsolute(s) || /\.(m?js|cjs)$/.test(s) || s.includes("\\");

/** Resolves a package's ESM entry from `baseDir` upwards (node_modules), without running it. */
export function resolvePackage(name: string, baseDir: string): string | undefined {
  let dir = path.resolve(baseDir);
  for (;;) {
    const pkgDir = path.join(dir, "node_modules", name);
    const pj = path.join(pkgDir, "package.json");
    if (fs.existsSync(pj)) {
      const pkg = JSON.parse(fs.readFileSync(pj, "utf8")) as { exports?: unknown; module?: string; main?: string };
      const entry = exportsEntry(pkg.exports) ?? pkg.module ?? pkg.main ?? "index.js";
      return path.join(pkgDir, entry);
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function exportsEntry(x: unknown): string | undefined {
  if (typeof x === "string") return x;
  if (!x || typeof x !== "object") return undefined;
  const o = x as Record<string, unknown>;
  const dot = "." in o ? o["."] : o;
  if (typeof dot === "string") return dot;
  if (dot && typeof dot === "object") {
    const d = dot as Record<string, unknown>;
    for (const k of ["import", "default", "node"]) {
      const v = d[k];
      if (typeof v === "string") return v;
      const nested = exportsEntry(v);
      if (nested) return nested;
    }
  }
  return undefined;
}

/** Imports one plugin module and returns its plugin object (or the problems). */
async function importPlugin(req: PluginRequest): Promise<{ plugin?: Plugin; file: string; errors: PluginError[] }> {
  const file = isPath(req.specifier) ? path.resolve(req.baseDir, req.specifier) : resolvePackage(req.specifier, req.baseDir);
  if (!file || !fs.existsSync(file)) {
    const where = isPath(req.specifier) ? `no file ${file}` : `no package '${req.specifier}' in node_modules from ${req.baseDir}`;
    return { file: file ?? req.specifier, errors: [new PluginError("E0900", `cannot load plugin '${req.specifier}' (${req.requestedBy}): ${where}`, "check the path or install the package")] };
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    return { file, errors: [new PluginError("E0900", `plugin '${req.specifier}' threw while loading: ${e instanceof Error ? e.message : String(e)}`, "plugins are ESM modules (.js in a \"type\": \"module\" package, or .mjs)")] };
  }
  let exported = mod.default ?? mod.plugin;
  if (typeof exported === "function") {
    try {
      exported = (exported as (a: typeof api) => unknown)(api);
    } catch (e) {
      return { file, errors: [new PluginError("E0900", `plugin '${req.specifier}': its default export threw: ${e instanceof Error ? e.message : String(e)}`)] };
    }
  }
  const errors = validatePlugin(exported, `'${req.specifier}'`);
  return errors.length ? { file, errors } : { plugin: exported as Plugin, file, errors: [] };
}

/**
 * Loads plugins by path or package, plus plugin objects already in hand, into a fresh registry.
 * Problems become diagnostics (the registry then holds everything that did load).
 */
export async function loadPlugins(requests: PluginRequest[], objects: Plugin[] = []): Promise<PluginSet> {
  const set: PluginSet = { plugins: [], diagnostics: [], registry: createStdRegistry() };
  const seen = new Set<string>();
  for (const req of requests) {
    const { plugin, file, errors } = await importPlugin(req);
    for (const e of errors) set.diagnostics.push(diag(e.code, e.message, file, e.help));
    if (!plugin || seen.has(file)) continue;
    seen.add(file);
    addPlugin(set, plugin, file, req.requestedBy);
  }
  for (const p of objects) {
    const errors = validatePlugin(p, typeof (p as Plugin)?.name === "string" ? `'${p.name}'` : "(object)");
    for (const e of errors) set.diagnostics.push(diag(e.code, e.message, "<plugins>", e.help));
    if (!errors.length) addPlugin(set, p, undefined, "compile({ plugins })");
  }
  return set;
}

/** A module's default export: the plugin, or a function of the plugin API returning it. */
export function resolvePluginExport(p: unknown): unknown {
  return typeof p === "function" ? (p as (a: typeof api) => unknown)(api) : p;
}

export type PluginLike = Plugin | ((a: typeof api) => Plugin);

/** Synchronous: plugin objects (or plugin functions) already imported: `compile({ plugins })`. */
export function pluginSetFromObjects(objects: PluginLike[]): PluginSet {
  const set: PluginSet = { plugins: [], diagnostics: [], registry: createStdRegistry() };
  for (const entry of objects) {
    let p: Plugin;
    try {
      p = resolvePluginExport(entry) as Plugin;
    } catch (e) {
      set.diagnostics.push(diag("E0900", `a plugin's function threw: ${e instanceof Error ? e.message : String(e)}`, "<plugins>"));
      continue;
    }
    const errors = validatePlugin(p, typeof (p as Plugin)?.name === "string" ? `'${p.name}'` : "(object)");
    for (const e of errors) set.diagnostics.push(diag(e.code, e.message, "<plugins>", e.help));
    if (!errors.length) addPlugin(set, p, undefined, "compile({ plugins })");
  }
  return set;
}

function addPlugin(set: PluginSet, plugin: Plugin, file: string | undefined, requestedBy: string): void {
  const source = `${plugin.name}@${plugin.version}`;
  try {
    registerPluginStages(set.registry, plugin, source);
  } catch (e) {
    if (e instanceof PluginError) {
      set.diagnostics.push(diag(e.code, e.message, file ?? "<plugins>", e.help));
      return;
    }
    throw e;
  }
  set.plugins.push({ plugin, name: plugin.name, version: plugin.version, source, file, requestedBy });
}
