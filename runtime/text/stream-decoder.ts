// Incremental detokenization for streaming generated text: feed ids one at a time, get the text
// that is now final. Decoding each token alone is wrong twice over: a character that byte-level
// BPE (or SentencePiece byte fallback) splits over several tokens would print as U+FFFD pieces,
// and decoders that treat a sequence's first token specially (Metaspace's leading `▁`) would drop
// spaces. So, as Hugging Face's text-generation-inference does, we decode a short window that
// starts at already-printed tokens (their text is context, not output) and print only the growth
// of that window's text, and only once it does not end in U+FFFD (an incomplete character).
// The printed pieces concatenated equal the decode of all ids at once, for decoders whose output
// for a sequence starts with the output for its prefix (byte-level, byte fallback, Metaspace).

import type { DecodeOptions, TextTokenizer } from "./tokenizer.js";

const REPLACEMENT = "\uFFFD";

export class StreamDecoder {
  private readonly ids: number[] = [];
  /** Start of the decode window: tokens before it are never looked at again. */
  private prefixOffset = 0;
  /** Tokens before this are printed; [prefixOffset, readOffset) is the window's context. */
  private readOffset = 0;

  /** `contextIds` (the prompt's tail, say) are read for their effect on spacing but never printed. */
  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly options: DecodeOptions & { contextIds?: readonly number[] } = {},
  ) {
    if (options.contextIds && options.contextIds.length > 0) {
      this.tokenizer.decode(options.contextIds); // unknown ids fail here, not later
      this.ids.push(...options.contextIds);
      this.readOffset = this.ids.length;
    }
  }

  /** Adds one id; returns the text that became final (often "", while a character is incomplete). */
  push(id: number): string {
    this.tokenizer.decode([id]); // an unknown id is an error naming it, at the step it arrives
    this.ids.push(id);
    const before = this.decode(this.prefixOffset, this.readOffset);
    const now = this.decode(this.prefixOffset, this.ids.length);
    if (now.length <= before.length || now.endsWith(REPLACEMENT)) return "";
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return now.slice(printedLength(before, now));
  }

  /** The text still held back (an incomplete character at the end prints as U+FFFD, as a full decode does). */
  finish(): string {
    const before = this.decode(this.prefixOffset, this.readOffset);
    const now = this.decode(this.prefixOffset, this.ids.length);
    this.prefixOffset = this.readOffset = this.ids.length;
    return now.slice(printedLength(before, now));
  }

  private decode(from: number, to: number): string {
    return from >= to ? "" : this.tokenizer.decode(this.ids.slice(from, to), { skipSpecialTokens: this.options.skipSpecialTokens ?? false });
  }
}

/** How much of `now` was printed already: `before`, or, for a decoder that rewrites earlier text
 *  (clean-up of spaces before punctuation), the part they share; printed text is never taken back. */
function printedLength(before: string, now: string): number {
  if (now.startsWith(before)) return before.length;
  let i = 0;
  while (i < before.length && i < now.length && before[i] === now[i]) i++;
  return i;
}
