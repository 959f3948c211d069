// The bundled language server: the moec compiler's own, started over stdio. scripts/build.mjs
// bundles it (with the compiler) into dist/server.js.
import { startLanguageServer } from "../../dist/compiler/lsp/server.js";

startLanguageServer();
