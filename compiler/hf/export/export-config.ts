// `moec export hf`'s compiler half: a whole-model program → the Hugging Face family that expresses
// it, that family's config.json fields, and the checkpoint names of its tensors (the inverse of
// `moec import`, reusing its family tables and name map). A config is only accepted when importing
// it back gives the same computation with the same checkpoint tensors (same-computation.ts), so an
// export can never describe another model. What no family expresses is refused as a list of
// located diagnostics (codes HF001–HF006, documented in docs/huggingface.md).
import * as path from "node:path";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Compilation, EntryInfo } from "../../driver.js";
import { lowerEntry, fsHost } from "../../driver.js";
import type { IrProgram } from "../../ir/ir.js";
import type { CheckpointNames } from "../../ir/checkpoint-names.js";
import type { Instance } from "../../semantic/instance.js";
import type { SourceHost } from "../../semantic/module-loader.js";
import type { Span } from "../../syntax/ast.js";
import { checkpointNamesOf } from "../checkpoint-names.js";
import { HfMapError, hfMap, resolveFamily, type HfMap } from "../map.js";
import { HfConfigError, importHfConfig } from "../import/import-config.js";
import { METADATA_FIELDS } from "../import/common-fields.js";
import { EXPORT_MODEL_TYPES, familyConfig, type ExportModelType } from "./family-config.js";
import { modelFacts, sparseOf, type ModelFacts } from "./model-facts.js";
import { firstDifference, opWeightKey, type KeyNames } from "./same-computation.js";
import { unmappableConstructs, ownerAtKey, entrySpan } from "./unmappable.js";

export { EXPORT_MODEL_TYPES, type ExportModelType } from "./family-config.js";

export interface HfExport {
  modelType: ExportModelType;
  /** config.json, keys sorted. */
  config: Record<string, unknown>;
  /** Every tensor of the checkpoint: its HF name, the moec file-form name it holds, its shape. */
  names: CheckpointNames;
}

/** The program cannot be written as a Hugging Face checkpoint; `problems` say what and where. */
export class HfExportRefusal extends Error {
  constructor(readonly problems: Diagnostic[]) {
    super(problems.map((p) => `${p.code}: ${p.message}`).join("\n"));
  }
}

export interface HfExportOptions {
  /** Only this model_type (`--model-type`); default: the first family whose import round-trips. */
  modelType?: string;
  /** The source checkpoint's config.json: fields the program does not determine (token ids,
   *  max_position_embeddings, …) are carried over from it. */
  sourceConfig?: Record<string, unknown>;
}

/** Fields that do not change the forward pass; carried from the source config when it has them. */
const CARRIED = new Set<string>([...METADATA_FIELDS, "intermediate_size"].filter((f) => !["model_type", "architectures", "torch_dtype", "dtype", "_name_or_path", "auto_map", "transformers_version", "name_or_path"].includes(f)));

/** Written with the family's default, but the program does not determine them (training
 *  settings, Qwen's window fields while windows are off): the source config's value wins. */
function isSoft(field: string, config: Record<string, unknown>): boolean {
  if (["router_aux_loss_coef", "aux_loss_alpha", "seq_aux", "ep_size", "initializer_range", "use_cache", "attention_dropout", "output_router_logits", "router_jitter_noise"].includes(field)) return true;
  return config.use_sliding_window === false && (field === "sliding_window" || field === "max_window_layers");
}

/** The model type the program's structure suggests (tried first). */
function detected(f: ModelFacts): ExportModelType {
  const attn = f.layers[0]?.attention;
  const sparse = f.layers.map(sparseOf).find((m) => m);
  if (attn?.kind === "mla") return sparse?.router.stages.some((s) => s.name === "sigmoid") ? "deepseek_v3" : "deepseek_v2";
  const a = attn?.kind === "attention" ? attn.attn : undefined;
  if (sparse) {
    if (f.layers.some((l) => l.gates > 0) || a?.bias) return "qwen2_moe";
    if (a?.qkNorm === "full") return "olmoe";
    if (a?.qkNorm === "head") return "qwen3_moe";
    return "mixtral";
  }
  if (a?.qkNorm === "head") return "qwen3";
  if (a?.bias) return "qwen2";
  if (f.layers.some((l) => l.attention?.kind === "attention" && l.attention.attn.window > 0)) return "mistral";
  return "llama";
}

/** moec weight key → its checkpoint names (every dotted prefix of a moec name maps to them). */
function keyNames(map: HfMap): KeyNames {
  const under = new Map<string, string[]>();
  for (const t of map.tensors) {
    for (const p of t.moec) {
      const parts = p.name.split(".");
      for (let i = 1; i <= parts.length; i++) {
        const k = parts.slice(0, i).join(".");
        const l = under.get(k) ?? [];
        l.push(t.hf);
        under.set(k, l);
      }
    }
  }
  return (key) => [...new Set(under.get(key) ?? [])].sort().join(",");
}

