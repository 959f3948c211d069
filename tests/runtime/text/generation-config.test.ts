// End-of-sequence ids and the context limit of a checkpoint directory, from hand-written
// generation_config.json / config.json files: which file wins, one id or a list, null as unset,
// the 4096 default, and wrong types named by file and field.
import { afterAll, describe, expect, it } from "vitest";
import { readGenerationSettings } from "../../../runtime/text/read-generation-settings.js";
import { TINY_DIR, scratchDirs } from "../../helpers/text-fixtures.js";

const dirs = scratchDirs("moec-gencfg-");
afterAll(() => dirs.cleanup());
const dir = (files: Record<string, unknown>) => dirs.make(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));

describe("readGenerationSettings", () => {
  it("reads the tiny fixture", () => {
    expect(readGenerationSettings(TINY_DIR, "tiny")).toEqual({ eosTokenIds: [4, 2], eosSource: "tiny/generation_config.json: eos_token_id", contextLimit: 4096, contextSource: "default" });
  });

  it("prefers generation_config.json, else config.json; one id or a list", () => {
    const both = dir({ "generation_config.json": { eos_token_id: [151645, 151643] }, "config.json": { eos_token_id: 151643, max_position_embeddings: 32768 } });
    expect(readGenerationSettings(both, "d")).toEqual({
      eosTokenIds: [151645, 151643],
      eosSource: "d/generation_config.json: eos_token_id",
      contextLimit: 32768,
      contextSource: "d/config.json: max_position_embeddings",
    });
    const configOnly = dir({ "generation_config.json": { eos_token_id: null, bos_token_id: 1 }, "config.json": { eos_token_id: 2 } });
    expect(readGenerationSettings(configOnly, "d")).toMatchObject({ eosTokenIds: [2], eosSource: "d/config.json: eos_token_id" });
    expect(readGenerationSettings(dir({ "config.json": { eos_token_id: [7, 7, 3] } }), "d").eosTokenIds).toEqual([7, 3]);
  });

  it("has no eos ids and the 4096 default when the files say nothing", () => {
    expect(readGenerationSettings(dir({}), "d")).toEqual({ eosTokenIds: [], contextLimit: 4096, contextSource: "default" });
    expect(readGenerationSettings(dir({ "config.json": { max_position_embeddings: null } }), "d").contextLimit).toBe(4096);
  });

  it("names the file and field of a wrong type", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ "generation_config.json": { eos_token_id: "2" } }, /d\/generation_config\.json: "eos_token_id" must be a token id .*found "2"/],
      [{ "config.json": { eos_token_id: [2, -1] } }, /d\/config\.json: "eos_token_id\[1\]" must be a token id .*found -1/],
      [{ "config.json": { eos_token_id: [2.5] } }, /"eos_token_id\[0\]" must be a token id .*found 2\.5/],
      [{ "config.json": { max_position_embeddings: 0 } }, /d\/config\.json: "max_position_embeddings" must be a positive integer; found 0/],
      [{ "config.json": { max_position_embeddings: "4k" } }, /"max_position_embeddings" must be a positive integer; found "4k"/],
      [{ "generation_config.json": "{ not json" }, /d\/generation_config\.json: not valid JSON/],
      [{ "config.json": [1, 2] }, /d\/config\.json: must hold a JSON object; found an array/],
    ];
    for (const [files, message] of cases) expect(() => readGenerationSettings(dir(files), "d")).toThrow(message);
  });
});
