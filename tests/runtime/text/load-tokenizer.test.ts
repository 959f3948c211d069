// Every way a checkpoint's tokenizer files can be wrong is an error naming the file and field:
// no tokenizer.json (the message says so and suggests --input-ids), unreadable JSON, an
// unsupported model type, bad vocabularies, merges and added tokens, bad tokenizer_config.json
// fields; then a fuzz: mutated copies of the tiny tokenizer's files load and encode/decode, or
// fail with a TextError, never another exception or a hang.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasTokenizer, loadTokenizer } from "../../../runtime/text/load-tokenizer.js";
import { readGenerationSettings } from "../../../runtime/text/read-generation-settings.js";
import { renderChat, chatMessages } from "../../../runtime/text/chat-template.js";
import { StreamDecoder } from "../../../runtime/text/stream-decoder.js";
import { TextError } from "../../../runtime/text/text-error.js";
import { rng } from "../../helpers/random.js";
import { TINY_DIR, scratchDirs } from "../../helpers/text-fixtures.js";

const dirs = scratchDirs("moec-tok-");
afterAll(() => dirs.cleanup());

const readTiny = (f: string) => JSON.parse(readFileSync(path.join(TINY_DIR, f), "utf8")) as Record<string, any>;
const tinyJson = readTiny("tokenizer.json");
const tinyConfig = readTiny("tokenizer_config.json");
const clone = <T>(v: T): T => structuredClone(v);

/** Loads a copy of the tiny tokenizer with tokenizer.json (and tokenizer_config.json) replaced. */
function load(json: unknown, config: unknown = tinyConfig) {
  const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  return loadTokenizer(dirs.make({ "tokenizer.json": text(json), "tokenizer_config.json": text(config) }), "ckpt");
}

describe("loadTokenizer errors", () => {
  it("says a checkpoint has no tokenizer and suggests ids", () => {
    const dir = dirs.make({ "config.json": "{}" });
    expect(hasTokenizer(dir)).toBe(false);
    expect(hasTokenizer(TINY_DIR)).toBe(true);
    expect(() => loadTokenizer(dir, "ckpt")).toThrow(/^ckpt: the checkpoint has no tokenizer \(no tokenizer\.json\).*--input-ids or --input\.$/);
  });

  it("names malformed files", () => {
    expect(() => load("{ truncated")).toThrow(/^ckpt\/tokenizer\.json: not valid JSON/);
    expect(() => load("[]")).toThrow(/^ckpt\/tokenizer\.json: must hold a JSON object; found an empty array/);
    expect(() => load(tinyJson, "nope")).toThrow(/^ckpt\/tokenizer_config\.json: not valid JSON/);
    expect(() => load(tinyJson, "null")).toThrow(/^ckpt\/tokenizer_config\.json: must hold a JSON object; found null/);
  });

  it("refuses unsupported and malformed models by field", () => {
    const edit = (f: (j: Record<string, any>) => void) => {
      const j = clone(tinyJson);
      f(j);
      return j;
    };
    const cases: [Record<string, any>, RegExp][] = [
      [edit((j) => (j.model.type = "WordLevel")), /ckpt\/tokenizer\.json: "model\.type" is "WordLevel", which is not supported \(supported: BPE, Unigram, WordPiece\)/],
      [edit((j) => delete j.model.type), /"model\.type" must name the model type/],
      [edit((j) => delete j.model), /ckpt\/tokenizer\.json: "model" must be an object/],
      [edit((j) => (j.model.vocab = [])), /"model\.vocab" must be an object from tokens to ids; found an empty array/],
      [edit((j) => (j.model.vocab["▁h"] = -3)), /"model\.vocab\["▁h"\]" must be a token id .*found -3/],
      [edit((j) => (j.model.vocab["▁h"] = "33")), /"model\.vocab\["▁h"\]" must be a token id .*found "33"/],
      [edit((j) => (j.model.merges[3] = "▁hell")), /"model\.merges\[3\]" must be a string "a b"/],
      [edit((j) => (j.model.merges = { a: 1 })), /"model\.merges" must be an array/],
      [edit((j) => (j.model.unk_token = "<missing>")), /"model\.unk_token" is "<missing>", which is not a token of the vocabulary/],
      [edit((j) => (j.added_tokens = {})), /"added_tokens" must be an array; found an object/],
      [edit((j) => (j.added_tokens[2].id = 1.5)), /"added_tokens\[2\]\.id" must be a token id .*found 1\.5/],
      [edit((j) => (j.added_tokens[0].content = "")), /"added_tokens\[0\]\.content" must be the token's text/],
      [edit((j) => (j.added_tokens[1].special = "yes")), /"added_tokens\[1\]\.special" must be true or false; found "yes"/],
      [edit((j) => (j.decoder = "ByteLevel")), /ckpt\/tokenizer\.json: "decoder" must be null or an object with a "type"/],
      [edit((j) => (j.decoder = { type: "Mystery" })), /ckpt\/tokenizer\.json: the tokenizer cannot be built from it: Unknown Decoder type: Mystery/],
      [edit((j) => (j.pre_tokenizer = { type: "Split", pattern: { Regex: "(" }, behavior: "Isolated" })), /ckpt\/tokenizer\.json: the tokenizer cannot be built from it/],
      // Found by the fuzz (tests/runtime/text/tokenizer-fuzz.test.ts): the library warned on stderr and dropped such a pattern.
      [edit((j) => (j.pre_tokenizer = { type: "Sequence", pretokenizers: [{ type: "Split", pattern: 1e300, behavior: "Isolated" }] })), /ckpt\/tokenizer\.json: "pre_tokenizer\.pretokenizers\[0\]\.pattern" must be \{"Regex": "…"\} or \{"String": "…"\}; found 1e\+300\./],
      [edit((j) => (j.pre_tokenizer = { type: "Split", behavior: "Isolated" })), /"pre_tokenizer\.pattern" is missing; a Split stage needs/],
      [edit((j) => (j.normalizer = { type: "Replace", pattern: { Regex: 3 }, content: "" })), /"normalizer\.pattern" must be \{"Regex": "…"\} or \{"String": "…"\}; found an object\./],
      [
        edit((j) => (j.model = { type: "Unigram", vocab: [["a", 0], ["b"]] })),
        /"model\.vocab\[1\]" must be a \[piece, score\] pair/,
      ],
      [edit((j) => (j.model = { type: "Unigram", vocab: [["a", 0]], unk_id: 5 })), /"model\.unk_id" must be an id of the vocabulary \(0…0\); found 5/],
      [edit((j) => (j.model = { type: "WordPiece", vocab: { a: 0 } })), /"model\.unk_token" must name the unknown token of a WordPiece model/],
    ];
    for (const [json, message] of cases) {
      let caught: unknown;
      try {
        load(json);
      } catch (e) {
        caught = e;
      }
      expect(caught, String(message)).toBeInstanceOf(TextError);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it("names bad tokenizer_config.json fields", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...tinyConfig, eos_token: 4 }, /ckpt\/tokenizer_config\.json: "eos_token" must be a token \(a string, or an object with "content"\); found 4/],
      [{ ...tinyConfig, eos_token: "<eos>" }, /ckpt\/tokenizer_config\.json: "eos_token" is "<eos>", which is not a token of ckpt\/tokenizer\.json/],
      [{ ...tinyConfig, additional_special_tokens: "<s>" }, /"additional_special_tokens" must be an array of tokens/],
      [{ ...tinyConfig, additional_special_tokens: [null] }, /"additional_special_tokens\[0\]" must be a token; found null/],
      [{ ...tinyConfig, clean_up_tokenization_spaces: "no" }, /"clean_up_tokenization_spaces" must be true or false; found "no"/],
    ];
    for (const [config, message] of cases) expect(() => load(tinyJson, config)).toThrow(message);
    // transformers' {"content": …} form of a special token is read as its content.
    expect(load(tinyJson, { ...tinyConfig, bos_token: { __type: "AddedToken", content: "<s>" } }).bos).toEqual({ text: "<s>", id: 1 });
  });

  it("refuses an encoding that yields a token without an id", () => {
    const j = clone(tinyJson);
    j.post_processor.single[0].SpecialToken.id = "<bos>";
    const t = load(j);
    expect(() => t.encode("hello")).toThrow(/ckpt\/tokenizer\.json: the tokenizer produced the token "<bos>", which has no id in the vocabulary/);
  });
});

