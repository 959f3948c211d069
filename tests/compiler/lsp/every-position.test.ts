// The language server never throws: completion, hover, definition, references, signature help
// and prepare-rename at every position of every example file (agents.moe's graphs once made
// completion throw at 71 of its 210 positions), plus document symbols and semantic tokens once.
// Positions are every character boundary of each line, end of line included.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../../compiler/lsp/analysis.js";
import { fsHost } from "../../../compiler/driver.js";
import { completion } from "../../../compiler/lsp/features/completion.js";
import { hover } from "../../../compiler/lsp/features/hover.js";
import { definition, prepareRename, references } from "../../../compiler/lsp/features/navigation.js";
import { signatureHelp } from "../../../compiler/lsp/features/signature-help.js";
import { documentSymbols } from "../../../compiler/lsp/features/document-symbols.js";
import { semanticTokens } from "../../../compiler/lsp/features/semantic-tokens.js";
import { REPO_ROOT, moeFilesUnder } from "../../helpers/frontend/paths.js";

const examples = moeFilesUnder(path.join(REPO_ROOT, "examples"));

describe("language server features at every position of every example", () => {
  it("finds the examples (agents.moe with its graphs among them)", () => {
    expect(examples.map((f) => path.basename(f))).toContain("agents.moe");
  });

  it.each(examples.map((f) => [path.relative(REPO_ROOT, f), f]))("%s: no feature throws anywhere", (_rel, file) => {
    const a = analyze(path.resolve(file), fsHost);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const failures: string[] = [];
    const tryAt = (what: string, line: number, character: number, f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (failures.length < 10) failures.push(`${what} at ${line + 1}:${character + 1}: ${(e as Error).message}`);
        else failures.length++;
      }
    };
    let positions = 0;
    lines.forEach((text, line) => {
      for (let character = 0; character <= text.length; character++) {
        const pos = { line, character };
        positions++;
        tryAt("completion", line, character, () => completion(a, pos));
        tryAt("hover", line, character, () => hover(a, pos));
        tryAt("definition", line, character, () => definition(a, pos));
        tryAt("references", line, character, () => references(a, pos, true));
        tryAt("signatureHelp", line, character, () => signatureHelp(a, pos));
        tryAt("prepareRename", line, character, () => prepareRename(a, pos));
      }
    });
    tryAt("documentSymbols", 0, 0, () => documentSymbols(a));
    tryAt("semanticTokens", 0, 0, () => semanticTokens(a));
    expect(positions).toBeGreaterThan(lines.length);
    expect(failures).toEqual([]);
  });
});
