// Seeded fuzzing of the language server's analysis on edit sequences: an example is opened as an
// editor buffer (vscode-languageserver-textdocument, as the server keeps it) and 1–4 incremental
// edits are applied — the front end's token-level mutations (tests/helpers/frontend/mutate.ts)
// turned into range edits, and raw range edits at random positions, some past the end of a line
// or of the document (the buffer clamps them, as a client's may send them). The result is
// analysed and every feature is asked at random positions: diagnostics, hover, completion,
// signature help, definition, references, prepare-rename and rename (RenameError is its one
// refusal), document symbols, semantic tokens, quick fixes, `moec/info`; one case in eight is
// formatted when it parses. Nothing may throw, each diagnostic lies inside the document, and each
// case ends within the time bound. FUZZ_SEED / FUZZ_CASES drive it (scripts/fuzz-loaders.mjs --loader lsp).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { TextDocument } from "vscode-languageserver-textdocument";
import { fsHost } from "../../../compiler/driver.js";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { analyze } from "../../../compiler/lsp/analysis.js";
import { quickFixes } from "../../../compiler/lsp/features/code-actions.js";
import { completion } from "../../../compiler/lsp/features/completion.js";
import { lspDiagnostics } from "../../../compiler/lsp/features/diagnostics.js";
import { documentSymbols } from "../../../compiler/lsp/features/document-symbols.js";
import { hover } from "../../../compiler/lsp/features/hover.js";
import { infoAt } from "../../../compiler/lsp/features/info-request.js";
import { definition, prepareRename, references, rename, RenameError } from "../../../compiler/lsp/features/navigation.js";
import { semanticTokens } from "../../../compiler/lsp/features/semantic-tokens.js";
import { signatureHelp } from "../../../compiler/lsp/features/signature-help.js";
import type { SourceHost } from "../../../compiler/semantic/module-loader.js";
import { parseSource } from "../../../compiler/syntax/parse.js";
import type { Prng } from "../../helpers/frontend/prng.js";
import { MUTATIONS, VOCABULARY, mutate } from "../../helpers/frontend/mutate.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";
import { CaseProblem, FUZZ_RSS_LIMIT_MIB, fuzzSettings, fuzzTimeout, runFuzz } from "../../helpers/fuzz-loop.js";

const settings = fuzzSettings(300, 0x15b);
// Small examples keep a case to milliseconds; their imports (std, sibling files) are read from disk.
const EXAMPLES = ["smora", "dynamic_topp", "expert_choice", "qwen_moe", "mixtral", "mmoe"].map((n) => path.join(REPO_ROOT, "examples", `${n}.moe`));
const TEXTS = new Map(EXAMPLES.map((f) => [f, fs.readFileSync(f, "utf8")]));

/** One edit as an editor sends it: a range (maybe past the end of its line or the document) and new text. */
function randomEdit(doc: TextDocument, r: Prng): { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string } {
  const text = doc.getText();
  if (r.next() < 0.5) {
    // A token-level mutation, sent as the one range that changed.
    const after = mutate(text, r.pick(MUTATIONS), r);
    let start = 0;
    while (start < text.length && start < after.length && text[start] === after[start]) start++;
    let endOld = text.length, endNew = after.length;
    while (endOld > start && endNew > start && text[endOld - 1] === after[endNew - 1]) endOld--, endNew--;
    return { range: { start: doc.positionAt(start), end: doc.positionAt(endOld) }, text: after.slice(start, endNew) };
  }
  const pos = () => ({ line: r.int(doc.lineCount + 2), character: r.int(r.next() < 0.8 ? 40 : 10_000) });
  let a = pos(), b = r.next() < 0.5 ? a : pos();
  if (b.line < a.line || (b.line === a.line && b.character < a.character)) [a, b] = [b, a];
  return { range: { start: a, end: b }, text: r.next() < 0.3 ? "" : r.pick(VOCABULARY) + (r.next() < 0.3 ? "\n" : "") };
}

describe(`language server fuzz: ${settings.cases} edit sequences (seed ${settings.seed})`, () => {
  it("no feature throws after any edit sequence", async () => {
    let withErrors = 0;
    const report = await runFuzz("lsp", settings, async (i, rng) => {
      const file = EXAMPLES[i % EXAMPLES.length]!;
      let doc = TextDocument.create(`file://${file}`, "moe", 1, TEXTS.get(file)!);
      for (let k = 1 + rng.int(4); k > 0; k--) doc = TextDocument.update(doc, [randomEdit(doc, rng)], doc.version + 1);
      const text = doc.getText();
      const host: SourceHost = { readFile: (f) => (f === file ? text : fsHost.readFile(f)), problem: (f) => fsHost.problem?.(f) };
      const a = analyze(file, host);
      const diagnostics = lspDiagnostics(a, file);
      if (diagnostics.some((d) => d.severity === 1)) withErrors++;
      const lines = text.split("\n");
      for (const d of diagnostics) {
        const { start, end } = d.range;
        const inside = (p: { line: number; character: number }) => p.line >= 0 && p.line < lines.length && p.character >= 0 && p.character <= lines[p.line]!.length + 1;
        if (!inside(start) || !inside(end) || start.line > end.line || (start.line === end.line && start.character > end.character)) {
          throw new CaseProblem(`diagnostic ${d.code} has range ${JSON.stringify(d.range)} outside a document of ${lines.length} lines`);
        }
      }
      quickFixes(doc.uri, diagnostics);
      documentSymbols(a);
      semanticTokens(a);
      for (let k = 0; k < 4; k++) {
        const line = rng.int(lines.length + 1);
        const pos = { line, character: rng.int((lines[line]?.length ?? 0) + 2) };
        hover(a, pos);
        completion(a, pos);
        signatureHelp(a, pos);
        definition(a, pos);
        references(a, pos, rng.next() < 0.5);
        if (prepareRename(a, pos)) {
          try {
            rename(a, pos, rng.pick(["x2", "E", "", "1x", "layer", "renamed"]));
          } catch (e) {
            if (!(e instanceof RenameError)) throw e;
          }
        }
        if (k === 0) infoAt(a, pos, host);
      }
      if (i % 8 === 0 && !parseSource(text, file).diagnostics.some((d) => d.severity === "error")) await formatMoe(text, { filepath: file });
      return diagnostics.length ? "rejected" : "clean";
    });
    expect(report.failures).toEqual([]);
    expect(report.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
    // The edits break most programs, so the error paths are exercised.
    if (report.cases >= 100) expect(withErrors).toBeGreaterThan(report.cases / 3);
  }, fuzzTimeout(settings.cases, 500));
});
