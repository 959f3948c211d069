// An in-memory SourceHost: the fuzz and unit tests check text without touching the disk.
import * as path from "node:path";
import type { SourceHost } from "../../../compiler/semantic/module-loader.js";

export interface MemoryHost extends SourceHost {
  files: Map<string, string>;
}

/** Files by absolute path (relative paths are resolved against `/mem`). */
export function memoryHost(files: Record<string, string>): MemoryHost {
  const map = new Map<string, string>();
  for (const [k, v] of Object.entries(files)) map.set(path.resolve("/mem", k), v);
  return { files: map, readFile: (f) => map.get(f) };
}
