// The repetition penalty's "seen" set on the GPU: one bitmask of ceil(V / 32) u32 words per row
// (bit i of word i/32 set when id i was in the prompt or generated). This builds the initial
// masks from the prompts; the sampler kernel sets the bit of every token it draws.

export class SeenIdError extends Error {
  override name = "SeenIdError";
}

export const seenWordsPerRow = (vocab: number): number => Math.ceil(vocab / 32);

/** Masks of `prompts.length` rows over a vocabulary of `vocab` ids; an id outside [0, vocab) is an error naming its row and position. */
export function seenMask(vocab: number, prompts: readonly (readonly number[])[]): Uint32Array {
  const W = seenWordsPerRow(vocab);
  const words = new Uint32Array(Math.max(1, prompts.length * W));
  prompts.forEach((ids, row) => {
    ids.forEach((id, pos) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new SeenIdError(`prompt ${row}, position ${pos}: token id ${id} is outside the vocabulary [0, ${vocab})`);
      }
      words[row * W + (id >>> 5)]! |= 1 << (id & 31);
    });
  });
  return words;
}
