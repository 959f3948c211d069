// The Prettier 3 plugin for .moe files: one language, one parser (the compiler's), one printer.
import type { Plugin, SupportLanguage, SupportOptions } from "prettier";
import type { MoeNode } from "./moe-nodes.js";
import { moeParser } from "./parse-moe.js";
import { moePrinter } from "./print-moe.js";

export const languages: SupportLanguage[] = [
  {
    name: "moe",
    parsers: ["moe"],
    extensions: [".moe"],
    vscodeLanguageIds: ["moe"],
  },
];

export const parsers = { moe: moeParser };

export const printers = { "moe-ast": moePrinter };

/** No options of our own: width and indentation are Prettier's (`printWidth`, `tabWidth`, `useTabs`). */
export const options: SupportOptions = {};

/** The project style: 100 columns, 2-space indent (a .prettierrc still wins). */
export const defaultOptions = { printWidth: 100, tabWidth: 2 };

const plugin: Plugin<MoeNode> = { languages, parsers, printers, options, defaultOptions };
export default plugin;
