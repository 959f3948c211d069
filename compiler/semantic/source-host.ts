// Where the compiler reads `.moe` sources from: a host the caller provides. Node's reads files
// (semantic/fs-host.ts), the language server prefers open buffers, and a browser passes sources
// in memory (memoryHost); the compiler core itself never touches a file system.
import { resolvePath } from "./source-paths.js";

export interface SourceHost {
  /** Returns the file's text, or undefined when it cannot be read. */
  readFile(file: string): string | undefined;
  /** Why `readFile` gave undefined, in words ("it is a FIFO (named pipe), not a regular file"). */
  problem?(file: string): string | undefined;
}

/** Sources held in memory, by path (relative paths resolve against `/`… or the working directory). */
export function memoryHost(files: Record<string, string> | ReadonlyMap<string, string>, fallback?: SourceHost): SourceHost {
  const byPath = new Map<string, string>();
  for (const [p, text] of files instanceof Map ? files : Object.entries(files)) byPath.set(resolvePath(p), text);
  return {
    readFile: (f) => byPath.get(resolvePath(f)) ?? fallback?.readFile(f),
    problem: (f) => (byPath.has(resolvePath(f)) ? undefined : (fallback?.problem?.(f) ?? (fallback ? undefined : "no such file"))),
  };
}
