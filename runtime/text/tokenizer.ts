// A checkpoint's tokenizer: text ↔ token ids through the Hugging Face tokenizer library, with the
// checks that library leaves out (an id outside the vocabulary decodes to "" there; here it is an
// error naming the id). Built by load-tokenizer.ts from files it has already checked.

import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { TextError } from "./text-error.js";
import type { TokenizerJsonFacts } from "./tokenizer-json.js";
import type { TokenizerSettings } from "./tokenizer-config.js";

export interface EncodeOptions {
  /** Add the post-processor's special tokens (a BOS, for example), as transformers does by
   *  default; a rendered chat template already holds them, so encode it with false. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (`<|im_end|>`, `</s>`, …). */
  skipSpecialTokens?: boolean;
}

/** A named token and its id. */
export interface NamedToken {
  text: string;
  id: number;
}

export class TextTokenizer {
  /** Highest token id plus one: the model's vocabulary V must be at least this. */
  readonly vocabSize: number;
  /** Special tokens (added tokens marked special), text → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly bos?: NamedToken;
  readonly eos?: NamedToken;
  /** Special-token texts by tokenizer_config.json field, as transformers passes them to a chat template. */
  readonly specialTokenTexts: TokenizerSettings["specialTokens"];
  /** The chat template, with the file it came from, when the checkpoint has one. */
  readonly chatTemplate?: { text: string; file: string };

  private constructor(
    /** tokenizer.json as shown in messages. */
    readonly file: string,
    private readonly hf: HfTokenizer,
    facts: TokenizerJsonFacts,
    settings: TokenizerSettings,
    chatTemplate: { text: string; file: string } | undefined,
    configFile: string,
  ) {
    this.vocabSize = facts.vocabSize;
    this.specialTokens = facts.specialTokens;
    this.specialTokenTexts = settings.specialTokens;
    if (chatTemplate) this.chatTemplate = chatTemplate;
    const named = (field: "bos_token" | "eos_token"): NamedToken | undefined => {
      const text = settings.specialTokens[field];
      if (text === undefined) return undefined;
      const id = hf.token_to_id(text);
      if (id === undefined) throw new TextError(`${configFile}: "${field}" is ${JSON.stringify(text)}, which is not a token of ${file}.`, configFile, field);
      return { text, id };
    };
    const bos = named("bos_token");
    const eos = named("eos_token");
    if (bos) this.bos = bos;
    if (eos) this.eos = eos;
  }

  /** Builds the library tokenizer from checked files; what it still rejects becomes a TextError naming `file`. */
  static create(
    file: string,
    json: Record<string, unknown>,
    facts: TokenizerJsonFacts,
    settings: TokenizerSettings,
    chatTemplate: { text: string; file: string } | undefined,
    configFile: string,
  ): TextTokenizer {
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(json, settings.libraryConfig);
    } catch (e) {
      throw new TextError(`${file}: the tokenizer cannot be built from it: ${(e as Error).message}`, file);
    }
    return new TextTokenizer(file, hf, facts, settings, chatTemplate, configFile);
  }

  /** The token ids of `text`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    let out: { ids: (number | undefined)[]; tokens: string[] };
    try {
      out = this.hf.encode(text, { add_special_tokens: options.addSpecialTokens ?? true });
    } catch (e) {
      throw new TextError(`${this.file}: the tokenizer failed on this text: ${(e as Error).message}`, this.file);
    }
    // A token the pipeline produces that the vocabulary lacks (a post-processor naming a missing
    // special token, say) has no id; the library would quietly give it <unk>'s or none. An error.
    const bad = out.tokens.findIndex((token, i) => this.hf.token_to_id(token) === undefined || typeof out.ids[i] !== "number");
    if (bad >= 0) throw new TextError(`${this.file}: the tokenizer produced the token ${JSON.stringify(out.tokens[bad])}, which has no id in the vocabulary.`, this.file);
    return out.ids as number[];
  }

  /** The text of `ids`; an id that is not a token of this tokenizer is an error naming it and its position. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    ids.forEach((id, i) => {
      if (this.tokenText(id) === undefined) {
        throw new TextError(`token id ${id} (at position ${i}) is not in the vocabulary of ${this.file} (ids 0…${this.vocabSize - 1}).`, this.file);
      }
    });
    if (ids.length === 0) return "";
    try {
      return this.hf.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
    } catch (e) {
      throw new TextError(`${this.file}: the tokenizer failed to decode ids: ${(e as Error).message}`, this.file);
    }
  }

  /** The token's text as the vocabulary spells it (`Ġworld`, `▁hello`), or undefined for an unknown id. */
  tokenText(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) return undefined;
    return this.hf.id_to_token(id);
  }

  /** The id of a token as the vocabulary spells it, or undefined. */
  tokenId(text: string): number | undefined {
    return this.hf.token_to_id(text);
  }

  /** Is `id` a special token? */
  isSpecial(id: number): boolean {
    const t = this.tokenText(id);
    return t !== undefined && this.specialTokens.get(t) === id;
  }
}
