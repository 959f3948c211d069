// Every config field the program cannot express is refused by name (file and field in the
// message), and malformed configs are errors naming what is wrong — never a program that computes
// something else.
import { describe, expect, it } from "vitest";
import { HfConfigError, importHfConfig } from "../../../../compiler/hf/import/import-config.js";
import type { Config, Family } from "../../../helpers/hf-configs.js";
import { smallFixture } from "../../../helpers/hf-configs.js";

async function refusal(config: Config | string): Promise<string> {
  try {
    await importHfConfig(typeof config === "string" ? config : JSON.stringify(config), "ckpt/config.json");
  } catch (e) {
    expect(e).toBeInstanceOf(HfConfigError);
    return (e as Error).message;
  }
  throw new Error("imported; expected a refusal");
}

const cases: [string, Family, Config, RegExp][] = [
  ["an unknown model_type lists the supported ones", "llama", { model_type: "gpt2" }, /^ckpt\/config\.json: `model_type`: "gpt2" is not a family moec imports; supported: mixtral, qwen2_moe, qwen3_moe, olmoe, deepseek_v2, deepseek_v3, llama, mistral, qwen2, qwen3$/],
  ["rope_scaling linear", "llama", { rope_scaling: { type: "linear", factor: 2.0 } }, /`rope_scaling`: type "linear" is not supported/],
  ["rope_scaling llama3 (Llama 3.1)", "llama", { rope_scaling: { rope_type: "llama3", factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 } }, /`rope_scaling`: type "llama3"/],
  ["a yarn key moec does not read", "qwen3", { rope_scaling: { rope_type: "yarn", factor: 4.0, attention_factor: 0.8 } }, /`rope_scaling\.attention_factor`: is not supported with yarn/],
  ["rope_parameters (transformers 5)", "llama", { rope_parameters: { rope_type: "default", rope_theta: 10000 } }, /`rope_parameters`/],
  ["Llama's attention_bias biases o_proj", "llama", { attention_bias: true }, /`attention_bias`: true is not supported: it biases q, k, v and o_proj/],
  ["Qwen3's attention_bias", "qwen3", { attention_bias: true }, /`attention_bias`/],
  ["OLMoE's attention_bias", "olmoe", { attention_bias: true }, /`attention_bias`/],
  ["DeepSeek's attention_bias", "deepseek_v3", { attention_bias: true }, /`attention_bias`: true is not supported: moec's mla has no projection biases/],
  ["OLMoE's clip_qkv", "olmoe", { clip_qkv: 8.0 }, /`clip_qkv`: 8 is not supported: moec's attention does not clamp/],
  ["a tanh-approximate GELU", "mixtral", { hidden_act: "gelu_pytorch_tanh" }, /`hidden_act`: "gelu_pytorch_tanh" is not supported/],
  ["V2's group_limited_greedy that drops groups", "deepseek_v2", { topk_method: "group_limited_greedy", n_group: 4, topk_group: 2 }, /`topk_method`: "group_limited_greedy" with n_group = 4, topk_group = 2 ranks groups by their best expert/],
  ["V2 with sigmoid scores", "deepseek_v2", { scoring_func: "sigmoid" }, /`scoring_func`: "sigmoid" is not supported for deepseek_v2/],
  ["V3 with softmax scores", "deepseek_v3", { scoring_func: "softmax" }, /`scoring_func`: "softmax" is not supported for deepseek_v3/],
  ["V3 with greedy top-k", "deepseek_v3", { topk_method: "greedy" }, /`topk_method`: "greedy" is not supported for deepseek_v3/],
  ["V3's n_group not dividing the experts", "deepseek_v3", { n_group: 3 }, /`n_group`: 3 does not divide the 16 routed experts/],
  ["V3's topk_group above n_group", "deepseek_v3", { topk_group: 9 }, /`topk_group`: 9 is more than n_group = 8/],
  ["V3's k above the kept groups' experts", "deepseek_v3", { topk_group: 2 }, /`num_experts_per_tok`: 8 is more than the 4 experts in topk_group = 2 groups/],
  ["k above the experts", "mixtral", { num_experts_per_tok: 5 }, /`num_experts_per_tok`: 5 is more than the 4 experts \(num_local_experts\)/],
  ["kv heads not dividing heads", "llama", { num_key_value_heads: 3 }, /`num_key_value_heads`: 3 does not divide num_attention_heads = 4/],
  ["heads not dividing hidden_size", "mistral", { hidden_size: 30 }, /`num_attention_heads`: 4 does not divide hidden_size = 30, and there is no head_dim/],
  ["a rotary fraction that is not an even count", "llama", { partial_rotary_factor: 0.3 }, /`partial_rotary_factor`/],
  // Found by the fuzz (config-fuzz.test.ts): these imported into programs failing E0291.
  ["an odd head_dim", "qwen3", { head_dim: 1 }, /`head_dim`: gives heads of 1 values; rotary embedding rotates pairs, so a head's size must be even/],
  ["an odd hidden_size / heads", "llama", { hidden_size: 36 }, /`num_attention_heads`: gives heads of 9 values; rotary embedding/],
  ["odd qk_rope_head_dim", "deepseek_v2", { qk_rope_head_dim: 5 }, /`qk_rope_head_dim`: 5 must be even/],
  ["a missing size", "qwen2", { hidden_size: undefined }, /`hidden_size`: missing; it is required/],
  ["a negative size", "qwen2_moe", { moe_intermediate_size: -4 }, /`moe_intermediate_size`: expected an integer ≥ 1, found -4/],
  ["a fractional size", "olmoe", { num_experts: 7.5 }, /`num_experts`: expected an integer, found 7.5/],
  ["a string size", "llama", { vocab_size: "32000" }, /`vocab_size`: expected an integer, found "32000"/],
  ["too many layers", "llama", { num_hidden_layers: 100000 }, /`num_hidden_layers`: 100000 is too large \(at most 1024\)/],
  ["a huge size", "llama", { intermediate_size: 1e300 }, /`intermediate_size`: 1e\+300 is too large/],
  ["a layer index out of range", "qwen3_moe", { mlp_only_layers: [9] }, /`mlp_only_layers`: item 0: expected a layer index in 0…3, found 9/],
  ["layer_types of the wrong length", "qwen2", { use_sliding_window: true, layer_types: ["full_attention"] }, /`layer_types`: has 1 entries; num_hidden_layers is 4/],
  ["a non-boolean flag", "qwen3_moe", { norm_topk_prob: "yes" }, /`norm_topk_prob`: expected true or false, found "yes"/],
  ["DeepSeek without n_routed_experts", "deepseek_v2", { n_routed_experts: undefined }, /`n_routed_experts`: missing/],
  ["a zero eps", "mixtral", { rms_norm_eps: 0 }, /`rms_norm_eps`: expected a number > 0, found 0/],
];

describe("moec import refuses by name", () => {
  for (const [what, family, change, message] of cases) {
    it(`${family}: ${what}`, async () => {
      const c = smallFixture(family, change);
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete c[k];
      expect(await refusal(c)).toMatch(message);
    });
  }

  it("malformed files: not JSON, not an object", async () => {
    expect(await refusal('{"model_type": "llama",')).toMatch(/^ckpt\/config\.json: not valid JSON/);
    expect(await refusal("[1, 2]")).toMatch(/^ckpt\/config\.json: expected a JSON object of configuration fields, found a list/);
    expect(await refusal("{}")).toMatch(/`model_type`: missing/);
  });
});
