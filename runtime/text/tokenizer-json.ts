// Checks the parts of a `tokenizer.json` that the tokenizer library trusts without checking: the
// model's type and vocabulary, the merges, the added tokens and the pipeline stages' shape. A file
// that passes can be handed to the library; what the library still rejects (an unknown stage
// type, a bad regex) is caught where it is constructed (tokenizer.ts).

import { fieldError, TextError, showJson } from "./text-error.js";
import { isObject } from "./json-object.js";

/** The model types the tokenizer library implements. */
export const SUPPORTED_MODEL_TYPES = ["BPE", "Unigram", "WordPiece"] as const;

/** Token ids must fit the I32 ids the GPU's embedding reads. */
export const MAX_TOKEN_ID = 2 ** 31 - 2;

/** What the rest of the text layer needs to know about a checked file. */
export interface TokenizerJsonFacts {
  modelType: (typeof SUPPORTED_MODEL_TYPES)[number];
  /** Highest id of the model's vocabulary and the added tokens, plus one. */
  vocabSize: number;
  /** Added tokens marked `special`, content → id. */
  specialTokens: Map<string, number>;
}

const isTokenId = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_TOKEN_ID;

/** Validates `json` (already known to be an object) read from `file`; throws a TextError naming the field. */
export function checkTokenizerJson(json: Record<string, unknown>, file: string): TokenizerJsonFacts {
  const model = json["model"];
  if (!isObject(model)) throw fieldError(file, "model", `must be an object describing the tokenizer model; found ${showJson(model)}.`);
  const type = model["type"];
  if (typeof type !== "string") throw fieldError(file, "model.type", `must name the model type (${SUPPORTED_MODEL_TYPES.join(", ")}); found ${showJson(type)}.`);
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(type)) {
    throw fieldError(file, "model.type", `is ${JSON.stringify(type)}, which is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(", ")}).`);
  }
  const modelType = type as TokenizerJsonFacts["modelType"];

  let maxId = -1;
  const tokens = new Set<string>();
  if (modelType === "Unigram") {
    const vocab = model["vocab"];
    if (!Array.isArray(vocab)) throw fieldError(file, "model.vocab", `must be an array of [piece, score] pairs; found ${showJson(vocab)}.`);
    if (vocab.length > MAX_TOKEN_ID) throw fieldError(file, "model.vocab", `has ${vocab.length} entries, more than ids can hold.`);
    vocab.forEach((entry, i) => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || typeof entry[1] !== "number" || !Number.isFinite(entry[1])) {
        throw fieldError(file, `model.vocab[${i}]`, `must be a [piece, score] pair (a string and a number); found ${showJson(entry)}.`);
      }
      tokens.add(entry[0]);
    });
    maxId = vocab.length - 1;
    const unk = model["unk_id"];
    if (unk !== undefined && unk !== null && !(isTokenId(unk) && unk < vocab.length)) {
      throw fieldError(file, "model.unk_id", `must be an id of the vocabulary (0…${vocab.length - 1}); found ${showJson(unk)}.`);
    }
  } else {
    const vocab = model["vocab"];
    if (!isObject(vocab)) throw fieldError(file, "model.vocab", `must be an object from tokens to ids; found ${showJson(vocab)}.`);
    for (const [token, id] of Object.entries(vocab)) {
      if (!isTokenId(id)) throw fieldError(file, `model.vocab[${JSON.stringify(token)}]`, `must be a token id (an integer in 0…${MAX_TOKEN_ID}); found ${showJson(id)}.`);
      if (id > maxId) maxId = id;
      tokens.add(token);
    }
    const unk = model["unk_token"];
    if (unk !== undefined && unk !== null && typeof unk !== "string") throw fieldError(file, "model.unk_token", `must be a token or null; found ${showJson(unk)}.`);
    if (modelType === "WordPiece" && typeof unk !== "string") throw fieldError(file, "model.unk_token", `must name the unknown token of a WordPiece model; found ${showJson(unk)}.`);
    if (modelType === "BPE") checkMerges(model["merges"], file);
  }

  const specialTokens = new Map<string, number>();
  const added = json["added_tokens"] ?? [];
  if (!Array.isArray(added)) throw fieldError(file, "added_tokens", `must be an array; found ${showJson(added)}.`);
  added.forEach((t, i) => {
    const where = `added_tokens[${i}]`;
    if (!isObject(t)) throw fieldError(file, where, `must be an object {id, content, …}; found ${showJson(t)}.`);
    if (!isTokenId(t["id"])) throw fieldError(file, `${where}.id`, `must be a token id (an integer in 0…${MAX_TOKEN_ID}); found ${showJson(t["id"])}.`);
    if (typeof t["content"] !== "string" || t["content"] === "") throw fieldError(file, `${where}.content`, `must be the token's text (a non-empty string); found ${showJson(t["content"])}.`);
    for (const flag of ["special", "single_word", "lstrip", "rstrip", "normalized"]) {
      if (t[flag] !== undefined && typeof t[flag] !== "boolean") throw fieldError(file, `${where}.${flag}`, `must be true or false; found ${showJson(t[flag])}.`);
    }
    const id = t["id"] as number;
    if (id > maxId) maxId = id;
    tokens.add(t["content"]);
    if (t["special"] === true) specialTokens.set(t["content"], id);
  });
  // The library reads `added_tokens` without a default.
  json["added_tokens"] = added;

  if (modelType !== "Unigram") {
    const unk = model["unk_token"];
    if (typeof unk === "string" && !tokens.has(unk)) throw fieldError(file, "model.unk_token", `is ${JSON.stringify(unk)}, which is not a token of the vocabulary.`);
  }
  for (const stage of ["normalizer", "pre_tokenizer", "post_processor", "decoder"]) {
    const v = json[stage];
    if (v === undefined || v === null) continue;
    if (!isObject(v) || typeof v["type"] !== "string") throw fieldError(file, stage, `must be null or an object with a "type"; found ${showJson(v)}.`);
    checkPatterns(v, stage, file);
  }
  if (maxId < 0) throw new TextError(`${file}: the vocabulary is empty.`, file, "model.vocab");
  return { modelType, vocabSize: maxId + 1, specialTokens };
}

