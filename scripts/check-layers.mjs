#!/usr/bin/env node
// The import rule of docs/architecture.md, checked: every import (static, dynamic, type-only) of
// every source file in the five layers, against the arrows the layers allow.
//
//   stdlib/   → stdlib only                   (the std registry, stage specs, shared WGSL rules)
//   compiler/ → compiler, stdlib              (never runtime/ or cli/)
//   compiler/ir/ (the IR contract, but not the builder) → compiler/ir, stdlib
//   runtime/  → runtime, stdlib, compiler/ir  (the IR contract; not ir-builder.ts, which needs the AST)
//   cli/      → anything                      (the one place that uses compiler and runtime together)
//   browser/  → compiler, runtime, stdlib     (the browser module; no Node built-ins, no `webgpu`)
//   nothing outside cli/ imports cli/, nothing outside browser/ imports browser/;
//   only runtime/ and cli/ import the `webgpu` package.
//
// `node scripts/check-layers.mjs [ROOT]` prints each violation as `file:line: from → to (rule)`
// and exits 1 if there is any. tests/architecture/layers.test.ts runs it on the tree and on a
// deliberate violation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const LAYERS = ["stdlib", "compiler", "runtime", "cli", "browser"];
const IR_CONTRACT = "compiler/ir/";
const IR_BUILDER = "compiler/ir/ir-builder.ts";

/** The layer of a repository-relative path, or undefined outside the layers. */
function layerOf(rel) {
  const top = rel.split("/")[0];
  return LAYERS.includes(top) ? top : undefined;
}

const inIrContract = (rel) => rel.startsWith(IR_CONTRACT) && rel !== IR_BUILDER;

/** Why an import from `from` to `to` (both repository-relative source paths) breaks the rule, or undefined. */
function relativeViolation(from, to) {
  const a = layerOf(from);
  const b = layerOf(to);
  if (b === "cli" && a !== "cli") return "nothing outside cli/ imports cli/";
  if (b === "browser" && a !== "browser") return "nothing outside browser/ imports browser/";
  if (a === "browser") return undefined;
  if (!a || !b) return undefined;
  if (a === "cli") return undefined;
  if (a === "stdlib" && b !== "stdlib") return "stdlib/ imports only stdlib/";
  if (inIrContract(from) && !inIrContract(to) && b !== "stdlib") return "the IR (compiler/ir/, not the builder) imports only itself and stdlib/";
  if (a === "compiler" && b === "runtime") return "compiler/ never imports runtime/";
  if (a === "runtime" && b === "compiler" && !inIrContract(to)) return "runtime/ imports from compiler/ only the IR (compiler/ir/, not ir-builder.ts)";
  return undefined;
}

function packageViolation(from, spec) {
  const a = layerOf(from);
  if ((spec === "webgpu" || spec.startsWith("webgpu/")) && a !== "runtime" && a !== "cli") return "only runtime/ and cli/ import the `webgpu` package";
  if (a === "browser" && spec.startsWith("node:")) return "browser/ imports no Node built-in (it runs in a page)";
  return undefined;
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts")) yield p;
  }
}

// import … from "x" | export … from "x" | import "x" | import("x") | require("x")
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(["'])([^"'\n]+)\1/g;

/** Specifiers imported by a source text, with their 1-based lines (comments are skipped). */
export function importsOf(text) {
  const out = [];
  const lines = text.split("\n");
  let inBlock = false;
  lines.forEach((raw, i) => {
    let line = raw;
    if (inBlock) {
      const end = line.indexOf("*/");
      if (end < 0) return;
      line = line.slice(end + 2);
      inBlock = false;
    }
    line = line.replace(/\/\*.*?\*\//g, "");
    const open = line.indexOf("/*");
    if (open >= 0) {
      inBlock = true;
      line = line.slice(0, open);
    }
    const sl = line.indexOf("//");
    if (sl >= 0 && !/["'`][^"'`]*\/\/[^"'`]*["'`]/.test(line)) line = line.slice(0, sl);
    for (const m of line.matchAll(IMPORT_RE)) out.push({ spec: m[2], line: i + 1 });
  });
  return out;
}

/** Every violation under `root` (default: this repository). */
export function layerViolations(root = resolve(dirname(fileURLToPath(import.meta.url)), "..")) {
  const violations = [];
  for (const layer of LAYERS) {
    let dir;
    try {
      dir = join(root, layer);
      statSync(dir);
    } catch {
      continue;
    }
    for (const file of sourceFiles(dir)) {
      const from = relative(root, file).split(sep).join("/");
      for (const { spec, line } of importsOf(readFileSync(file, "utf8"))) {
        let to;
        let why;
        if (spec.startsWith(".")) {
          to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, ".ts");
          why = relativeViolation(from, to);
        } else {
          to = spec;
          why = packageViolation(from, spec);
        }
        if (why) violations.push({ file: from, line, to, rule: why });
      }
    }
  }
  return violations;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = process.argv[2] ? resolve(process.argv[2]) : undefined;
  const v = layerViolations(root);
  for (const x of v) console.log(`${x.file}:${x.line}: imports ${x.to} (${x.rule})`);
  if (v.length) {
    console.log(`check-layers: ${v.length} import${v.length === 1 ? "" : "s"} break the layering of docs/architecture.md`);
    process.exit(1);
  }
  console.log("check-layers: every import follows the layering");
}
