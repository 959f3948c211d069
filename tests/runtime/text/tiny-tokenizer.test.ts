// The hand-written tiny tokenizer (tests/fixtures/tokenizers/tiny) with answers derived by hand
// from its vocabulary and merges: Metaspace puts "▁" before the first word and for every space;
// the BPE merges, lowest rank first, are ▁ h, l l, e ll, ▁h ell, ▁hell o, o r, ▁ w, ▁w or, l d,
// ▁wor ld; a character outside the vocabulary falls back to its UTF-8 byte tokens, or <unk> (0)
// when they are missing; the post-processor puts <s> (1) first.
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, tokenizerVocabMismatch } from "../../../runtime/text/load-tokenizer.js";
import type { TextTokenizer } from "../../../runtime/text/tokenizer.js";
import { TINY_DIR } from "../../helpers/text-fixtures.js";

let tiny: TextTokenizer;
beforeAll(() => {
  tiny = loadTokenizer(TINY_DIR, "tiny");
});

const raw = (text: string) => tiny.encode(text, { addSpecialTokens: false });

describe("tiny tokenizer", () => {
  it("merges whole words", () => {
    // ▁ h e l l o → ▁h e l l o → ▁h e ll o → ▁h ell o → ▁hell o → ▁hello (37); likewise ▁world (42).
    expect(raw("hello world")).toEqual([37, 42]);
    // ▁ h o l d → ▁h o l d → ▁h o ld: [33, 20, 41].
    expect(raw("hold")).toEqual([33, 20, 41]);
    // Punctuation is its own token: "," 31, "!" 29.
    expect(raw("hello, world!")).toEqual([37, 31, 42, 29]);
    // A newline has no piece: its byte token <0x0A> (5); "world" after it has no ▁, so only o r and l d merge.
    expect(raw("hello\nworld")).toEqual([37, 5, 25, 38, 41]);
  });

  it("adds <s> unless told not to", () => {
    expect(tiny.encode("hello world")).toEqual([1, 37, 42]);
    expect(tiny.bos).toEqual({ text: "<s>", id: 1 });
    expect(tiny.eos).toEqual({ text: "<|im_end|>", id: 4 });
  });

  it("falls back to bytes, then to <unk>", () => {
    expect(raw("你")).toEqual([13, 6, 7, 8]); // ▁, E4 BD A0
    expect(raw("😀")).toEqual([13, 9, 10, 11, 12]); // ▁, F0 9F 98 80
    expect(raw("z")).toEqual([13, 0]); // no piece, no <0x7A>: <unk>
  });

  it("decodes with SentencePiece spacing: ▁ is a space, the first one dropped", () => {
    expect(tiny.decode([37, 42])).toBe("hello world");
    expect(tiny.decode([42])).toBe("world");
    expect(tiny.decode([33, 20, 41])).toBe("hold");
    expect(tiny.decode([13, 6, 7, 8, 42])).toBe("你 world");
    expect(tiny.decode([1, 37])).toBe("<s> hello");
    expect(tiny.decode([1, 37, 4], { skipSpecialTokens: true })).toBe("hello");
  });

  it("has 43 ids, 4 of them special besides <unk>", () => {
    expect(tiny.vocabSize).toBe(43);
    expect([...tiny.specialTokens]).toEqual([
      ["<unk>", 0],
      ["<s>", 1],
      ["</s>", 2],
      ["<|im_start|>", 3],
      ["<|im_end|>", 4],
    ]);
    expect(tokenizerVocabMismatch(tiny, 43)).toBeUndefined();
    expect(tokenizerVocabMismatch(tiny, 40)?.message).toMatch(/ids up to 42 \(43 tokens\), more than the model's vocabulary V = 40/);
  });

  it("names an unknown id", () => {
    expect(() => tiny.decode([37, 43])).toThrow(/token id 43 \(at position 1\) is not in the vocabulary of tiny\/tokenizer\.json \(ids 0…42\)/);
  });
});
