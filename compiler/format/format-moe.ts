// Formatting a .moe text in-process: Prettier with the .moe plugin and the project defaults.
import * as prettier from "prettier";
import plugin from "./prettier-plugin.js";

export interface FormatMoeOptions {
  /** Named in syntax errors; also lets a caller pass Prettier options resolved for that file. */
  filepath?: string;
  printWidth?: number;
  tabWidth?: number;
  useTabs?: boolean;
}

/** Formats `text`; rejects with a `SyntaxError` (`message (line:col)`) if it does not parse. */
export async function formatMoe(text: string, options: FormatMoeOptions = {}): Promise<string> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return prettier.format(text, { ...plugin.defaultOptions, ...given, parser: "moe", plugins: [plugin] });
}
