// Generation with a model run by ONNX Runtime (`moec generate --backend onnxruntime`): each step
// runs the whole sequence again (no KV cache: the exported graph's GroupQueryAttention has no
// past/present inputs wired) and chooses the next token from the last row's logits with the host
// sampler the decoding graphs use (runtime/generate/graphs/cpu-sampler.ts; §13.2's order).
import { checkGeneration, pickSampling, type GenerateOptions, type StopReason } from "../generate/generate.js";
import { CpuSampler } from "../generate/graphs/cpu-sampler.js";
import type { GenerationStep } from "../generate/text-generation.js";
import { StreamDecoder } from "../text/stream-decoder.js";
import { tokenizerVocabMismatch } from "../text/load-tokenizer.js";
import type { TextTokenizer } from "../text/tokenizer.js";
import type { OnnxProgramSession } from "./onnx-session.js";

export async function* generateOnnx(model: OnnxProgramSession, prompt: Int32Array, tokenizer: TextTokenizer | undefined, opts: GenerateOptions = {}): AsyncGenerator<GenerationStep> {
  const p = model.program;
  const input = p.inputs[0]!.name;
  const V = p.values[p.outputs[0]!.value]!.width;
  const { maxNew } = checkGeneration(prompt, V, opts);
  if (tokenizer) {
    const mismatch = tokenizerVocabMismatch(tokenizer, V);
    if (mismatch) throw mismatch;
  }
  // Ids past the tokenizer's (a padded vocabulary) have no text: never drawn when text is wanted.
  const vocab = tokenizer ? Math.min(V, tokenizer.vocabSize) : V;
  const sampler = new CpuSampler(pickSampling(opts), 0);
  const eos = new Set(opts.eosIds ?? []);
  const stops = new Set(opts.stopIds ?? []);
  const seen = new Set(Array.from(prompt).filter((id) => id < vocab));
  const decoder = tokenizer ? new StreamDecoder(tokenizer, { skipSpecialTokens: true, contextIds: Array.from(prompt.subarray(Math.max(0, prompt.length - 4))) }) : undefined;
  const ids = Array.from(prompt);
  for (let index = 0; index < maxNew; index++) {
    if (opts.signal?.aborted) return;
    const T = ids.length;
    const logits = (await model.run(new Map([[input, Int32Array.from(ids)]]), T)).get(p.outputs[0]!.name)!;
    const id = sampler.pick(logits.subarray((T - 1) * V, (T - 1) * V + vocab), seen);
    seen.add(id);
    ids.push(id);
    const stop: StopReason | undefined = eos.has(id) ? "eos" : stops.has(id) ? "stop" : index === maxNew - 1 ? "length" : undefined;
    let text: string | undefined;
    if (decoder) text = decoder.push(id) + (stop ? decoder.finish() : "");
    yield { id, index, ...(stop ? { stop } : {}), ...(text !== undefined ? { text } : {}) };
    if (stop) return;
  }
}
