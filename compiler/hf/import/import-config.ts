// `moec import`'s compiler half: a Hugging Face config.json (text) → the .moe program of the model,
// formatted, commented with the fields each line came from. The family comes from `model_type`;
// every field that changes the computation is honoured or refused by name (HfConfigError).
import { formatMoe } from "../../format/format-moe.js";
import type { HfFamilyName } from "../families.js";
import type { ConfigFields } from "./config-fields.js";
import { parseConfigText } from "./config-fields.js";
import type { ModelPlan } from "./model-plan.js";
import { emitProgram } from "./emit-program.js";
import { denseModel } from "./dense-families.js";
import { moeModel } from "./moe-families.js";
import { deepseekModel } from "./deepseek-families.js";

export { HfConfigError } from "./config-fields.js";

const READERS: Record<string, (c: ConfigFields) => ModelPlan> = {
  mixtral: (c) => moeModel(c, "mixtral"),
  qwen2_moe: (c) => moeModel(c, "qwen2_moe"),
  qwen3_moe: (c) => moeModel(c, "qwen3_moe"),
  olmoe: (c) => moeModel(c, "olmoe"),
  deepseek_v2: (c) => deepseekModel(c, "deepseek_v2"),
  deepseek_v3: (c) => deepseekModel(c, "deepseek_v3"),
  llama: (c) => denseModel(c, "llama"),
  mistral: (c) => denseModel(c, "mistral"),
  qwen2: (c) => denseModel(c, "qwen2"),
  qwen3: (c) => denseModel(c, "qwen3"),
};

/** The `model_type` values `moec import` reads. */
export const IMPORT_MODEL_TYPES = Object.keys(READERS);

export interface ImportedProgram {
  /** The formatted .moe text. */
  text: string;
  /** The entry's name (the config's model_type). */
  entry: string;
  modelType: string;
  /** The checkpoint's weight-name family, for hfMap. */
  family: HfFamilyName;
  /** Fields in the config that no reader recognised (listed in the program's header too). */
  unrecognised: string[];
}

/** The plan of a config (no formatting); throws HfConfigError naming the field. */
export function planFromConfig(text: string, file: string): { plan: ModelPlan; unrecognised: string[] } {
  const c = parseConfigText(text, file);
  const mt = c.str("model_type");
  const read = READERS[mt];
  if (!read) throw c.error("model_type", `"${mt}" is not a family moec imports; supported: ${IMPORT_MODEL_TYPES.join(", ")}`);
  const plan = read(c);
  return { plan, unrecognised: c.unread() };
}

/** Imports config.json text; `source` names it in the program's header (a path as the user wrote it). */
export async function importHfConfig(text: string, file: string, source = file): Promise<ImportedProgram> {
  const { plan, unrecognised } = planFromConfig(text, file);
  if (unrecognised.length) plan.notes.push(`Fields not recognised (not read): ${unrecognised.join(", ")}.`);
  const raw = emitProgram(plan, source);
  // The formatter reformats our own text; it parses by construction, so a failure is a bug.
  const formatted = await formatMoe(raw);
  return { text: formatted, entry: plan.modelType, modelType: plan.modelType, family: plan.family, unrecognised };
}
