// Keeps docs/language.md and docs/diagnostics.md true to the implementation:
//
//   - every router stage, expert kind and built-in block has a table row in language.md that
//     names each of its parameters with type, range, default, positional/required, and its weights;
//     and every row of those tables is a real stage, kind or block (no stale rows);
//   - every keyword, contextual keyword, statistic, loss, built-in function, graph combinator,
//     routing unit and enum value appears in language.md;
//   - every complete ```moe block in language.md checks without errors (and runs through
//     `moec info` when it says so); every ```moe-invalid block has an error;
//   - the diagnostic codes documented in diagnostics.md are exactly those in compiler/**/*.ts, and
//     every ```moe trigger program there really produces the code of its section.
//
// Conventions of the docs' code blocks (documented at the top of both files):
//   `// --- file: NAME.moe` starts another file beside the checked `main.moe`;
//   a line `// $ moec info [--entry NAME] [--set K=V …]` runs the program through `moec info`.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  createStdRegistry, REPORT_NAMES, LOSS_NAMES, BUILTIN_FUNCTIONS, PER_UNITS_SUPPORTED, PER_UNITS_LATER, GRAPH_COMBINERS,
} from "../../stdlib/index.js";
import type { ArgValues, ParamSpec, TensorShape } from "../../stdlib/index.js";
import { BLOCKS } from "../../compiler/semantic/blocks.js";
import { keywordWords, contextualKeywordWords } from "../../compiler/syntax/tokens.js";
import { checkFiles, entryInfo } from "../../compiler/driver.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { SourceHost } from "../../compiler/semantic/module-loader.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const LANGUAGE_MD = path.join(REPO, "docs/language.md");
const DIAGNOSTICS_MD = path.join(REPO, "docs/diagnostics.md");
const language = fs.readFileSync(LANGUAGE_MD, "utf8");
const diagnosticsDoc = fs.readFileSync(DIAGNOSTICS_MD, "utf8");
const registry = createStdRegistry();

// ------------------------------------------------------------------ markdown helpers

interface CodeBlock {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The nearest heading above the block. */
  heading: string;
}

function codeBlocks(md: string): CodeBlock[] {
  const lines = md.split("\n");
  const out: CodeBlock[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) {
      heading = h[1]!.trim();
      continue;
    }
    const open = /^(\s*)(`{3,})([\w-]*)\s*$/.exec(line);
    if (!open) continue;
    const indent = open[1]!.length;
    const close = new RegExp(`^\\s*${open[2]}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      const l = lines[j]!;
      body.push(l.slice(Math.min(indent, /^\s*/.exec(l)![0].length)));
    }
    expect(j < lines.length, `code block at line ${i + 1} is not closed`).toBe(true);
    out.push({ lang: open[3]!, code: body.join("\n"), line: i + 1, heading });
    i = j;
  }
  return out;
}

interface Table {
  header: string[];
  rows: { cells: string[]; line: number }[];
}

function splitRow(line: string): string[] {
  const inner = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return inner.split(/(?<!\\)\|/).map((c) => c.trim());
}

/** Markdown tables outside code blocks. */
function tables(md: string): Table[] {
  const lines = md.split("\n");
  const out: Table[] = [];
  let inCode = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) inCode = !inCode;
    if (inCode) continue;
    if (!line.startsWith("|") || !/^\|\s*-{3,}/.test(lines[i + 1] ?? "")) continue;
    const t: Table = { header: splitRow(line).map((h) => h.toLowerCase()), rows: [] };
    let j = i + 2;
    for (; j < lines.length && lines[j]!.startsWith("|"); j++) t.rows.push({ cells: splitRow(lines[j]!), line: j + 1 });
    out.push(t);
    i = j - 1;
  }
  return out;
}

function tableWithHeader(first: string, ...others: string[]): Table {
  const t = tables(language).find((x) => x.header[0] === first && others.every((o) => x.header.includes(o)));
  expect(t, `language.md has a table with the columns ${[first, ...others].join(", ")}`).toBeDefined();
  return t!;
}

