// The Hugging Face config fixtures (tests/fixtures/hf-configs/<model_type>/config.json), small
// versions of them for tests that check or run the imported program, and importing a config
// object into a checked program (an in-memory file read through a SourceHost).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { entryInfo, fsHost } from "../../compiler/driver.js";
import type { SourceHost } from "../../compiler/semantic/module-loader.js";
import { importHfConfig } from "../../compiler/hf/import/import-config.js";

export const HF_CONFIGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/hf-configs");
export const FAMILIES = ["mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v2", "deepseek_v3", "llama", "mistral", "qwen2", "qwen3"] as const;
export type Family = (typeof FAMILIES)[number];

export type Config = Record<string, any>;

export function fixture(family: Family): Config {
  return JSON.parse(fs.readFileSync(path.join(HF_CONFIGS, family, "config.json"), "utf8"));
}

const SMALL_COMMON = { vocab_size: 64, hidden_size: 32, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48 };

/** Each fixture at sizes a test can check (and run) quickly; the structure fields are kept. */
export const SMALL: Record<Family, Config> = {
  mixtral: { ...SMALL_COMMON, num_local_experts: 4, num_experts_per_tok: 2 },
  qwen2_moe: { ...SMALL_COMMON, num_key_value_heads: 4, num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 16, shared_expert_intermediate_size: 24 },
  qwen3_moe: { ...SMALL_COMMON, head_dim: 8, num_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 16 },
  olmoe: { ...SMALL_COMMON, num_key_value_heads: 4, num_experts: 8, num_experts_per_tok: 2 },
  deepseek_v2: { ...SMALL_COMMON, num_key_value_heads: 4, kv_lora_rank: 16, qk_nope_head_dim: 8, qk_rope_head_dim: 4, v_head_dim: 8, n_routed_experts: 8, n_shared_experts: 2, num_experts_per_tok: 2, moe_intermediate_size: 16 },
  deepseek_v3: { ...SMALL_COMMON, num_key_value_heads: 4, first_k_dense_replace: 1, q_lora_rank: 24, kv_lora_rank: 16, qk_nope_head_dim: 8, qk_rope_head_dim: 4, v_head_dim: 8, n_routed_experts: 16, num_experts_per_tok: 8, moe_intermediate_size: 16 },
  llama: { ...SMALL_COMMON },
  mistral: { ...SMALL_COMMON, sliding_window: 8 },
  qwen2: { ...SMALL_COMMON },
  qwen3: { ...SMALL_COMMON, head_dim: 8 },
};

export function smallFixture(family: Family, extra: Config = {}): Config {
  return { ...fixture(family), ...SMALL[family], ...extra };
}

/** Imports a config and checks the program; `info` is the entry at its defaults. */
export async function importAndCheck(config: Config | string, name = "config.json") {
  const text = typeof config === "string" ? config : JSON.stringify(config, null, 2);
  const imported = await importHfConfig(text, name);
  const file = path.resolve(`/virtual/${imported.modelType}.imported.moe`);
  const host: SourceHost = { readFile: (f) => (path.resolve(f) === file ? imported.text : fsHost.readFile(f)) };
  const res = entryInfo([file], { host });
  return { imported, res, file, host };
}
