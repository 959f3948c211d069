// A Hugging Face checkpoint directory in a page: the Files a directory picker (or a drop) gives,
// imported as `moec import` does (config.json → a .moe program), bound as Node binds a directory
// (open-checkpoint.ts, the Hugging Face name maps, GPTQ/AWQ/FP8 dequantized), with its tokenizer
// and generation settings — a model that generates in the browser.
import { compileWithHost, type CompileResult } from "../compiler/compile-api.js";
import { memoryHost } from "../compiler/semantic/source-host.js";
import { hfCheckpointNames } from "../compiler/hf/checkpoint-names.js";
import { importHfConfig } from "../compiler/hf/import/import-config.js";
import { HfConfigError } from "../compiler/hf/import/config-fields.js";
import type { GpuContext } from "../runtime/gpu/device.js";
import { createExecutor } from "../runtime/executor/executor.js";
import { executorProgram, type ExecutorProgram } from "../runtime/executor-program.js";
import { generateMethod, type GenerateMethod } from "../runtime/generate/generate-method.js";
import type { LazySafetensorsFile } from "../runtime/safetensors/reader.js";
import { readSafetensorsBlob } from "../runtime/safetensors/read-blob.js";
import { SafetensorsError } from "../runtime/safetensors/errors.js";
import type { CheckpointFiles } from "../runtime/weights/checkpoint-files.js";
import { CONFIG_FILE, openCheckpoint } from "../runtime/weights/open-checkpoint.js";
import { dequantizedCheckpoint } from "../runtime/weights/quantized-checkpoint.js";
import { bindOpenedCheckpoint, configProblems } from "../runtime/weights/bind-checkpoint.js";
import { WeightsError } from "../runtime/weights/weights-error.js";
import { tokenizerFromFiles, TOKENIZER_FILE } from "../runtime/text/tokenizer-files.js";
import { generationSettingsFrom, type GenerationSettings } from "../runtime/text/generation-config.js";
import type { TextTokenizer } from "../runtime/text/tokenizer.js";

/** Thrown when the files are not a checkpoint moec can import; the message names the file and field. */
export class CheckpointFilesError extends Error {
  override name = "CheckpointFilesError";
}

export interface BrowserCheckpoint {
  /** The directory's name (the picker's top folder). */
  readonly label: string;
  readonly files: CheckpointFiles;
  /** The program `moec import` writes for its config.json, and what it names. */
  readonly source: string;
  readonly modelType: string;
  /** The path the program is compiled under (for messages): `LABEL/MODEL_TYPE.imported.moe`. */
  readonly file: string;
  /** Compiles the imported program (`set` shrinks or overrides hyper-parameters, as --set). */
  compile(set?: Record<string, string | number | boolean>): CompileResult;
}

export interface BrowserModel extends ExecutorProgram {
  readonly checkpoint: { convention: string; unused: string[] };
  readonly tokenizer: TextTokenizer | undefined;
  readonly generation: GenerationSettings;
  /** Generates from text or ids, each token as the GPU draws it (docs/generation.md). */
  readonly generate: GenerateMethod;
}

const TEXT_FILE = /\.(json|jinja|txt|model)$/i;

/** Reads a checkpoint's Files: small text files whole, each safetensors file's header and then each
 *  tensor's slice (never a file whole). `onProgress` gets the bytes read of the total. */
