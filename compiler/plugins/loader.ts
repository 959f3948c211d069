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
import { PLUGIN_LOAD_TIMEOUT_MS, probePluginLoad } from "./load-probe.js";

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
async function importPlugin(req: PluginRequest, loadTimeoutMs: number): Promise<{ plugin?: Plugin; file: string; errors: PluginError[] }> {
  const file = isPath(req.specifier) ? path.resolve(req.baseDir, req.specifier) : resolvePackage(req.specifier, req.baseDir);
  if (!file || !fs.existsSync(file)) {
    const where = isPath(req.specifier) ? `no file ${file}` : `no package '${req.specifier}' in node_modules from ${req.baseDir}`;
    return { file: file ?? req.specifier, errors: [new PluginError("E0900", `cannot load plugin '${req.specifier}' (${req.requestedBy}): ${where}`, "check the path or install the package")] };
  }
  const url = pathToFileURL(file).href;
  // First in a worker with a time limit: a module that hangs or exits at load is named, not run here.
  const probe = await probePluginLoad(url, loadTimeoutMs);
  if (!probe.ok) return { file, errors: [new PluginError("E0900", `plugin '${req.specifier}' (${req.requestedBy}) ${probe.problem}`, "a plugin module should only define its stages when imported")] };
  let mod: Record<string, unknown>;
  try {
    mod = (await whileLoading(() => import(url))) as Record<string, unknown>;
  } catch (e) {
    return { file, errors: [new PluginError("E0900", `plugin '${req.specifier}' threw while loading: ${e instanceof Error ? e.message : String(e)}`, "plugins are ESM modules (.js in a \"type\": \"module\" package, or .mjs)")] };
  }
  let exported: unknown;
  try {
    exported = mod.default ?? mod.plugin;
    if (typeof exported === "function") exported = (exported as (a: typeof api) => unknown)(api);
  } catch (e) {
    return { file, errors: [new PluginError("E0900", `plugin '${req.specifier}': its default export threw: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  const errors = checkedPlugin(exported, `'${req.specifier}'`);
  return errors.length ? { file, errors } : { plugin: exported as Plugin, file, errors: [] };
}

/** validatePlugin, with the shapes it cannot read named too: a Promise (an async factory or an
 *  async default export) and fields whose getters throw. */
function checkedPlugin(exported: unknown, origin: string): PluginError[] {
  if (exported !== null && typeof exported === "object" && typeof (exported as { then?: unknown }).then === "function") {
    return [new PluginError("E0902", `plugin ${origin}: its default export is a Promise (an async function?); a plugin is an object, or a synchronous function of the plugin API returning one`)];
  }
  try {
    return validatePlugin(exported, origin);
  } catch (e) {
    return [new PluginError("E0902", `plugin ${origin}: reading its fields threw: ${e instanceof Error ? e.message : String(e)}`, "a plugin's fields are plain values, not getters that throw")];
  }
}

/** Runs the real import with process.exit refused (it throws into the module's evaluation) and
 *  anything the module prints on stdout sent to stderr, so `--json` output stays parseable. */
async function whileLoading<T>(load: () => Promise<T>): Promise<T> {
  const exit = process.exit;
  const log = console.log, info = console.info;
  const write = process.stdout.write;
  process.exit = ((code?: number) => {
    throw new Error(`it called process.exit(${code ?? ""}) while loading; a plugin may not end the process`);
  }) as typeof process.exit;
  console.log = console.info = (...a: unknown[]) => console.error(...a);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await load();
  } finally {
    process.exit = exit;
    console.log = log;
    console.info = info;
    process.stdout.write = write;
  }
}

/**
 * Loads plugins by path or package, plus plugin objects already in hand, into a fresh registry.
 * Problems become diagnostics (the registry then holds everything that did load).
 */
export async function loadPlugins(requests: PluginRequest[], objects: Plugin[] = [], loadTimeoutMs = PLUGIN_LOAD_TIMEOUT_MS): Promise<PluginSet> {
  const set: PluginSet = { plugins: [], diagnostics: [], registry: createStdRegistry() };
  const seen = new Set<string>();
  for (const req of requests) {
    const { plugin, file, errors } = await importPlugin(req, loadTimeoutMs);
    for (const e of errors) set.diagnostics.push(diag(e.code, e.message, file, e.help));
    if (!plugin || seen.has(file)) continue;
    seen.add(file);
    addPlugin(set, plugin, file, req.requestedBy);
  }
  for (const p of objects) {
    const errors = checkedPlugin(p, objectOrigin(p));
    for (const e of errors) set.diagnostics.push(diag(e.code, e.message, "<plugins>", e.help));
    if (!errors.length) addPlugin(set, p, undefined, "compile({ plugins })");
  }
  return set;
}

/** How a plugin object is named in messages: its name, when reading it does not throw. */
function objectOrigin(p: unknown): string {
  try {
    const name = (p as Plugin)?.name;
    return typeof name === "string" ? `'${name}'` : "(object)";
  } catch {
    return "(object)";
  }
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
    const errors = checkedPlugin(p, objectOrigin(p));
    for (const e of errors) set.diagnostics.push(diag(e.code, e.message, "<plugins>", e.help));
    if (!errors.length) addPlugin(set, p, undefined, "compile({ plugins })");
  }
  return set;
}

function addPlugin(set: PluginSet, plugin: Plugin, file: string | undefined, requestedBy: string): void {
  const source = `${String(plugin.name)}@${String(plugin.version)}`;
  try {
    registerPluginStages(set.registry, plugin, source);
  } catch (e) {
    if (e instanceof PluginError) {
      set.diagnostics.push(diag(e.code, e.message, file ?? "<plugins>", e.help));
      return;
    }
    // A getter of the plugin's that throws while its stages are read: the plugin's fault, named.
    set.diagnostics.push(diag("E0902", `plugin ${source}: reading its stages threw: ${e instanceof Error ? e.message : String(e)}`, file ?? "<plugins>"));
    return;
  }
  set.plugins.push({ plugin, name: plugin.name, version: plugin.version, source, file, requestedBy });
}
