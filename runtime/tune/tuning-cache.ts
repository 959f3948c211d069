// The tuning cache on disk (Node only; the browser module passes no table): one JSON file per
// adapter and driver under $XDG_CACHE_HOME/moec/tuning/ (default ~/.cache/moec/tuning/), named by
// the adapter's description and a hash of its whole key, written atomically (a temporary file in
// the same directory, then a rename) so a reader never sees half a table. MOEC_TUNING=off skips
// it. A missing file is silent (the fallbacks of gemm-shape.ts and lower-pools.ts apply); a corrupt
// one, one of another table format (format 1 has no schedule crossovers) or one another moec
// version wrote is a one-line warning naming it, and the fallbacks apply.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { parseTuningTable, serializeTuningTable, tableMatches, TuningFormatError, TuningTableError, type AdapterKey, type TuningTable } from "./tuning-table.js";

export function tuningCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), ".cache");
  return path.join(base, "moec", "tuning");
}

/** The cache file of an adapter: `llvmpipe-llvm-15-0-6-256-bits-3f2a9c1e.json`. */
export function tuningCacheFile(adapter: AdapterKey, env: NodeJS.ProcessEnv = process.env): string {
  const id = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].join("\n");
  const hash = createHash("sha256").update(id).digest("hex").slice(0, 8);
  const slug = (adapter.description || adapter.device || adapter.vendor || "adapter").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 48);
  return path.join(tuningCacheDir(env), `${slug || "adapter"}-${hash}.json`);
}

export const tuningDisabled = (env: NodeJS.ProcessEnv = process.env): boolean => /^(off|0|false|no)$/i.test(env.MOEC_TUNING ?? "");

/**
 * The cached table of `adapter` measured by moec `version`, or undefined (no file, MOEC_TUNING=off,
 * or a file that cannot be used, which `warn` is told about in one line).
 */
export function readTuningCache(adapter: AdapterKey, version: string, warn: (message: string) => void, env: NodeJS.ProcessEnv = process.env): TuningTable | undefined {
  if (tuningDisabled(env)) return undefined;
  const file = tuningCacheFile(adapter, env);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    warn(`tuning cache ${file} cannot be read (${(e as Error).message}); using the default GEMM shapes`);
    return undefined;
  }
  let table: TuningTable;
  try {
    table = parseTuningTable(text);
  } catch (e) {
    if (!(e instanceof TuningTableError)) throw e;
    if (e instanceof TuningFormatError) {
      warn(`tuning cache ${file} has ${e.message}; using the default GEMM shapes and schedules (rerun \`moec tune\`)`);
      return undefined;
    }
    warn(`tuning cache ${file} is corrupt: ${e.message}; using the default GEMM shapes (rerun \`moec tune\`)`);
    return undefined;
  }
  if (!tableMatches(table, adapter, version)) {
    warn(`tuning cache ${file} was measured by moec ${table.key.moec} on '${table.key.description}', not by moec ${version} on '${adapter.description}'; using the default GEMM shapes (rerun \`moec tune\`)`);
    return undefined;
  }
  return table;
}

/** Writes the table to its adapter's cache file atomically; returns the path. */
export function writeTuningCache(table: TuningTable, env: NodeJS.ProcessEnv = process.env): string {
  const file = tuningCacheFile(table.key, env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, serializeTuningTable(table));
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return file;
}
