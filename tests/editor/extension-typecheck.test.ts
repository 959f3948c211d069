// esbuild bundles the extension without checking types; this runs the type checker over
// vscode-extension/src against @types/vscode and vscode-languageclient's declarations.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../compiler/format/format-helpers.js";

/** src/server.ts imports the compiled language server's declarations from dist/. */
const languageServerIsBuilt = existsSync(join(repoRoot, "dist/compiler/lsp/server.d.ts"));

describe("vscode-extension/src", () => {
  it.skipIf(!languageServerIsBuilt)("type-checks (tsc -p vscode-extension)", () => {
    const r = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(repoRoot, "vscode-extension/tsconfig.json")], {
      encoding: "utf8",
    });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });
});
