// Writes examples/checkpoints/tiny-mixtral/: a Hugging Face checkpoint directory of a tiny
// Mixtral-architecture model (config.json, model.safetensors under transformers' names, seeded
// random weights) with the tiny hand-written tokenizer of tests/fixtures/tokenizers/tiny, so the
// README's `moec generate` has text to stream without a download. Its output is gibberish: the
// weights are random. Run after `npx tsc -b`: node scripts/make-tiny-checkpoint.mjs
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { importHfConfig } from "../dist/compiler/hf/import/import-config.js";
import { compile } from "../dist/compiler/index.js";
import { hfMap, resolveFamily } from "../dist/compiler/hf/map.js";
import { randomWeights } from "../dist/runtime/weights/random-weights.js";
import { canonicalToFile } from "../dist/runtime/weights/canonical-to-file.js";
import { writeSafetensors } from "../dist/runtime/safetensors/writer.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(repo, "examples/checkpoints/tiny-mixtral");
const tokenizer = path.join(repo, "tests/fixtures/tokenizers/tiny");

// The tokenizer has 43 ids; V = 48 leaves the padding a real checkpoint often has.
const config = {
  architectures: ["MixtralForCausalLM"], model_type: "mixtral", vocab_size: 48, hidden_size: 32, intermediate_size: 32,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, num_local_experts: 4, num_experts_per_tok: 2,
  hidden_act: "silu", max_position_embeddings: 256, rms_norm_eps: 1e-5, rope_theta: 1e6, tie_word_embeddings: false,
  bos_token_id: 1, eos_token_id: 2, torch_dtype: "float32",
};

const imported = await importHfConfig(JSON.stringify(config), "config.json");
const c = compile({ source: imported.text, file: path.join(out, "imported.moe") });
if (!c.ok) throw new Error(c.formatDiagnostics());
const program = c.program;
// Per-member form: each routed expert its own tensor, as Hugging Face stores them.
const members = canonicalToFile(program, randomWeights(program, 2026), "per-member");
const tensors = {};
for (const t of hfMap(c.info.instance, resolveFamily(imported.family)).tensors) {
  if (t.moec.length !== 1) throw new Error(`${t.hf}: a concatenated tensor; this script writes Mixtral, which has none`);
  const m = members.get(t.moec[0].name);
  if (!m) throw new Error(`no canonical tensor ${t.moec[0].name} for ${t.hf}`);
  tensors[t.hf] = { dtype: "F32", shape: t.shape, data: m.data };
}
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "config.json"), JSON.stringify(config, null, 2) + "\n");
writeSafetensors(path.join(out, "model.safetensors"), tensors, { format: "pt" });
for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) fs.copyFileSync(path.join(tokenizer, f), path.join(out, f));
console.log(`wrote ${path.relative(repo, out)}: ${Object.keys(tensors).length} tensors`);