/** The text outside fenced code blocks. */
function prose(md: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of md.split("\n")) {
    const m = /^\s*(`{3,})/.exec(line);
    if (m && (fence === undefined || m[1] === fence)) {
      fence = fence === undefined ? m[1] : undefined;
      continue;
    }
    if (fence === undefined) out.push(line);
  }
  return out.join("\n");
}

const backticked = (text: string): string[] => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
const mentions = (text: string, word: string): boolean => backticked(prose(text)).includes(word);

// ------------------------------------------------------------------ running snippets

interface SnippetResult {
  diagnostics: Diagnostic[];
  /** `moec info` was requested and produced an entry. */
  info?: boolean;
  mode: "check" | "info";
}

let snippetCounter = 0;

/** Checks a snippet (possibly several files) through an in-memory host; never touches the disk. */
function runSnippet(code: string): SnippetResult {
  const dir = path.resolve(`/moec-docs-snippet-${++snippetCounter}`);
  const files = new Map<string, string>();
  let current = "main.moe";
  let buf: string[] = [];
  for (const line of code.split("\n")) {
    const m = /^\/\/ --- file: (\S+)\s*$/.exec(line);
    if (m) {
      files.set(path.join(dir, current), buf.join("\n"));
      current = m[1]!;
      buf = [];
    } else buf.push(line);
  }
  files.set(path.join(dir, current), buf.join("\n"));
  const host: SourceHost = { readFile: (f) => files.get(f) };
  const root = path.join(dir, "main.moe");
  const cmd = /^\/\/ \$ moec info\b(.*)$/m.exec(files.get(root)!);
  if (!cmd) return { diagnostics: checkFiles([root], { host }).diagnostics, mode: "check" };
  const words = cmd[1]!.trim().split(/\s+/).filter(Boolean);
  let entry: string | undefined;
  const set: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "--entry") entry = words[++i];
    else if (words[i] === "--set") {
      // `--set A=1 B=2` as in the CLI: every following NAME=VALUE word.
      while (i + 1 < words.length && /^\w+=/.test(words[i + 1]!)) {
        const [k, ...v] = words[++i]!.split("=");
        set[k!] = v.join("=");
      }
    } else throw new Error(`unsupported option in a docs snippet: ${words[i]}`);
  }
  const r = entryInfo([root], { host, entry, set: Object.keys(set).length ? set : undefined });
  return { diagnostics: r.diagnostics, info: r.info !== undefined, mode: "info" };
}

const errorsOf = (ds: Diagnostic[]) => ds.filter((d) => d.severity === "error");
const show = (ds: Diagnostic[]) => ds.map((d) => `${d.severity} ${d.code}: ${d.message}`).join("\n");

// ------------------------------------------------------------------ parameter rows

/** Sample values for a parameter, to compute every weight a stage, kind or block can own. */
function sampleValues(p: ParamSpec): (number | boolean | string | undefined)[] {
  const opt = p.default === undefined && p.optional ? [undefined] : [];
  switch (p.type) {
    case "enum": return [...p.values!];
    case "bool": return [false, true];
    case "int": return [...opt, ...(p.min === 0 ? [0, 2] : [Math.max(2, p.min ?? 2)])];
    case "number": return [...opt, typeof p.default === "number" ? p.default : 1];
    case "string": return [...opt, "emb"];
  }
}

function argCombinations(specs: readonly ParamSpec[]): ArgValues[] {
  let combos: ArgValues[] = [{}];
  for (const p of specs) {
    const next: ArgValues[] = [];
    for (const c of combos) for (const v of sampleValues(p)) next.push(v === undefined ? { ...c } : { ...c, [p.name]: v });
    combos = next;
  }
  return combos;
}

/** Weight names as the docs write them: `w_gate`, and `i.weight` for per-part names like `0.weight`. */
function weightNames(make: (a: ArgValues) => TensorShape[], specs: readonly ParamSpec[]): string[] {
  const names = new Set<string>();
  for (const a of argCombinations(specs)) for (const t of make(a)) names.add(t.name.replace(/^\d+\./, "i."));
  return [...names];
}

/** The `;`-separated segment of a parameters cell that documents `name` (its first backticked word). */
function paramSegment(cell: string, name: string): string | undefined {
  return cell.split(/;\s*/).find((seg) => backticked(seg)[0] === name);
}

/** Problems of one parameter's documentation; empty when it says everything the spec says. */
function paramProblems(cell: string, p: ParamSpec): string[] {
  const seg = paramSegment(cell, p.name);
  if (!seg) return [`no segment starting with \`${p.name}\``];
  const out: string[] = [];
  const need = (ok: boolean, what: string) => { if (!ok) out.push(`\`${p.name}\`: ${what} (in "${seg}")`); };
  switch (p.type) {
    case "int": need(/\bint\b/.test(seg), "type int"); break;
    case "number": need(/\bnumber\b/.test(seg), "type number"); break;
    case "bool": need(/\bbool\b/.test(seg), "type bool"); break;
    case "enum": for (const v of p.values!) need(mentions(seg, v), `value \`${v}\``); break;
    case "string": break;
  }
  if (p.min !== undefined) need(seg.includes(`${p.minExclusive ? ">" : "≥"} ${p.min}`), `${p.minExclusive ? ">" : "≥"} ${p.min}`);
  if (p.max !== undefined) need(seg.includes(`≤ ${p.max}`), `≤ ${p.max}`);
  if (p.default !== undefined) {
    need(/\bdefault\b/.test(seg), "the word default");
    const shown = backticked(seg).slice(1);
    need(typeof p.default === "number" ? shown.some((w) => Number(w) === p.default) : shown.includes(String(p.default)), `default ${String(p.default)}`);
  } else if (p.optional) {
    need(/\b(optional|default)\b/.test(seg), "optional or its default");
  } else {
    need(/\brequired\b/.test(seg), "required");
  }
  need(/\bpositional\b/.test(seg) === Boolean(p.positional), p.positional ? "positional" : "not positional");
  return out;
}