type Attempt = { ok: true; result: HfExport } | { ok: false; why: string; opIndex?: number };

async function attempt(modelType: ExportModelType, program: IrProgram, instance: Instance, facts: ModelFacts, opts: HfExportOptions): Promise<Attempt> {
  const family = resolveFamily(modelType);
  let map: HfMap;
  try {
    map = hfMap(instance, family);
  } catch (e) {
    if (!(e instanceof HfMapError)) throw e;
    return { ok: false, why: e.message };
  }
  const config = familyConfig(modelType, facts);
  for (const [k, v] of Object.entries(opts.sourceConfig ?? {})) {
    if ((CARRIED.has(k) && !(k in config)) || (k in config && isSoft(k, config))) config[k] = v;
  }
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  let text: string;
  try {
    text = (await importHfConfig(JSON.stringify(sorted), "config.json")).text;
  } catch (e) {
    if (!(e instanceof HfConfigError)) throw e;
    return { ok: false, why: `${modelType}'s config cannot say it: ${e.message}` };
  }
  const file = path.resolve(`/virtual/${modelType}.exported.moe`);
  const host: SourceHost = { readFile: (f) => (path.resolve(f) === file ? text : fsHost.readFile(f)) };
  const back = lowerEntry([file], { host });
  if (!back.program || !back.info || back.info.kind !== "model") return { ok: false, why: `${modelType}'s config imports to a program that does not compile (${back.diagnostics.find((d) => d.severity === "error")?.message ?? "no entry"})` };
  let backMap: HfMap;
  try {
    backMap = hfMap(back.info.instance, family);
  } catch (e) {
    if (!(e instanceof HfMapError)) throw e;
    return { ok: false, why: e.message };
  }
  const diff = firstDifference(program, keyNames(map), back.program, keyNames(backMap));
  if (diff !== undefined) return { ok: false, why: `${modelType}'s config imports to a different computation`, ...(diff >= 0 ? { opIndex: diff } : {}) };
  return { ok: true, result: { modelType, config: sorted, names: checkpointNamesOf(map) } };
}

/** The Hugging Face export of a lowered model entry, or HfExportRefusal listing what does not map. */
export async function exportHfConfig(program: IrProgram, info: EntryInfo, compilation: Compilation, opts: HfExportOptions = {}): Promise<HfExport> {
  const at = (code: string, message: string, file: string, span: Span, help?: string): Diagnostic => ({ code, severity: "error", message, file, span, secondary: [], ...(help ? { help } : {}) });
  const entry = entrySpan(compilation, info);
  if (info.kind !== "model") throw new HfExportRefusal([at("HF001", `\`${info.name}\` is a ${info.kind}; a Hugging Face checkpoint holds a whole model (a \`model\` entry)`, info.file, entry)]);
  let only: ExportModelType | undefined;
  if (opts.modelType !== undefined) {
    if (!(EXPORT_MODEL_TYPES as string[]).includes(opts.modelType)) throw new HfExportRefusal([at("HF006", `--model-type ${opts.modelType} is not a family moec exports; supported: ${EXPORT_MODEL_TYPES.join(", ")}`, info.file, entry)]);
    only = opts.modelType as ExportModelType;
  }
  const constructs = unmappableConstructs(compilation, info.instance);
  if (constructs.length) throw new HfExportRefusal(constructs);
  const facts = modelFacts(program);
  const first = only ?? detected(facts);
  const order = only ? [only] : [first, ...EXPORT_MODEL_TYPES.filter((m) => m !== first)];
  let firstFailure: Attempt | undefined;
  for (const mt of order) {
    const a = await attempt(mt, program, info.instance, facts, opts);
    if (a.ok) return a.result;
    firstFailure ??= a;
  }
  const f = firstFailure as Extract<Attempt, { ok: false }>;
  const op = f.opIndex !== undefined ? program.ops[f.opIndex] : undefined;
  const key = op ? opWeightKey(op) : undefined;
  const owner = key ? ownerAtKey(info.instance, key) : undefined;
  const what = op ? `\`${program.values[op.out]?.name ?? op.op}\` (${op.op}${key ? ` ${key}` : ""})` : undefined;
  throw new HfExportRefusal([at(
    "HF006",
    `no Hugging Face family expresses \`${info.name}\`${what ? `: ${what} has no counterpart in ${first}` : ""}; ${f.why}`,
    owner?.file ?? info.file, owner?.span ?? entry,
    `families tried: ${order.join(", ")}; a family's decoder layer is rmsnorm → attention → residual → rmsnorm → MLP or sparse block → residual, with its own attention and router options (docs/huggingface.md)`,
  )]);
}