/** One random edit of a JSON value: delete a key, change a value's type, or replace a number or string. */
function mutate(root: unknown, r: () => number): unknown {
  const copy = clone(root) as Record<string, unknown>;
  const replacements = [null, -1, 0, 1.5, 1e12, "", "x", "<0xZZ>", true, [], {}, [1, 2], { type: "BPE" }];
  // Walk down to a random container, then edit one of its entries.
  let node: any = copy;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[Math.floor(r() * keys.length)]!;
    const child = node[key];
    if (child !== null && typeof child === "object" && r() < 0.7) {
      node = child;
      continue;
    }
    if (r() < 0.3 && !Array.isArray(node)) delete node[key];
    else node[key] = replacements[Math.floor(r() * replacements.length)];
    return copy;
  }
  return copy;
}

describe("loader fuzz", () => {
  it("mutated tokenizer files: a working tokenizer or a TextError, never a crash", () => {
    const r = rng(2024);
    let failures = 0;
    for (let trial = 0; trial < 300; trial++) {
      const which = r();
      const json = which < 0.6 ? mutate(tinyJson, r) : tinyJson;
      const config = which >= 0.6 ? mutate(tinyConfig, r) : tinyConfig;
      let text: string = JSON.stringify(json);
      if (r() < 0.1) text = text.slice(0, Math.floor(r() * text.length)); // truncated file
      try {
        const t = load(text, config);
        const ids = t.encode("hello, world 你 😀 z\n<|im_start|>");
        const d = new StreamDecoder(t);
        const streamed = ids.map((id) => d.push(id)).join("") + d.finish();
        expect(streamed).toBe(t.decode(ids));
        if (t.chatTemplate) renderChat(t, chatMessages("hi", "sys"));
      } catch (e) {
        if (!(e instanceof TextError)) throw new Error(`trial ${trial}: ${(e as Error).stack}`);
        failures++;
      }
    }
    // The mutations must reach the checks, not all be harmless.
    expect(failures).toBeGreaterThan(20);
  });

  it("mutated generation_config.json / config.json: settings or a TextError", () => {
    const r = rng(99);
    const gen = { bos_token_id: 1, eos_token_id: [4, 2], do_sample: true };
    const cfg = { model_type: "llama", eos_token_id: 2, max_position_embeddings: 2048, vocab_size: 43 };
    let failures = 0;
    for (let trial = 0; trial < 200; trial++) {
      const g = r() < 0.5 ? mutate(gen, r) : gen;
      const c = r() < 0.5 ? mutate(cfg, r) : cfg;
      const dir = dirs.make({ "generation_config.json": JSON.stringify(g), "config.json": JSON.stringify(c) });
      try {
        const s = readGenerationSettings(dir, "d");
        for (const id of s.eosTokenIds) expect(Number.isInteger(id) && id >= 0).toBe(true);
        expect(Number.isInteger(s.contextLimit) && s.contextLimit >= 1).toBe(true);
      } catch (e) {
        if (!(e instanceof TextError)) throw new Error(`trial ${trial}: ${(e as Error).stack}`);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(10);
  });
});