function rowProblems(row: string[], header: string[], specs: readonly ParamSpec[], weights: string[]): string[] {
  const pcol = header.indexOf("parameters");
  const wcol = header.findIndex((h) => h.startsWith("weights"));
  const params = row[pcol] ?? "";
  const out: string[] = [];
  for (const p of specs) out.push(...paramProblems(params, p));
  if (specs.length === 0) expect(params).toBe("none");
  for (const w of weights) if (!backticked(row[wcol] ?? "").some((b) => b === w || b.startsWith(w + " "))) out.push(`weight \`${w}\` not listed`);
  return out;
}

// ------------------------------------------------------------------ language.md: vocabulary

describe("language.md documents the standard library", () => {
  it("every router stage has a row with its roles, parameters and weights", () => {
    const t = tableWithHeader("stage", "role", "parameters");
    const problems: string[] = [];
    for (const s of registry.stages.values()) {
      const row = t.rows.find((r) => r.cells[0] === "`" + s.name + "`");
      if (!row) { problems.push(`stage \`${s.name}\` has no row`); continue; }
      const roleCell = row.cells[t.header.indexOf("role")]!;
      for (const role of s.roles) if (!new RegExp(`\\b${role}\\b`).test(roleCell)) problems.push(`stage \`${s.name}\`: role ${role} not listed`);
      const E = 4, D = 4;
      const weights = s.weights ? weightNames((a) => s.weights!(a, E, D), s.params) : [];
      problems.push(...rowProblems(row.cells, t.header, s.params, weights).map((p) => `stage \`${s.name}\`: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it("every expert kind has a row with its parameters and weights", () => {
    const t = tableWithHeader("kind", "parameters");
    const problems: string[] = [];
    for (const k of registry.expertKinds.values()) {
      const row = t.rows.find((r) => r.cells[0] === "`" + k.name + "`");
      if (!row) { problems.push(`kind \`${k.name}\` has no row`); continue; }
      problems.push(...rowProblems(row.cells, t.header, k.params, weightNames((a) => k.weights(a, 4), k.params)).map((p) => `kind \`${k.name}\`: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it("every built-in block has a row with its parameters and weights", () => {
    const t = tableWithHeader("block", "parameters");
    const problems: string[] = [];
    for (const b of Object.values(BLOCKS)) {
      const row = t.rows.find((r) => r.cells[0]!.startsWith("`" + b.name + "("));
      if (!row) { problems.push(`block \`${b.name}\` has no row`); continue; }
      problems.push(...rowProblems(row.cells, t.header, b.params, weightNames((a) => b.weights(a, 4), b.params)).map((p) => `block \`${b.name}\`: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it("the stage, kind and block tables have no rows for things that do not exist", () => {
    const stale: string[] = [];
    for (const r of tableWithHeader("stage", "role", "parameters").rows) {
      const n = backticked(r.cells[0]!)[0]!;
      if (!registry.stages.has(n)) stale.push(`stage ${n} (line ${r.line})`);
    }
    for (const r of tableWithHeader("kind", "parameters").rows) {
      const n = backticked(r.cells[0]!)[0]!;
      if (!registry.expertKinds.has(n)) stale.push(`kind ${n} (line ${r.line})`);
    }
    for (const r of tableWithHeader("block", "parameters").rows) {
      const n = /^`(\w+)\(/.exec(r.cells[0]!)?.[1] ?? "";
      if (!BLOCKS[n] && !(n === "KIND")) stale.push(`block ${n} (line ${r.line})`);
    }
    expect(stale).toEqual([]);
  });

  it("every statistic and loss has an entry", () => {
    const stats = tableWithHeader("statistic", "meaning");
    for (const n of REPORT_NAMES) expect(stats.rows.some((r) => r.cells[0] === "`" + n + "`"), `statistic ${n}`).toBe(true);
    for (const r of stats.rows) expect(REPORT_NAMES as readonly string[], `stale statistic row ${r.cells[0]}`).toContain(backticked(r.cells[0]!)[0]);
    for (const n of LOSS_NAMES) expect(mentions(language, n), `loss ${n}`).toBe(true);
  });

  it("every keyword and contextual keyword is listed in §1", () => {
    const lexical = language.slice(language.indexOf("## 1. Lexical"), language.indexOf("## 2."));
    expect(lexical.length).toBeGreaterThan(0);
    const kw = lexical.slice(lexical.indexOf("**Keywords**"), lexical.indexOf("**Contextual keywords**"));
    const ctx = lexical.slice(lexical.indexOf("**Contextual keywords**"));
    for (const w of keywordWords) expect(mentions(kw, w), `keyword ${w}`).toBe(true);
    for (const w of contextualKeywordWords) expect(mentions(ctx, w), `contextual keyword ${w}`).toBe(true);
    // and nothing else is called a keyword there
    expect(backticked(kw).filter((w) => /^\w+$/.test(w) && !keywordWords.includes(w) && w !== "x")).toEqual([]);
  });

  it("every built-in function, graph combinator, routing unit and enum value is mentioned", () => {
    const words: string[] = [
      ...BUILTIN_FUNCTIONS.elementwise, ...BUILTIN_FUNCTIONS.weightOwning, ...BUILTIN_FUNCTIONS.special,
      ...GRAPH_COMBINERS, ...PER_UNITS_SUPPORTED, ...PER_UNITS_LATER,
    ];
    for (const s of [...registry.stages.values(), ...registry.expertKinds.values(), ...Object.values(BLOCKS)]) {
      for (const p of s.params) if (p.type === "enum") words.push(...p.values!);
    }
    const missing = [...new Set(words)].filter((w) => !mentions(language, w));
    expect(missing).toEqual([]);
  });

  it("every diagnostic code it cites exists", () => {
    const cited = new Set(language.match(/\b[EW]0\d{3}\b/g) ?? []);
    const known = sourceCodes();
    expect([...cited].filter((c) => !known.has(c))).toEqual([]);
  });
});

// ------------------------------------------------------------------ language.md: programs

describe("language.md programs", () => {
  const blocks = codeBlocks(language);
  const programs = blocks.filter((b) => b.lang === "moe");

  it("has runnable examples and only known block kinds", () => {
    expect(programs.length).toBeGreaterThanOrEqual(10);
    const langs = new Set(blocks.map((b) => b.lang));
    for (const l of langs) expect(["moe", "moe-fragment", "moe-invalid", "text", "sh"], `code block language ${l}`).toContain(l);
  });

  for (const b of programs) {
    it(`line ${b.line} (${b.heading}) checks without errors`, () => {
      const r = runSnippet(b.code);
      expect(show(errorsOf(r.diagnostics))).toBe("");
      if (r.mode === "info") expect(r.info, "moec info produced an entry").toBe(true);
    });
  }

  for (const b of blocks.filter((x) => x.lang === "moe-invalid")) {
    it(`line ${b.line} (${b.heading}) is really invalid`, () => {
      expect(errorsOf(runSnippet(b.code).diagnostics).length).toBeGreaterThan(0);
    });
  }
});

// ------------------------------------------------------------------ diagnostics.md

function walkTs(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkTs(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

let codesCache: Map<string, string[]> | undefined;
/** Codes written as string literals in compiler/**\/*.ts, with the files that emit them. */
function sourceCodeFiles(): Map<string, string[]> {
  if (codesCache) return codesCache;
  const out = new Map<string, string[]>();
  for (const f of walkTs(path.join(REPO, "compiler"))) {
    const text = fs.readFileSync(f, "utf8");
    const rel = path.relative(REPO, f);
    for (const m of text.matchAll(/["'`]([EW]0\d{3})["'`]/g)) {
      const files = out.get(m[1]!) ?? [];
      if (!files.includes(rel)) files.push(rel);
      out.set(m[1]!, files);
    }
  }
  codesCache = out;
  return out;
}
const sourceCodes = () => new Set(sourceCodeFiles().keys());

interface CodeSection {
  code: string;
  body: string;
  triggers: CodeBlock[];
}

function codeSections(md: string): CodeSection[] {
  const out: CodeSection[] = [];
  const parts = md.split(/^(?=#{1,3} )/m);
  const blocks = codeBlocks(md);
  for (const part of parts) {
    const m = /^### ([EW]0\d{3})(?!\d)/.exec(part);
    if (!m) continue;
    out.push({ code: m[1]!, body: part, triggers: blocks.filter((b) => b.lang === "moe" && b.heading.startsWith(m[1]! + " ")) });
  }
  return out;
}

describe("diagnostics.md", () => {
  const sections = codeSections(diagnosticsDoc);

  it("documents every code the compiler emits, once", () => {
    const documented = sections.map((s) => s.code);
    expect(documented.length).toBeGreaterThan(50);
    expect(documented.filter((c, i) => documented.indexOf(c) !== i), "codes documented twice").toEqual([]);
    const missing = [...sourceCodes()].filter((c) => !documented.includes(c)).map((c) => `${c} (${sourceCodeFiles().get(c)!.join(", ")})`);
    expect(missing, "codes in compiler/ without a section in docs/diagnostics.md").toEqual([]);
  });

  it("documents no code the compiler does not emit", () => {
    const known = sourceCodes();
    const stale = sections.map((s) => s.code).filter((c) => !known.has(c));
    expect(stale, "sections for codes that no longer exist").toEqual([]);
    const cited = new Set(diagnosticsDoc.match(/\b[EW]0\d{3}\b/g) ?? []);
    expect([...cited].filter((c) => !known.has(c)), "codes cited in the text that do not exist").toEqual([]);
  });

  it("lists codes in order, each with a trigger program or an explicit reason for having none", () => {
    const codes = sections.map((s) => s.code);
    const order = (c: string) => (c[0] === "W" ? 10_000 : 0) + Number(c.slice(1));
    expect(codes).toEqual([...codes].sort((a, b) => order(a) - order(b)));
    const without = sections.filter((s) => s.triggers.length === 0);
    for (const s of without) expect(s.body, `${s.code} has neither a trigger nor "No trigger program"`).toMatch(/No trigger program/);
    // Untriggerable codes are the exception: internal safeguards and plugin-only checks (E0315:
    // an agent construct with no GPU form; none since `concurrent` runs).
    expect(without.map((s) => s.code).sort()).toEqual(["E0002", "E0003", "E0103", "E0106", "E0239", "E0271", "E0315", "E0505", "E0900", "E0901", "E0902", "E0903", "E0904"]);
  });

  for (const s of sections) {
    s.triggers.forEach((b, i) => {
      it(`${s.code} trigger ${i + 1} (line ${b.line}) produces ${s.code}`, () => {
        const r = runSnippet(b.code);
        const hits = r.diagnostics.filter((d) => d.code === s.code);
        expect(hits.length, `diagnostics were:\n${show(r.diagnostics)}`).toBeGreaterThan(0);
        for (const d of hits) expect(d.severity).toBe(s.code.startsWith("W") ? "warning" : "error");
      });
    });
  }
});
