// Language-server features called directly on analyses of in-memory files.
import { describe, it, expect } from "vitest";
import { analyzeFiles, posOf, ROOT } from "./lsp-helpers.js";
import { hover } from "../../../compiler/lsp/features/hover.js";
import { definition, references, rename } from "../../../compiler/lsp/features/navigation.js";
import { documentSymbols } from "../../../compiler/lsp/features/document-symbols.js";
import { completion } from "../../../compiler/lsp/features/completion.js";
import { signatureHelp } from "../../../compiler/lsp/features/signature-help.js";
import { lspDiagnostics } from "../../../compiler/lsp/features/diagnostics.js";
import { quickFixes } from "../../../compiler/lsp/features/code-actions.js";
import { semanticTokens, TOKEN_TYPES } from "../../../compiler/lsp/features/semantic-tokens.js";
import { URI } from "../../../compiler/lsp/uri.js";

const MIXTRAL = `layer mixtral_moe(x: [T, D], D = 64, N = 8, I = 96) {
  experts E[N] = ffn(hidden = I, act = swiglu)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
`;

const hoverText = (h: ReturnType<typeof hover>) => (h && typeof h.contents === "object" && "value" in h.contents ? h.contents.value : "");

describe("hover", () => {
  const a = analyzeFiles({ "m.moe": MIXTRAL }, "m.moe");
  it("shows a pool's expert count, kind, and parameter counts computed by hand", () => {
    const text = hoverText(hover(a, posOf(MIXTRAL, "E[N]")));
    expect(text).toContain("8 × ffn(hidden = 96, act = swiglu");
    // 8 experts × 3 matrices × 96 × 64 = 147,456; 2 active = 36,864.
    expect(text).toContain("147,456");
    expect(text).toContain("36,864");
  });
  it("shows a router's resolved pipeline with stage roles", () => {
    const text = hoverText(hover(a, posOf(MIXTRAL, "r =")));
    expect(text).toMatch(/`linear\(bias = false\)` \*score\* → `softmax` \*transform\* → `topk\(k = 2\)` \*select\* → `renorm` \*post\*/);
  });
  it("shows a hyper-parameter's value and a stage's documentation", () => {
    expect(hoverText(hover(a, posOf(MIXTRAL, "I,", 0)))).toContain("value: `96`");
    expect(hoverText(hover(a, posOf(MIXTRAL, "topk")))).toContain("router stage (select");
  });
});

describe("navigation across imports", () => {
  const files = {
    "lib.moe": MIXTRAL,
    "main.moe": `import { mixtral_moe } from "./lib.moe"\ngraph g(x: [T, D], D = 64) = mixtral_moe(D = D) -> mixtral_moe(D = D)\n`,
  };
  const a = analyzeFiles(files, "main.moe");
  it("goes to the definition in the imported file", () => {
    const loc = definition(a, posOf(files["main.moe"], "mixtral_moe(D", 0, 2));
    expect(loc?.uri).toBe(URI.fromPath(`${ROOT}/lib.moe`));
    expect(loc?.range.start).toEqual({ line: 0, character: 6 });
  });
  it("finds every reference, in both files", () => {
    const refs = references(a, posOf(files["main.moe"], "mixtral_moe(D"), true);
    expect(refs.length).toBe(4); // declaration, import name, two agents
  });
  it("renames a local pool everywhere in its layer", () => {
    const b = analyzeFiles({ "m.moe": MIXTRAL }, "m.moe");
    const edit = rename(b, posOf(MIXTRAL, "E[N]"), "experts_pool");
    const edits = Object.values(edit!.changes!)[0]!;
    expect(edits.map((e) => e.range.start.line).sort()).toEqual([1, 3]);
    expect(() => rename(b, posOf(MIXTRAL, "E[N]"), "layer")).toThrow(/keyword/);
  });
});

describe("symbols, completion, signature help", () => {
  const a = analyzeFiles({ "m.moe": MIXTRAL }, "m.moe");
  it("outlines layers with their pools and routers", () => {
    const s = documentSymbols(a);
    expect(s.map((x) => x.name)).toEqual(["mixtral_moe"]);
    expect(s[0]!.children!.map((x) => x.name)).toEqual(["E", "r"]);
  });
  it("completes stages after |>, kinds after experts =, enum values after act =", () => {
    const text = `layer l(x: [T, D], D = 8) {\n  experts E[2] = \n  router r = linear |> \n  experts F[2] = ffn(hidden = 4, act = \n}\n`;
    const b = analyzeFiles({ "c.moe": text }, "c.moe");
    const labels = (p: { line: number; character: number }) => completion(b, p, text).map((c) => c.label);
    expect(labels({ line: 1, character: 17 })).toEqual(expect.arrayContaining(["ffn", "atom", "lowrank", "identity", "zero"]));
    const stages = labels({ line: 2, character: 23 });
    expect(stages).toEqual(expect.arrayContaining(["topk", "renorm", "group_topk", "choose"]));
    expect(stages).not.toContain("ffn");
    expect(labels({ line: 3, character: 39 })).toEqual(["swiglu", "geglu", "relu", "gelu", "silu", "identity"]);
  });
  it("gives a stage's signature with the active parameter", () => {
    const text = `layer l(x: [T, D], D = 8) {\n  router r = linear |> group_topk(2, groups = `;
    const b = analyzeFiles({ "s.moe": text }, "s.moe");
    const h = signatureHelp(b, { line: 1, character: text.split("\n")[1]!.length }, text);
    expect(h?.signatures[0]!.label).toBe("group_topk(k, groups = …, keep = …)");
    expect(h?.activeParameter).toBe(1);
  });
});

describe("diagnostics and quick fixes", () => {
  const text = MIXTRAL.replace("softmax", "softmx");
  const a = analyzeFiles({ "m.moe": text }, "m.moe");
  it("reports a misspelt stage on its line and column, with a quick fix", () => {
    const d = lspDiagnostics(a, `${ROOT}/m.moe`);
    expect(d).toHaveLength(1);
    expect(d[0]!.range).toEqual({ start: { line: 2, character: 23 }, end: { line: 2, character: 29 } });
    const fixes = quickFixes("file:///virtual/m.moe", d);
    expect(fixes[0]!.edit!.changes!["file:///virtual/m.moe"]![0]!.newText).toBe("softmax");
  });
});

describe("semantic tokens", () => {
  it("marks contextual keywords as keywords only where they act as keywords", () => {
    const text = `layer l(x: [T, D], D = 8) {\n  experts experts[2] = ffn(hidden = 4)\n  router gate = linear |> topk(1)\n  return moe(x, gate, experts)\n}\n`;
    const a = analyzeFiles({ "k.moe": text }, "k.moe");
    const data = semanticTokens(a);
    const toks: { line: number; ch: number; len: number; type: string }[] = [];
    let line = 0, ch = 0;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i]!;
      ch = data[i]! === 0 ? ch + data[i + 1]! : data[i + 1]!;
      toks.push({ line, ch, len: data[i + 2]!, type: TOKEN_TYPES[data[i + 3]!]! });
    }
    const at = (l: number, c: number) => toks.find((t) => t.line === l && t.ch === c)?.type;
    expect(at(1, 2)).toBe("keyword"); // experts (statement keyword)
    expect(at(1, 10)).toBe("struct"); // experts (the pool's name)
    expect(at(2, 2)).toBe("keyword"); // router
    expect(at(3, 22)).toBe("struct"); // experts as an argument: a name, not a keyword
  });
});
