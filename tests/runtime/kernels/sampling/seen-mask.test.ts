// Seen masks: bit i of word i/32 per row, and an out-of-vocabulary prompt id named by row and position.
import { describe, expect, it } from "vitest";
import { seenMask, SeenIdError, seenWordsPerRow } from "../../../../runtime/kernels/sampling/seen-mask.js";

describe("seenMask", () => {
  it("sets bit i of word i/32 in each row's words", () => {
    expect(seenWordsPerRow(64)).toBe(2);
    expect(seenWordsPerRow(65)).toBe(3);
    const m = seenMask(40, [[0, 3, 33], [39, 39]]);
    expect(Array.from(m)).toEqual([0b1001, 0b10, 0, 1 << 7]);
    expect(seenMask(32, [[31]])[0]).toBe(0x80000000);
  });

  it("names the row and position of an id outside the vocabulary", () => {
    expect(() => seenMask(10, [[1], [2, 10]])).toThrow(SeenIdError);
    expect(() => seenMask(10, [[1], [2, 10]])).toThrow("prompt 1, position 1: token id 10 is outside the vocabulary [0, 10)");
    expect(() => seenMask(10, [[-1]])).toThrow("prompt 0, position 0: token id -1");
  });
});
