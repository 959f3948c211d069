#!/usr/bin/env node
// Builds the browser module: browser/index.ts and everything it imports, bundled by esbuild into
// one self-contained ES module, dist/browser/moec.js (no Node built-ins, no bare imports), that a
// page imports by URL. Prettier's standalone build stands in for its Node entry. Fails, naming
// the import, if anything reachable needs Node; prints the bundle's size.
//
//   node scripts/build-browser.mjs [--quiet]
import * as esbuild from "esbuild";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outfile = path.join(root, "dist/browser/moec.js");
const quiet = process.argv.includes("--quiet");

mkdirSync(path.dirname(outfile), { recursive: true });
let result;
try {
  result = await esbuild.build({
    entryPoints: [path.join(root, "browser/index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    metafile: true,
    legalComments: "linked",
    // Prettier's Node entry reads config files; the standalone build is its browser form.
    alias: { prettier: "prettier/standalone" },
    logLevel: "silent",
  });
} catch (e) {
  const errors = e.errors ?? [];
  for (const m of errors) {
    const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : "";
    console.error(`build-browser: ${at}${m.text}`);
  }
  if (!errors.length) console.error(`build-browser: ${e.message}`);
  console.error("build-browser: the browser module must not reach Node built-ins or the `webgpu` package (see docs/browser.md)");
  process.exit(1);
}
// A bare import left in the output would need an import map; there must be none.
const bare = Object.values(result.metafile.outputs).flatMap((o) => o.imports ?? []).filter((i) => i.external);
if (bare.length) {
  console.error(`build-browser: the bundle imports ${bare.map((i) => i.path).join(", ")}; it must be self-contained`);
  process.exit(1);
}
writeFileSync(path.join(root, "dist/browser/meta.json"), JSON.stringify(result.metafile));
const bytes = statSync(outfile).size;
const gz = gzipSync(readFileSync(outfile)).length;
if (!quiet) console.log(`build-browser: dist/browser/moec.js ${(bytes / 1024).toFixed(0)} KiB (${(gz / 1024).toFixed(0)} KiB gzipped)`);
