// The `--weight-format q8_0|q4_0` flag `moec run`, `generate` and `bench --decode` share: its
// declaration (one help text) and its parse (ExecutorOptions.weightFormat, docs/quantization.md).
import { type FlagSpec, UsageError } from "../args.js";

export type WeightFormat = "q8_0" | "q4_0";

export const WEIGHT_FORMAT_FLAG: FlagSpec = {
  name: "weight-format",
  type: "string",
  value: "q8_0|q4_0",
  help: "keep the weights of linear layers (the LM head included), attention's q/k/v/o projections, routed experts and embeddings on the GPU as Q8_0 or Q4_0 blocks, quantized at load and dequantized inside the kernels' loads (such expert pools run token-centric); router gates, shared and dense FFN pools and matrices whose rows are not whole blocks of 32 stay in --dtype (docs/quantization.md)",
};

/** The flag's value, or undefined when absent; anything else is a usage error. */
export function weightFormatFlag(f: Record<string, unknown>): WeightFormat | undefined {
  const v = f["weight-format"];
  if (v === undefined) return undefined;
  if (v !== "q8_0" && v !== "q4_0") throw new UsageError(`--weight-format takes q8_0 or q4_0, found \`${String(v)}\``);
  return v;
}
