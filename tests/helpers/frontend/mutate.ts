// Mutations of .moe sources for the front-end fuzz test: token-level edits (delete, duplicate,
// swap, insert from the lexer's vocabulary), truncation, random bytes and unicode, line shuffles.
// Each mutation is a pure function of the text and a seeded PRNG, so a failing case is
// reproduced from its seed alone.
import { moeLexer, keywordWords, contextualKeywordWords } from "../../../compiler/syntax/tokens.js";
import type { Prng } from "./prng.js";

interface Tok { start: number; end: number }

function tokens(text: string): Tok[] {
  const lexed = moeLexer.tokenize(text);
  const all = [...lexed.tokens, ...((lexed.groups.comments ?? []) as typeof lexed.tokens)];
  return all.map((t) => ({ start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 })).sort((a, b) => a.start - b.start);
}

/** Tokens the lexer knows, plus names the checker gives meaning to (stages, kinds, built-ins). */
export const VOCABULARY: readonly string[] = [
  ...keywordWords, ...contextualKeywordWords,
  "(", ")", "[", "]", "{", "}", ",", ":", "=", ".", "+", "-", "*", "/", "|>", "->",
  "0", "1", "2", "8", "64", "4096", "14_336", "0.5", "1e-6", "2.0", "-1", "999999999999999999999",
  "\"std\"", "\"./mixtral.moe\"", "\"\"", "\"x\"",
  "x", "T", "D", "N", "I", "E", "S", "r", "h", "tokens",
  "ffn", "atom", "lowrank", "identity", "zero", "hidden", "act", "rank", "bias", "swiglu", "relu", "gelu",
  "linear", "cosine", "product", "softmax", "sigmoid", "log_softmax", "exp", "temp", "aux_free",
  "topk", "topp", "threshold", "group_topk", "choose", "dense", "renorm", "scale", "parts", "size", "norm", "batch",
  "moe", "parallel", "mean", "sum", "embed", "rmsnorm", "layernorm", "attention", "mla", "lm_head", "tied",
  "load", "entropy", "balance", "coef", "token", "mixtral_moe", "review",
  "//", "/*", "*/", "\n", " ", "\t",
  // Sizes and bytes at and past the checker's limits (issue 17): non-finite, huge pools, controls.
  "1e400", "1000000000", "2147483647", "1048576", "65536 * 65536 * 65536 * 65536", "\u0000", "\u001b[31m", "\u202e",
];

const ODD: readonly string[] = [
  "\u0000", "\u0007", "\r", "\r\n", "\u00a0", "\u2028", "\ufeff", "é", "ß", "∑", "⊙", "😀", "\ud800", "\udc00",
  "$", "@", "#", "!", "?", "~", "`", "'", "\\", "|", "&", "%", "^", ";", "<", ">",
];

export type MutationKind = "delete" | "duplicate" | "swap" | "insert" | "truncate" | "bytes" | "shuffle" | "replace-span";

export const MUTATIONS: readonly MutationKind[] = ["delete", "duplicate", "swap", "insert", "truncate", "bytes", "shuffle", "replace-span"];

export function mutate(text: string, kind: MutationKind, rng: Prng): string {
  const toks = tokens(text);
  const tok = () => toks[rng.int(toks.length)]!;
  switch (kind) {
    case "delete": {
      if (!toks.length) return text;
      const t = tok();
      return text.slice(0, t.start) + text.slice(t.end);
    }
    case "duplicate": {
      if (!toks.length) return text;
      const t = tok();
      return text.slice(0, t.end) + " " + text.slice(t.start, t.end) + text.slice(t.end);
    }
    case "swap": {
      if (toks.length < 2) return text;
      let a = tok(), b = tok();
      if (a.start > b.start) [a, b] = [b, a];
      if (a.end > b.start) return text;
      return text.slice(0, a.start) + text.slice(b.start, b.end) + text.slice(a.end, b.start) + text.slice(a.start, a.end) + text.slice(b.end);
    }
    case "insert": {
      const at = toks.length && rng.next() < 0.7 ? (rng.next() < 0.5 ? tok().start : tok().end) : rng.int(text.length + 1);
      const word = rng.pick(VOCABULARY);
      const pad = rng.next() < 0.5 ? " " : "";
      return text.slice(0, at) + pad + word + pad + text.slice(at);
    }
    case "truncate":
      return text.slice(0, rng.int(text.length + 1));
    case "bytes": {
      let out = text;
      const n = 1 + rng.int(4);
      for (let i = 0; i < n; i++) {
        const at = rng.int(out.length + 1);
        const s = rng.next() < 0.6 ? rng.pick(ODD) : String.fromCharCode(rng.int(0x3000));
        out = out.slice(0, at) + s + out.slice(at);
      }
      return out;
    }
    case "shuffle": {
      const lines = text.split("\n");
      const n = 1 + rng.int(3);
      for (let i = 0; i < n; i++) {
        const a = rng.int(lines.length), b = rng.int(lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      }
      return lines.join("\n");
    }
    case "replace-span": {
      // Replace a run of tokens by another run from elsewhere in the file (a plausible bad edit).
      if (toks.length < 4) return text;
      const i = rng.int(toks.length - 1), j = Math.min(toks.length - 1, i + rng.int(6));
      const k = rng.int(toks.length - 1), l = Math.min(toks.length - 1, k + rng.int(6));
      return text.slice(0, toks[i]!.start) + text.slice(toks[k]!.start, toks[l]!.end) + text.slice(toks[j]!.end);
    }
  }
}

/** 1–3 random mutations in a row. */
export function mutateRandomly(text: string, rng: Prng): { text: string; applied: MutationKind[] } {
  const n = 1 + (rng.next() < 0.6 ? 0 : rng.int(3));
  const applied: MutationKind[] = [];
  let out = text;
  for (let i = 0; i < n; i++) {
    const k = rng.pick(MUTATIONS);
    applied.push(k);
    out = mutate(out, k, rng);
  }
  return { text: out, applied };
}
