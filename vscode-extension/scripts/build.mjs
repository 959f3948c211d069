// Bundles the extension for packaging: dist/extension.js (the client; `vscode` is provided by
// the editor) and dist/server.js (the moec language server with the compiler inside). vsce then
// packs dist/ with --no-dependencies, since it cannot pack hoisted workspace dependencies.
//
//   node scripts/build.mjs              both bundles; fails if the compiler is not built
//   node scripts/build.mjs --no-server  the client only (to package before the server exists)
import { build } from "esbuild";
import { existsSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
// The compiled language server that src/server.ts imports (the variable overrides only this
// existence check, so that the message can be tested while the server exists).
const serverModule = process.env.MOEC_LSP_SERVER_MODULE ?? join(here, "..", "dist", "compiler", "lsp", "server.js");
const withServer = !process.argv.includes("--no-server");

if (withServer && !existsSync(serverModule)) {
  console.error(
    `build.mjs: cannot bundle the language server: ${relative(process.cwd(), serverModule)} is missing.\n` +
      "  It is compiled from compiler/lsp/server.ts (which must export startLanguageServer()): run `npx tsc -b` at the repository root.\n" +
      "  To package the extension without the server, run `node scripts/build.mjs --no-server`.",
  );
  process.exit(1);
}

rmSync(join(here, "dist"), { recursive: true, force: true });

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  logLevel: "warning",
  legalComments: "none",
  minify: true,
  keepNames: true,
};

await build({
  ...common,
  entryPoints: [join(here, "src", "extension.ts")],
  outfile: join(here, "dist", "extension.js"),
  external: ["vscode"],
});

if (withServer) {
  await build({
    ...common,
    entryPoints: [join(here, "src", "server.ts")],
    outfile: join(here, "dist", "server.js"),
    // The compiler is ESM; as CommonJS, `import.meta.url` becomes this file's URL.
    banner: { js: 'var __moec_import_meta_url = require("url").pathToFileURL(__filename).href;' },
    define: { "import.meta.url": "__moec_import_meta_url" },
    // Prettier's Node entry loads its own files at run time; the standalone build bundles (the
    // .moe formatter needs only `format`, `doc` and `util`, which both provide).
    alias: { prettier: "prettier/standalone" },
    // Native GPU and ONNX bindings cannot be bundled; the language server must not need them.
    external: ["webgpu", "onnxruntime-node"],
  });
}

console.log(`build.mjs: bundled dist/extension.js${withServer ? " and dist/server.js" : " (language server skipped: --no-server)"}`);
