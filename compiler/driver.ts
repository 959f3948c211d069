// The compiler's front door in Node, shared by the CLI, the library API and the language server:
// the pipeline of compile-pipeline.ts, reading sources from disk unless a host is given.
import * as pipeline from "./compile-pipeline.js";
import type { CompileOptions, Compilation, LoweredProgram, EntryInfo } from "./compile-pipeline.js";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { fsHost } from "./semantic/fs-host.js";

export type { CompileOptions, Compilation, EntryInfo, LoweredProgram, PipelineOptions } from "./compile-pipeline.js";
export { parseSetValue, selectEntry } from "./compile-pipeline.js";
export { fsHost } from "./semantic/fs-host.js";

const onDisk = (opts: CompileOptions): pipeline.PipelineOptions => ({ ...opts, host: opts.host ?? fsHost });

/** Loads and checks files (and their imports). */
export function checkFiles(files: string[], opts: CompileOptions = {}): Compilation {
  return pipeline.checkFiles(files, onDisk(opts));
}

/** `moec info`: counts and weights of the entry at its bindings. */
export function entryInfo(files: string[], opts: CompileOptions = {}): { diagnostics: Diagnostic[]; info?: EntryInfo; compilation: Compilation } {
  return pipeline.entryInfo(files, onDisk(opts));
}

/** Lowers the entry to IR (for `moec run`, `moec bench` and the library API). */
export function lowerEntry(files: string[], opts: CompileOptions = {}): LoweredProgram {
  return pipeline.lowerEntry(files, onDisk(opts));
}
