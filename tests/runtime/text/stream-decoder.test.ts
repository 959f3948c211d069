// Streaming detokenization: the printed pieces, concatenated, equal one decode of all the ids (on
// Qwen's byte-level BPE and the tiny SentencePiece-style tokenizer, for random id sequences and
// for real text); a character split over several tokens is printed whole, once complete, and no
// piece holds U+FFFD unless the full decode has it there too; Metaspace spacing is kept.
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../../../runtime/text/load-tokenizer.js";
import { StreamDecoder } from "../../../runtime/text/stream-decoder.js";
import type { TextTokenizer } from "../../../runtime/text/tokenizer.js";
import { rng } from "../../helpers/random.js";
import { QWEN_DIR, TINY_DIR } from "../../helpers/text-fixtures.js";

let qwen: TextTokenizer;
let tiny: TextTokenizer;
beforeAll(() => {
  qwen = loadTokenizer(QWEN_DIR, "qwen");
  tiny = loadTokenizer(TINY_DIR, "tiny");
});

function stream(t: TextTokenizer, ids: readonly number[], options = {}): string[] {
  const d = new StreamDecoder(t, options);
  const pieces = ids.map((id) => d.push(id));
  pieces.push(d.finish());
  return pieces;
}

describe("StreamDecoder", () => {
  it("holds a byte-level character until its last token, then prints it whole (Qwen)", () => {
    const ids = qwen.encode("a🫠b");
    const emoji = qwen.encode("🫠");
    expect(ids).toEqual([...qwen.encode("a"), ...emoji, ...qwen.encode("b")]);
    const pieces = stream(qwen, ids);
    // "a", then nothing until 🫠's last token, which prints the whole emoji, then "b".
    expect(pieces).toEqual(["a", ...emoji.slice(1).map(() => ""), "🫠", "b", ""]);
  });

  it("holds byte-fallback characters and keeps ▁ spacing (tiny)", () => {
    // ▁hello, ▁ <E4> <BD> <A0> (" 你"), ▁world, ▁ <F0> <9F> <98> <80> (" 😀")
    const ids = [37, 13, 6, 7, 8, 42, 13, 9, 10, 11, 12];
    const pieces = stream(tiny, ids);
    expect(pieces.join("")).toBe("hello 你 world 😀");
    // A lone ▁ is a final space as soon as it arrives; the bytes after it wait for their character.
    expect(pieces).toEqual(["hello", " ", "", "", "你", " world", " ", "", "", "", "😀", ""]);
  });

  it("reads context ids for spacing without printing them", () => {
    // After a prompt ending in ▁hello, ▁world prints with its space; alone it would not.
    expect(stream(tiny, [42], { contextIds: [37] }).join("")).toBe(" world");
    expect(stream(tiny, [42]).join("")).toBe("world");
  });

  it("leaves out special tokens when asked", () => {
    expect(stream(tiny, [37, 4, 42], { skipSpecialTokens: true }).join("")).toBe(tiny.decode([37, 4, 42], { skipSpecialTokens: true }));
    expect(stream(qwen, [9707, 151645], { skipSpecialTokens: true }).join("")).toBe("Hello");
  });

  it("prints an incomplete character at the end as a full decode does", () => {
    const emoji = qwen.encode("🫠");
    const cut = [9707, ...emoji.slice(0, -1)];
    const pieces = stream(qwen, cut);
    expect(pieces.join("")).toBe(qwen.decode(cut));
    expect(pieces.slice(0, -1).join("")).toBe("Hello");
  });

  it("equals one decode of everything for random ids", () => {
    const r = rng(7);
    for (const [t, V] of [
      [qwen, qwen.vocabSize],
      [tiny, tiny.vocabSize],
    ] as const) {
      for (let trial = 0; trial < 40; trial++) {
        const n = 1 + Math.floor(r() * 30);
        const ids = Array.from({ length: n }, () => Math.floor(r() * V));
        expect(stream(t, ids).join("")).toBe(t.decode(ids));
      }
    }
  });

  it("prints real text exactly, with no U+FFFD anywhere", () => {
    const texts = ["Grüße aus Köln 🫠👩‍💻 — 龘鱻𝔘 and ASCII.", "日本語のテキストとemoji 🦙🦙🦙\n\nend"];
    for (const text of texts) {
      const pieces = stream(qwen, qwen.encode(text));
      expect(pieces.join("")).toBe(text);
      for (const p of pieces) expect(p).not.toContain("\uFFFD");
    }
    const tinyIds = tiny.encode("hello 你 world 😀 hold", { addSpecialTokens: false });
    const pieces = stream(tiny, tinyIds);
    expect(pieces.join("")).toBe("hello 你 world 😀 hold");
    for (const p of pieces) expect(p).not.toContain("\uFFFD");
  });

  it("names an unknown id at the step it arrives", () => {
    const d = new StreamDecoder(qwen);
    expect(d.push(9707)).toBe("Hello");
    expect(() => d.push(151900)).toThrow(/token id 151900 .*not in the vocabulary of qwen\/tokenizer\.json/);
    expect(() => new StreamDecoder(tiny, { contextIds: [99] })).toThrow(/token id 99 /);
  });
});