/** BPE merges: "a b" strings, or [a, b] pairs (the newer form); one form throughout. */
function checkMerges(merges: unknown, file: string): void {
  if (!Array.isArray(merges)) throw fieldError(file, "model.merges", `must be an array of merges ("a b" or ["a", "b"]); found ${showJson(merges)}.`);
  const pairs = merges.length > 0 && Array.isArray(merges[0]);
  merges.forEach((m, i) => {
    const ok = pairs
      ? Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string"
      : typeof m === "string" && m.split(" ").length === 2;
    if (!ok) {
      const form = pairs ? 'a pair ["a", "b"] like the first merge' : 'a string "a b" (two tokens and one space) like the first merge';
      throw fieldError(file, `model.merges[${i}]`, `must be ${form}; found ${showJson(m)}.`);
    }
  });
}

/** Every `pattern` of a pipeline stage (Split, Replace, nested in a Sequence) is present and is
 *  {"Regex": s} or {"String": s}: the library warns on stderr and then drops any other pattern, silently changing
 *  the tokenization. */
function checkPatterns(node: unknown, where: string, file: string): void {
  if (Array.isArray(node)) {
    node.forEach((x, i) => checkPatterns(x, `${where}[${i}]`, file));
    return;
  }
  if (!isObject(node)) return;
  if ((node["type"] === "Split" || node["type"] === "Replace") && node["pattern"] === undefined) {
    throw fieldError(file, `${where}.pattern`, `is missing; a ${node["type"]} stage needs {"Regex": "…"} or {"String": "…"}.`);
  }
  for (const [key, v] of Object.entries(node)) {
    const at = `${where}.${key}`;
    if (key === "pattern") {
      const ok = isObject(v) && ((typeof v["Regex"] === "string" && v["String"] === undefined) || (typeof v["String"] === "string" && v["Regex"] === undefined));
      if (!ok) throw fieldError(file, at, `must be {"Regex": "…"} or {"String": "…"}; found ${showJson(v)}.`);
    } else checkPatterns(v, at, file);
  }
}
