// The .moe formatter: a Prettier 3 plugin and the helpers `moec fmt` calls.
export { default as moePrettierPlugin, languages, parsers, printers, options, defaultOptions } from "./prettier-plugin.js";
export { formatMoe, type FormatMoeOptions } from "./format-moe.js";
export { formatFiles, expandMoeFiles, type FormatFilesOptions, type FormatFileResult, type FormatFilesResult, type FormatStatus } from "./format-files.js";
export { MoeSyntaxError, parseMoe } from "./parse-moe.js";
