// compile() over any SourceHost: the one definition of what a compilation returns, used by the
// Node library API (index.ts, sources on disk) and the browser module (sources in memory).
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { hasErrors } from "./diagnostics/diagnostic.js";
import { SourceCache, renderDiagnostics } from "./diagnostics/render.js";
import type { SourceHost } from "./semantic/source-host.js";
import type { Registry } from "../stdlib/registry.js";
import type { EntryInfo } from "./compile-pipeline.js";
import { lowerEntry } from "./compile-pipeline.js";
import type { IrProgram } from "./ir/ir.js";
import type { Unsupported } from "./ir/ir-builder.js";
import type { DecodingGraph } from "./ir/decoding-graph.js";
import type { PluginLike } from "./plugins/loader.js";

export interface CompileInput {
  /** A .moe file on disk… */
  file?: string;
  /** …or source text (imports resolve relative to `file`, default `./inline.moe`). */
  source?: string;
  entry?: string;
  set?: Record<string, string | number | boolean>;
  registry?: Registry;
  /** Router plugins (objects; `loadPlugins` imports them from paths or packages). Their stages
   *  join the standard library's; their problems are diagnostics of the result. */
  plugins?: PluginLike[];
}

export interface CompileResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Counts and weights of the entry (absent when it does not check). */
  info?: EntryInfo;
  /** The IR, when the entry checks and every construct in it can run. */
  program?: IrProgram;
  /** A decoding graph entry (§11.2): its agents' programs and its form (no `program`). */
  decodingGraph?: DecodingGraph;
  /** Constructs that check but cannot run yet. */
  unsupported: Unsupported[];
  /** Diagnostics rendered with code frames. */
  formatDiagnostics(): string;
}

/** Compiles `file` (read through `host`) at the input's entry and bindings; `pluginDiagnostics`
 *  (from loading the input's plugins) lead the result's diagnostics. */
export function compileWithHost(input: CompileInput, file: string, host: SourceHost, registry: Registry | undefined, pluginDiagnostics: Diagnostic[] = []): CompileResult {
  const lowered = lowerEntry([file], { entry: input.entry, set: input.set, host, registry });
  const diagnostics = [...pluginDiagnostics, ...lowered.diagnostics];
  const ok = !hasErrors(diagnostics) && (lowered.program !== undefined || lowered.decodingGraph !== undefined) && lowered.unsupported.length === 0;
  return {
    ok,
    diagnostics,
    info: lowered.info,
    program: lowered.program,
    ...(lowered.decodingGraph ? { decodingGraph: lowered.decodingGraph } : {}),
    unsupported: lowered.unsupported,
    formatDiagnostics: () => {
      const sources = new SourceCache((f) => host.readFile(f));
      const unsupported = lowered.unsupported.map((u) => `${u.file}: ${u.message}`);
      return [renderDiagnostics(diagnostics, sources), ...unsupported].filter(Boolean).join("\n");
    },
  };
}
