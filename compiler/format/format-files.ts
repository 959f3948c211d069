// `moec fmt` without the CLI: format files in place, check them, or print them. The CLI wires
// arguments and exit codes; this module does the work and reports per file.
import { readdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as prettier from "prettier";
import { formatMoe, type FormatMoeOptions } from "./format-moe.js";
import { readSourceFile } from "../semantic/source-file.js";
import { escapeControl } from "../diagnostics/escape.js";

export interface FormatFilesOptions {
  /** Files and directories; a directory stands for every `.moe` file below it. */
  files: string[];
  /** Write nothing; report the files that are not formatted (exit code 1 if any). */
  check?: boolean;
  /** Write the formatted text to `out` instead of back to the file. */
  stdout?: boolean;
  /** Where `stdout` mode writes (default: process.stdout). */
  out?: { write(text: string): unknown };
  /** Overrides for every file; otherwise a .prettierrc that applies to the file, else the plugin defaults. */
  format?: Omit<FormatMoeOptions, "filepath">;
}

export type FormatStatus = "unchanged" | "formatted" | "would-change" | "printed" | "error";

export interface FormatFileResult {
  file: string;
  status: FormatStatus;
  /** The formatted text (absent on error). */
  output?: string;
  /** The syntax or I/O error, as `file: message (line:col)`. */
  error?: string;
}

export interface FormatFilesResult {
  results: FormatFileResult[];
  /** 0: all good; 1: `check` found unformatted files; 2: a file could not be read or parsed. */
  exitCode: number;
}

export async function formatFiles(options: FormatFilesOptions): Promise<FormatFilesResult> {
  const files = await expandMoeFiles(options.files);
  const results: FormatFileResult[] = [];
  for (const file of files) results.push(await formatOne(file, options));
  const exitCode = results.some((r) => r.status === "error") ? 2 : results.some((r) => r.status === "would-change") ? 1 : 0;
  return { results, exitCode };
}

async function formatOne(file: string, options: FormatFilesOptions): Promise<FormatFileResult> {
  let input: string;
  let output: string;
  try {
    const read = readSourceFile(file); // regular .moe files only: never blocks on a FIFO or device
    if ("problem" in read) return { file, status: "error", error: `${escapeControl(file)}: ${read.problem}` };
    input = read.text;
    const config = (await prettier.resolveConfig(file, { editorconfig: false })) ?? {};
    output = await formatMoe(input, { ...pickLayout(config), ...options.format, filepath: file });
  } catch (e) {
    return { file, status: "error", error: escapeControl(`${file}: ${(e as Error).message.split("\n")[0]}`) };
  }
  if (options.stdout) {
    (options.out ?? process.stdout).write(output);
    return { file, status: "printed", output };
  }
  if (output === input) return { file, status: "unchanged", output };
  if (options.check) return { file, status: "would-change", output };
  // Write beside the file and rename over it, so an interrupted run never leaves a truncated file.
  const tmp = `${file}.moec-fmt-${process.pid}.tmp`;
  await writeFile(tmp, output);
  await rename(tmp, file);
  return { file, status: "formatted", output };
}

function pickLayout(config: prettier.Options): FormatMoeOptions {
  const out: FormatMoeOptions = {};
  if (typeof config.printWidth === "number") out.printWidth = config.printWidth;
  if (typeof config.tabWidth === "number") out.tabWidth = config.tabWidth;
  if (typeof config.useTabs === "boolean") out.useTabs = config.useTabs;
  return out;
}

/** Files as given; directories expanded to their `.moe` files (sorted, skipping node_modules and dot-folders). */
export async function expandMoeFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (info?.isDirectory()) await walk(p, out);
    else out.push(p); // a missing file is reported as an error by formatOne
  }
  return out;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile() && e.name.endsWith(".moe")) out.push(full);
  }
}
