// Prettier plugin for .moe files: a thin re-export of the compiled plugin in moec's dist/
// (build it with `npx tsc -b` at the repository root).
export { default, languages, parsers, printers, options, defaultOptions } from "../dist/compiler/format/prettier-plugin.js";
