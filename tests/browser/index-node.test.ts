// The browser module (dist/browser/moec.js, as a page imports it) run in Node: it is one
// self-contained ES module with no Node built-ins, and it gives what Node's compiler and CLI give
// for the same text — compile(), `moec check --json`, `moec info --json`, `moec draw`, `moec fmt`
// — so the only difference a page sees is where sources come from. (tests/browser/ drives the
// same file in chromium; this file needs no browser.)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile as nodeCompile } from "../../compiler/index.js";
import { formatMoe } from "../../compiler/format/format-moe.js";
import { moec } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { BUNDLE, importBundle, type BrowserModule } from "../helpers/browser/bundle.js";

let m: BrowserModule;

beforeAll(async () => {
  m = await importBundle();
}, 120_000);

const read = (rel: string) => fs.readFileSync(path.join(REPO_ROOT, rel), "utf8");
/** The sources an example imports (agents.moe imports two others), by absolute path. */
const importsOf = (rel: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [, spec] of read(rel).matchAll(/from "(\.[^"]+\.moe)"/g)) out[path.posix.join("/", spec!)] = read(path.join(path.dirname(rel), spec!));
  return out;
};
const EXAMPLES: [string, string?][] = [["examples/mixtral.moe"], ["examples/agents.moe", "ensemble"], ["examples/models/olmoe_1b_7b.moe"], ["examples/granularity/peer.moe"], ["examples/deepseek_v3.moe"]];
/** A diagnostic without its file (Node's names the file on disk, the page's its own path). */
const located = (d: { code: string; span: unknown; message: string }) => ({ code: d.code, span: d.span, message: d.message.replace(/\/\S*\//g, "/") });

describe("the bundle", () => {
  it("is one ES module that reaches no Node built-in and imports nothing", () => {
    const meta = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "dist/browser/meta.json"), "utf8"));
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((i) => i.startsWith("node:") || /(^|\/)node_modules\/webgpu\//.test(i))).toBe(false);
    expect(inputs).toContain("browser/index.ts");
    for (const out of Object.values(meta.outputs) as { imports: unknown[] }[]) expect(out.imports).toEqual([]);
    // (lodash's guarded `module.require("util")` probe stays: `module` is undefined in a page.)
    const text = fs.readFileSync(BUNDLE, "utf8");
    const nodeImport = /from\s*["']node:|import\(\s*["']node:|require\(\s*["']node:/.exec(text);
    expect(nodeImport?.[0]).toBeUndefined();
  });
});

describe("the compiler in the bundle equals Node's", () => {
  it("compile(): counts, IR and diagnostics of the examples", () => {
    for (const [rel, entry] of EXAMPLES) {
      const source = read(rel);
      const inBrowser = m.compile({ source, file: "/" + path.basename(rel), files: importsOf(rel), entry });
      const inNode = nodeCompile({ file: path.join(REPO_ROOT, rel), entry });
      expect(inBrowser.ok, rel).toBe(inNode.ok);
      expect(inBrowser.info?.counts, rel).toEqual(inNode.info?.counts);
      expect(JSON.stringify(inBrowser.program), rel).toBe(JSON.stringify(inNode.program));
      expect(inBrowser.diagnostics.map(located), rel).toEqual(inNode.diagnostics.map(located));
    }
  });

  it("check(): a broken program's diagnostics as `moec check --json` prints them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-browser-check-"));
    try {
      const source = read("examples/mixtral.moe") + "\nlayer broken(x: [T, D]) {\n  let h = x |> \n  return h\n}\n";
      fs.writeFileSync(path.join(dir, "broken.moe"), source);
      const cli = await moec(["check", "broken.moe", "--json"], dir);
      expect(cli.code).toBe(1);
      const fromCli = JSON.parse(cli.out).diagnostics;
      const inBrowser = m.check({ source, file: "/broken.moe" });
      expect(inBrowser.ok).toBe(false);
      expect(inBrowser.diagnostics).toEqual(fromCli);
      // `x |>` continues onto the next line, so the parser stops at `return`: line 14 (the
      // example's 10 lines, a blank one, then the layer's header, `let` and `return`), column 3.
      expect(fromCli[0]).toMatchObject({ code: "E0101", line: 14, column: 3 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("info(): the document `moec info --json` prints, and its table", async () => {
    for (const [rel, entry] of [["examples/mixtral.moe"], ["examples/models/olmoe_1b_7b.moe"], ["examples/agents.moe", "ensemble"]] as [string, string?][]) {
      const args = [path.basename(rel), ...(entry ? ["--entry", entry] : [])];
      const cli = await moec(["info", ...args, "--json"], path.join(REPO_ROOT, path.dirname(rel)));
      expect(cli.code, cli.err).toBe(0);
      const inBrowser = m.info({ source: read(rel), file: "/" + path.basename(rel), entry, files: importsOf(rel) });
      if (!inBrowser.ok) throw new Error(JSON.stringify(inBrowser.diagnostics));
      expect(inBrowser.json, rel).toEqual(JSON.parse(cli.out));
      const text = await moec(["info", ...args], path.join(REPO_ROOT, path.dirname(rel)));
      expect(inBrowser.text, rel).toBe(text.out.trimEnd());
    }
  });

  it("draw(): the SVG `moec draw -o -` writes", async () => {
    for (const [rel, entry] of [["examples/mixtral.moe"], ["examples/agents.moe", "review"]] as [string, string?][]) {
      const cli = await moec(["draw", path.basename(rel), "-o", "-", ...(entry ? ["--entry", entry] : [])], path.join(REPO_ROOT, path.dirname(rel)));
      expect(cli.code, cli.err).toBe(0);
      const inBrowser = m.draw({ source: read(rel), file: "/" + path.basename(rel), entry, files: importsOf(rel) });
      if (!inBrowser.ok) throw new Error(JSON.stringify(inBrowser.diagnostics));
      expect(inBrowser.svg.trimEnd()).toBe(cli.out.trimEnd());
      expect(inBrowser.svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      // describe() is info() and draw() from one elaboration: the same documents.
      const both = m.describe({ source: read(rel), file: "/" + path.basename(rel), entry, files: importsOf(rel) });
      const info = m.info({ source: read(rel), file: "/" + path.basename(rel), entry, files: importsOf(rel) });
      if (!both.ok || !info.ok) throw new Error("describe/info failed");
      expect(both).toEqual({ ok: true, json: info.json, text: info.text, svg: inBrowser.svg });
    }
  });

  it("format(): Node's formatter's text; a source that does not parse gives its error", async () => {
    const messy = read("examples/mixtral.moe").replace(/\n {2}/g, "\n      ").replace(/, /g, ",");
    const r = await m.format({ source: messy });
    expect(r).toEqual({ ok: true, text: await formatMoe(messy) });
    const bad = await m.format({ source: "layer l(x: [T, D]) {\n  return x |>\n}\n" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diagnostics[0]).toMatchObject({ line: 3, severity: "error" });
  });

  it("imports resolve among `files`, and a missing one is E0203 at the import", () => {
    const lib = "layer small(x: [T, D], D = 8) {\n  return silu(x)\n}\n";
    const main = 'import { small } from "./lib/small.moe"\nlayer top(x: [T, 8]) {\n  let h = small(x)\n  return h\n}\n';
    const ok = m.compile({ source: main, file: "/w/main.moe", files: { "/w/lib/small.moe": lib } });
    expect(ok.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const missing = m.check({ source: main, file: "/w/main.moe" });
    expect(missing.diagnostics[0]).toMatchObject({ code: "E0203", line: 1 });
    expect(missing.diagnostics[0]!.message).toContain("/w/lib/small.moe");
  });

  it("hover() is the language server's; lex() classes tokens", () => {
    const source = read("examples/mixtral.moe");
    const h = m.hover({ source, offset: source.indexOf("|> topk") + 4 });
    expect(h).toContain("**topk** — router stage");
    expect(m.hover({ source, offset: 0 })).toBeUndefined();
    expect(m.lex('layer f(x) { return x |> softmax } // c').map((t) => t.kind)).toEqual(
      ["keyword", "name", "punctuation", "name", "punctuation", "punctuation", "keyword", "name", "operator", "name", "punctuation", "comment"]);
  });
});