export async function openCheckpointFiles(list: ArrayLike<File>, onProgress?: (p: { loadedBytes: number; totalBytes: number; file: string }) => void): Promise<BrowserCheckpoint> {
  const all = Array.from(list);
  if (all.length === 0) throw new CheckpointFilesError("no files were given; pick a Hugging Face checkpoint directory (config.json, model.safetensors or its index and shards)");
  const rel = (f: File) => ((f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name);
  const label = rel(all[0]!).includes("/") ? rel(all[0]!).split("/")[0]! : "checkpoint";
  // The directory's own files (not subfolders), by name.
  const byName = new Map<string, File>();
  for (const f of all) {
    const parts = rel(f).split("/");
    if (parts.length <= 2) byName.set(parts[parts.length - 1]!, f);
  }
  const texts = new Map<string, string>();
  const shards = new Map<string, LazySafetensorsFile | SafetensorsError>();
  const totalBytes = [...byName.values()].reduce((n, f) => n + f.size, 0);
  let loadedBytes = 0;
  for (const [name, f] of byName) {
    if (TEXT_FILE.test(name)) texts.set(name, await f.text());
    else if (/\.safetensors$/i.test(name)) {
      try {
        const st = await readSafetensorsBlob(f, `${label}/${name}`);
        const tensors = new Map([...st.tensors].map(([n, t]) => [n, { name: n, dtype: t.dtype, shape: t.shape, byteLength: t.bytes.byteLength, file: st.label, read: () => t.bytes }]));
        shards.set(name, { label: st.label, tensors, metadata: st.metadata });
      } catch (e) {
        if (!(e instanceof SafetensorsError)) throw e;
        shards.set(name, e);
      }
    }
    loadedBytes += f.size;
    onProgress?.({ loadedBytes, totalBytes, file: name });
  }
  const files: CheckpointFiles = {
    label,
    shown: (name) => `${label}/${name}`,
    exists: (name) => byName.has(name),
    readText(name) {
      const t = texts.get(name);
      if (t === undefined) throw new Error(byName.has(name) ? "not a text file" : "no such file");
      return t;
    },
    openSafetensors(name) {
      const s = shards.get(name);
      if (s === undefined) throw new SafetensorsError(`${label}/${name}`, `${label}/${name}: cannot read the safetensors file (no such file).`);
      if (s instanceof SafetensorsError) throw s;
      return s;
    },
  };
  const configText = texts.get(CONFIG_FILE);
  if (configText === undefined) throw new CheckpointFilesError(`${label}: no ${CONFIG_FILE}; a Hugging Face checkpoint directory has one`);
  let imported;
  try {
    imported = await importHfConfig(configText, `${label}/${CONFIG_FILE}`);
  } catch (e) {
    if (e instanceof HfConfigError) throw new CheckpointFilesError(e.message);
    throw e;
  }
  const file = `/${label}/${imported.modelType}.imported.moe`;
  return {
    label, files, source: imported.text, modelType: imported.modelType, file,
    compile: (set) => compileWithHost({ set }, file, memoryHost({ [file]: imported.text }), undefined),
  };
}

/** Binds the checkpoint's tensors to the compiled program and loads it on `gpu`, with its
 *  tokenizer (where tokenizer.json exists) and generation settings. */
export async function loadCheckpointModel(gpu: GpuContext, ckpt: BrowserCheckpoint, compiled: CompileResult, opts: { dtype?: "f32" | "f16" } = {}): Promise<BrowserModel> {
  if (!compiled.program || !compiled.info) throw new TypeError(`the imported program does not compile:\n${compiled.formatDiagnostics()}`);
  const opened = openCheckpoint(ckpt.files);
  if (!opened.ok) throw new WeightsError(opened.errors);
  const bad = configProblems(opened.dir.config, opened.dir.label);
  if (bad.length) throw new WeightsError(bad);
  const view = dequantizedCheckpoint(opened.dir);
  if (!view.ok) throw new WeightsError(view.errors);
  const names = hfCheckpointNames(compiled.info.instance, compiled.info.name, { modelType: ckpt.modelType });
  const bound = bindOpenedCheckpoint(compiled.program, view.dir, { names });
  if (!bound.ok) throw new WeightsError(bound.errors);
  const tokenizer = ckpt.files.exists(TOKENIZER_FILE) ? tokenizerFromFiles(ckpt.files) : undefined;
  const generation = generationSettingsFrom(ckpt.files);
  const exec = await createExecutor(gpu, compiled.program, bound.weights, { dtype: opts.dtype });
  return Object.assign(executorProgram(compiled.program, exec), {
    checkpoint: { convention: bound.convention, unused: bound.unused },
    tokenizer,
    generation,
    generate: generateMethod(gpu, exec, tokenizer, generation, ckpt.label),
  });
}
