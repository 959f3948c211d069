// Prints a ModelPlan as a .moe program in the shape of examples/models/*.moe: a sparse-block
// layer, then the model (embed, `repeat` stacks of decoder layers named as Hugging Face names the
// modules, final norm, lm_head), with comments naming the config fields each line came from.
// The text is formatted afterwards (import-config.ts), so layout here is only approximate.
import type { Arg, DecoderLayerPlan, ModelPlan } from "./model-plan.js";
import { floatLit } from "./model-plan.js";

const args = (as: Arg[]) => as.map((a) => `${a.name} = ${a.value}`).join(", ");

/** Consecutive equal decoder layers as `[start, count, layer]` runs. */
export function layerRuns(layers: DecoderLayerPlan[]): { start: number; count: number; layer: DecoderLayerPlan }[] {
  const runs: { start: number; count: number; layer: DecoderLayerPlan; key: string }[] = [];
  layers.forEach((layer, i) => {
    const key = JSON.stringify(layer);
    const last = runs[runs.length - 1];
    if (last && last.key === key) last.count++;
    else runs.push({ start: i, count: 1, layer, key });
  });
  return runs.map(({ start, count, layer }) => ({ start, count, layer }));
}

/** `// text` wrapped at word boundaries to about `width` columns (the formatter keeps comments as written). */
function comment(text: string, indent = "", width = 100): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && indent.length + 3 + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l) => `${indent}// ${l}`);
}

export function emitProgram(plan: ModelPlan, source: string): string {
  const lines: string[] = [];
  const out = {
    push(...ls: string[]) {
      for (const l of ls) {
        const m = /^(\s*)\/\/ (.*)$/.exec(l);
        lines.push(...(m ? comment(m[2]!, m[1]!) : [l]));
      }
    },
  };
  out.push(`// Imported by \`moec import\` from ${source}: model_type "${plan.modelType}", Hugging Face ${plan.modeling}.`);
  out.push("// The comment above each line names the config.json fields it comes from.");
  for (const n of plan.notes) out.push(`// ${n}`);
  out.push("");
  if (plan.sparse) {
    const s = plan.sparse;
    out.push(`// ${s.about}`);
    out.push(`layer ${s.name}(x: [T, D], ${s.params.map((p) => `${p.name} = ${p.value}`).join(", ")}) {`);
    for (const l of s.body) {
      if (l.from) out.push(`  // ${l.from}`);
      out.push(`  ${l.code}`);
    }
    out.push("}", "");
  }
  out.push(`// ${plan.hyper.map((h) => `${h.name}: ${h.from}`).join(", ")}`);
  out.push(`model ${plan.modelType}(tokens: [T], ${plan.hyper.map((h) => `${h.name} = ${h.value}`).join(", ")}) {`);
  out.push("  // vocab_size, hidden_size");
  out.push("  let embed_tokens = embed(tokens, vocab = V, dim = D)");
  out.push("  let h = embed_tokens");
  const eps = floatLit(plan.normEps);
  const runs = layerRuns(plan.layers);
  runs.forEach((run, r) => {
    const last = r === runs.length - 1;
    const count = runs.length === 1 ? "L" : last ? `L - ${run.start}` : String(run.count);
    const range = run.count === 1 ? `layer ${run.start}` : `layers ${run.start}–${run.start + run.count - 1}`;
    const ffn = run.layer.ffn;
    out.push(`  // ${range}: ${ffn.kind === "sparse" ? "sparse" : "dense"} (${ffn.from})`);
    out.push(`  repeat ${count} as layers${run.start ? ` from ${run.start}` : ""} {`);
    out.push(`    // ${plan.normFrom}`);
    out.push(`    let input_layernorm = rmsnorm(h, eps = ${eps})`);
    out.push(`    // ${run.layer.attention.from}`);
    out.push(`    let self_attn = ${run.layer.attention.block}(input_layernorm, ${args(run.layer.attention.args)})`);
    out.push("    h = h + self_attn");
    out.push(`    let post_attention_layernorm = rmsnorm(h, eps = ${eps})`);
    if (ffn.kind === "sparse") {
      out.push(`    let ${plan.sparseModule} = ${plan.sparse!.name}(post_attention_layernorm, ${args(plan.sparse!.callArgs)})`);
      out.push(`    h = h + ${plan.sparseModule}`);
    } else {
      out.push(`    let mlp = ffn(post_attention_layernorm, ${args(ffn.args)})`);
      out.push("    h = h + mlp");
    }
    out.push("  }");
  });
  out.push(`  // ${plan.normFrom}`);
  out.push(`  let norm = rmsnorm(h, eps = ${eps})`);
  out.push(`  // tie_word_embeddings = ${plan.tied}${plan.tied ? ": the output head shares embed_tokens' weight" : ""}`);
  out.push(plan.tied ? "  let lm_head = lm_head(norm, tied = embed_tokens)" : "  let lm_head = lm_head(norm, vocab = V)");
  out.push("  return lm_head", "}");
  return lines.join("\n") + "\n";
}
