// How the extension starts the language server, decided from the user's settings alone (no
// `vscode` import, so it is unit-tested outside the editor).
import * as path from "node:path";

export type ServerLaunch =
  /** The bundled server, run by VS Code's own Node: `dist/server.js --stdio`. */
  | { kind: "bundled"; module: string }
  /** A user-chosen moec: `moec lsp --stdio`, or `node moec.js lsp --stdio` for a JS file. */
  | { kind: "executable"; command: string; args: string[] };

export interface LaunchSettings {
  /** `moec.server.path` from the user's settings; empty or unset means the bundled server. */
  serverPath: string | undefined;
  extensionPath: string;
  /** Resolves a relative `moec.server.path` (e.g. `node_modules/.bin/moec`); usually the first workspace folder. */
  baseDir: string | undefined;
}

const JS_FILE = /\.(?:c|m)?js$/i;

export function resolveServerLaunch(s: LaunchSettings): ServerLaunch {
  const configured = s.serverPath?.trim();
  if (!configured) return { kind: "bundled", module: path.join(s.extensionPath, "dist", "server.js") };
  const resolved = path.isAbsolute(configured) || !s.baseDir ? configured : path.resolve(s.baseDir, configured);
  // The client appends `--stdio`; the moec CLI serves LSP under its `lsp` command.
  if (JS_FILE.test(resolved)) return { kind: "executable", command: "node", args: [resolved, "lsp"] };
  return { kind: "executable", command: resolved, args: ["lsp"] };
}

/** Trusted plugins: only a list of non-empty strings from the user's settings is passed on. */
export function trustedPlugins(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((p): p is string => typeof p === "string" && p.trim() !== "").map((p) => p.trim());
}
