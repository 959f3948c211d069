// The #model panel: a Hugging Face checkpoint directory picked from disk (moec/browser's
// openCheckpointFiles: config.json imported as `moec import` does, shards read tensor by tensor),
// loaded on this browser's adapter with its tokenizer, and a prompt's continuation streamed into
// #generated as the GPU draws each token (greedy at temperature 0). The imported program goes
// into the editor, so its diagnostics, info and diagram are the model's.
import { moec } from "./moec-module.js";
import { getRuntime } from "./run-panel.js";
import type { SourceInput } from "./source-input.js";

type Model = Awaited<ReturnType<Awaited<ReturnType<typeof moec.createRuntime>>["loadCheckpoint"]>>;
type Checkpoint = Awaited<ReturnType<typeof moec.openCheckpointFiles>>;

export interface LoadedCheckpoint {
  label: string;
  source: string;
  file: string;
  convention: string;
  tokenizer: boolean;
  eos: number[];
  context: number;
}

export interface GenerationRecord {
  prompt: string;
  ids: number[];
  text: string;
  stop?: string;
  tokensPerSecond: number;
}

export class ModelProblem extends Error {}

let model: Model | undefined;
let checkpoint: Checkpoint | undefined;
let generating: AbortController | undefined;

/** Opens and loads the picked directory; `progress` gets a line as the files are read. */
export async function loadCheckpoint(files: ArrayLike<File>, set: SourceInput["set"], progress: (line: string) => void): Promise<LoadedCheckpoint> {
  if (!files.length) throw new ModelProblem("choose a checkpoint directory first (config.json, model.safetensors or its index and shards, tokenizer.json)");
  generating?.abort();
  model?.dispose();
  model = undefined;
  checkpoint = await moec.openCheckpointFiles(files, (p) => progress(`reading ${p.file}… ${(p.loadedBytes / 2 ** 20).toFixed(1)} of ${(p.totalBytes / 2 ** 20).toFixed(1)} MiB`));
  progress(`compiling ${checkpoint.modelType} and uploading its weights…`);
  const rt = await getRuntime();
  model = await rt.loadCheckpoint(checkpoint, { set });
  return {
    label: checkpoint.label, source: checkpoint.source, file: checkpoint.file,
    convention: model.checkpoint.convention, tokenizer: model.tokenizer !== undefined,
    eos: model.generation.eosTokenIds, context: model.generation.contextLimit,
  };
}

/** The prompt: text through the tokenizer, or comma-separated ids where there is none. */
function promptOf(text: string): string | number[] {
  if (model?.tokenizer) return text;
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length || !parts.every((p) => /^\d+$/.test(p))) throw new ModelProblem("this checkpoint has no tokenizer.json: give the prompt as token ids, e.g. 1, 15, 7");
  return parts.map(Number);
}

/** Streams the continuation into `out`, token by token. */
export async function generate(prompt: string, maxNewTokens: number, temperature: number, out: HTMLElement): Promise<GenerationRecord> {
  if (!model) throw new ModelProblem("load a checkpoint first");
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new ModelProblem(`New tokens takes a whole number ≥ 1, found ${maxNewTokens}`);
  if (!Number.isFinite(temperature) || temperature < 0) throw new ModelProblem(`Temperature takes a number ≥ 0, found ${temperature}`);
  const given = promptOf(prompt);
  generating = new AbortController();
  const shown = document.createElement("span");
  shown.className = "prompt-text";
  shown.textContent = typeof given === "string" ? given : given.join(", ") + " →";
  const produced = document.createElement("span");
  out.replaceChildren(shown, produced);
  const ids: number[] = [];
  let text = "", stop: string | undefined, firstAt = 0;
  const started = performance.now();
  for await (const step of model.generate(given, { maxNewTokens, temperature, signal: generating.signal })) {
    if (ids.length === 0) firstAt = performance.now();
    ids.push(step.id);
    const piece = step.text ?? ` ${step.id}`;
    text += piece;
    produced.textContent += piece;
    stop = step.stop;
  }
  const decodeMs = performance.now() - (firstAt || started);
  generating = undefined;
  return { prompt, ids, text, stop, tokensPerSecond: ids.length > 1 ? ((ids.length - 1) * 1000) / decodeMs : 0 };
}

export function stopGenerating(): void {
  generating?.abort();
}
