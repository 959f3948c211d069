// `--weights-as hf[:FAMILY]`, shared by `moec info` (list the names) and `moec run` (read a
// checkpoint under them): the one parser of the flag's value.
import { UsageError } from "../args.js";

/** undefined when the flag is absent; else the family it names (undefined: detect it). */
export function parseWeightsAs(value: unknown): { family?: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^hf(?::(\w+))?$/i.exec(String(value));
  if (!m) throw new UsageError(`--weights-as takes \`hf\` or \`hf:FAMILY\`, found \`${String(value)}\``);
  return m[1] !== undefined ? { family: m[1] } : {};
}
