#!/usr/bin/env node
// Builds the playground page (moec playground serves it): browser/playground/main.ts and its
// CodeMirror editor bundled by esbuild into dist/playground/playground.js, with the sources of
// examples/ embedded; index.html and playground.css copied; dist/browser/moec.js (built first by
// scripts/build-browser.mjs) copied beside them, which playground.js imports as "./moec.js" —
// the compiler is loaded once, never bundled twice.
//
//   node scripts/build-playground.mjs [--quiet]
import * as esbuild from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "browser/playground");
const out = path.join(root, "dist/playground");
const moduleFile = path.join(root, "dist/browser/moec.js");
const quiet = process.argv.includes("--quiet");

function fail(message) {
  console.error(`build-playground: ${message}`);
  process.exit(1);
}

if (!existsSync(moduleFile)) fail("dist/browser/moec.js is missing: run node scripts/build-browser.mjs first (npm run build runs both)");

// Examples that need router plugins are left out: plugins are Node modules (docs/browser.md).
const EXCLUDED_EXAMPLE_DIRS = new Set(["plugins"]);

/** Every examples/**\/*.moe as { "/examples/…": text }, so imports among them resolve in the page. */
function exampleSources() {
  const files = {};
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(path.join(root, "examples"), p).split(path.sep).join("/");
      if (statSync(p).isDirectory()) {
        if (!EXCLUDED_EXAMPLE_DIRS.has(rel)) walk(p);
      } else if (name.endsWith(".moe")) files[`/examples/${rel}`] = readFileSync(p, "utf8");
    }
  };
  walk(path.join(root, "examples"));
  return files;
}

// `import … from "moec/browser"` (the browser module) stays a runtime import of ./moec.js;
// `import examples from "moec:examples"` is the embedded example sources.
const playgroundImports = {
  name: "playground-imports",
  setup(build) {
    build.onResolve({ filter: /^moec\/browser$/ }, () => ({ path: "./moec.js", external: true }));
    build.onResolve({ filter: /^moec:examples$/ }, () => ({ path: "examples", namespace: "moec-examples" }));
    build.onLoad({ filter: /.*/, namespace: "moec-examples" }, () => ({ contents: JSON.stringify(exampleSources()), loader: "json" }));
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let result;
try {
  result = await esbuild.build({
    entryPoints: [path.join(src, "main.ts")],
    outfile: path.join(out, "playground.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    metafile: true,
    legalComments: "linked",
    plugins: [playgroundImports],
    logLevel: "silent",
  });
} catch (e) {
  const errors = e.errors ?? [];
  for (const m of errors) console.error(`build-playground: ${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ""}${m.text}`);
  fail(errors.length ? "the page did not build" : e.message);
}
// The one import left must be the browser module beside it.
const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports ?? []).filter((i) => i.external && i.path !== "./moec.js");
if (imports.length) fail(`playground.js imports ${imports.map((i) => i.path).join(", ")}; only ./moec.js may stay an import`);
for (const f of ["index.html", "playground.css"]) copyFileSync(path.join(src, f), path.join(out, f));
copyFileSync(moduleFile, path.join(out, "moec.js"));
if (existsSync(moduleFile + ".map")) copyFileSync(moduleFile + ".map", path.join(out, "moec.js.map"));
writeFileSync(path.join(out, "meta.json"), JSON.stringify(result.metafile));
if (!quiet) {
  const kib = (f) => `${(statSync(path.join(out, f)).size / 1024).toFixed(0)} KiB`;
  console.log(`build-playground: dist/playground/ (playground.js ${kib("playground.js")}, moec.js ${kib("moec.js")})`);
}
