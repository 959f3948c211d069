// The generation settings a checkpoint directory carries (LANGUAGE.md §13.2): its end-of-sequence
// ids, from `generation_config.json`'s `eos_token_id`, else `config.json`'s (one id or a list;
// null or absent means none), and the context limit, `config.json`'s `max_position_embeddings`,
// else 4096. Wrong types are TextErrors naming the file and field. read-generation-settings.ts
// reads a directory on disk through this.

import { readJsonFile } from "./json-object.js";
import type { TextFiles } from "./text-files.js";
import { fieldError, showJson } from "./text-error.js";
import { MAX_TOKEN_ID } from "./tokenizer-json.js";

export const GENERATION_CONFIG_FILE = "generation_config.json";
export const MODEL_CONFIG_FILE = "config.json";
/** The context limit of a model whose config does not give one. */
export const DEFAULT_CONTEXT = 4096;

export interface GenerationSettings {
  /** End-of-sequence ids, in file order, without repeats (empty: generation stops only at the length). */
  eosTokenIds: number[];
  /** The file and field the ids came from, for messages and reports; undefined when none. */
  eosSource?: string;
  /** The default `--context`. */
  contextLimit: number;
  /** Where the limit came from: `config.json: max_position_embeddings`, or "default". */
  contextSource: string;
}

/** Ids of an `eos_token_id` value: one id, a list of ids, or null/absent (undefined). */
function eosIds(v: unknown, file: string): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  const isId = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= MAX_TOKEN_ID;
  list.forEach((x, i) => {
    if (!isId(x)) {
      const field = Array.isArray(v) ? `eos_token_id[${i}]` : "eos_token_id";
      throw fieldError(file, field, `must be a token id (an integer in 0…${MAX_TOKEN_ID}); found ${showJson(x)}.`);
    }
  });
  return [...new Set(list as number[])];
}

/** The settings of the checkpoint whose files are `files`; both files are optional. */
export function generationSettingsFrom(files: TextFiles): GenerationSettings {
  const read = (name: string) => (files.exists(name) ? { json: readJsonFile(files, name), shown: files.shown(name) } : undefined);
  const generation = read(GENERATION_CONFIG_FILE);
  const model = read(MODEL_CONFIG_FILE);

  let eosTokenIds: number[] = [];
  let eosSource: string | undefined;
  for (const f of [generation, model]) {
    if (!f) continue;
    const ids = eosIds(f.json["eos_token_id"], f.shown);
    if (ids !== undefined) {
      eosTokenIds = ids;
      eosSource = `${f.shown}: eos_token_id`;
      break;
    }
  }

  let contextLimit = DEFAULT_CONTEXT;
  let contextSource = "default";
  const mpe = model?.json["max_position_embeddings"];
  if (model && mpe !== undefined && mpe !== null) {
    if (typeof mpe !== "number" || !Number.isInteger(mpe) || mpe < 1 || mpe > MAX_TOKEN_ID) {
      throw fieldError(model.shown, "max_position_embeddings", `must be a positive integer; found ${showJson(mpe)}.`);
    }
    contextLimit = mpe;
    contextSource = `${model.shown}: max_position_embeddings`;
  }
  return { eosTokenIds, ...(eosSource !== undefined ? { eosSource } : {}), contextLimit, contextSource };
}
