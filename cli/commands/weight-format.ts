// The `--weight-format q8_0|q4_0|fp8_e4m3` flag `moec run`, `generate` and `bench --decode` share: its
// declaration (one help text) and its parse (ExecutorOptions.weightFormat, docs/quantization.md).
import { type FlagSpec, UsageError } from "../args.js";

export const WEIGHT_FORMATS = ["q8_0", "q4_0", "fp8_e4m3"] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];

export const WEIGHT_FORMAT_FLAG: FlagSpec = {
  name: "weight-format",
  type: "string",
  value: "q8_0|q4_0|fp8_e4m3",
  help: "keep the weights of linear layers (the LM head included), attention's q/k/v/o projections, routed experts and embeddings on the GPU as Q8_0 or Q4_0 blocks, or FP8 E4M3 with a scale per row and 128 columns (an FP8 checkpoint's own bytes and scales), quantized at load and dequantized inside the kernels' loads (such expert pools run token-centric); router gates, shared and dense FFN pools and matrices whose rows are not whole blocks (32 values; 128 for fp8_e4m3) stay in --dtype (docs/quantization.md)",
};

/** The flag's value, or undefined when absent; anything else is a usage error. */
export function weightFormatFlag(f: Record<string, unknown>): WeightFormat | undefined {
  const v = f["weight-format"];
  if (v === undefined) return undefined;
  if (!(WEIGHT_FORMATS as readonly unknown[]).includes(v)) throw new UsageError(`--weight-format takes ${WEIGHT_FORMATS.join(", ")}, found \`${String(v)}\``);
  return v as WeightFormat;
}
