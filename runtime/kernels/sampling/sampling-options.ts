// Sampling settings of LANGUAGE.md §13.2 (temperature, repetition penalty, top-k, top-p, min-p,
// seed) as the library takes them, their defaults, and the one validation every consumer (the
// GPU sampler, the float64 reference, the CLI) goes through: a bad value is a SamplingOptionsError
// naming the option and the value, never a silent clamp.

export interface SamplingOptions {
  /** τ ≥ 0; 0 (the default) is greedy: the highest (penalized) logit, ties to the lowest id. */
  temperature?: number;
  /** Keep the K most likely tokens (ties to the lower id); 0 (the default) keeps all. An integer ≥ 0. */
  topK?: number;
  /** Keep the shortest prefix of the sorted distribution whose mass reaches P; 0 < P ≤ 1, 1 (the default) keeps all. */
  topP?: number;
  /** Drop tokens whose probability is below M · p_max; 0 ≤ M < 1, 0 (the default) keeps all. */
  minP?: number;
  /** Hugging Face's penalty R > 0 on seen tokens (prompt and generated); 1 (the default) is none. */
  repetitionPenalty?: number;
  /** The counter-based generator's key: an integer in [0, 2^53); 0 by default. */
  seed?: number;
}

/** Every option present, validated. */
export type ResolvedSamplingOptions = Required<SamplingOptions>;

export class SamplingOptionsError extends Error {
  override name = "SamplingOptionsError";
  constructor(
    /** The option at fault (`temperature`, `topK`, …). */
    readonly option: keyof SamplingOptions,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_SAMPLING: ResolvedSamplingOptions = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 0 };

function fail(option: keyof SamplingOptions, rule: string, value: unknown): never {
  throw new SamplingOptionsError(option, `sampling option '${option}' must be ${rule}, got ${typeof value === "number" ? String(value) : JSON.stringify(value)}`);
}

const isNumber = (v: unknown): v is number => typeof v === "number" && !Number.isNaN(v);

/** The options with defaults filled in; throws SamplingOptionsError on the first bad one. */
export function resolveSamplingOptions(o: SamplingOptions = {}): ResolvedSamplingOptions {
  const r = { ...DEFAULT_SAMPLING };
  for (const key of Object.keys(o)) {
    if (!(key in DEFAULT_SAMPLING)) throw new SamplingOptionsError(key as keyof SamplingOptions, `unknown sampling option '${key}' (known: ${Object.keys(DEFAULT_SAMPLING).join(", ")})`);
  }
  if (o.temperature !== undefined) {
    if (!isNumber(o.temperature) || !Number.isFinite(o.temperature) || o.temperature < 0) fail("temperature", "a finite number ≥ 0", o.temperature);
    r.temperature = o.temperature;
  }
  if (o.topK !== undefined) {
    if (!Number.isSafeInteger(o.topK) || o.topK < 0) fail("topK", "an integer ≥ 0 (0 keeps every token)", o.topK);
    r.topK = o.topK;
  }
  if (o.topP !== undefined) {
    if (!isNumber(o.topP) || !(o.topP > 0 && o.topP <= 1)) fail("topP", "in (0, 1] (1 keeps every token)", o.topP);
    r.topP = o.topP;
  }
  if (o.minP !== undefined) {
    if (!isNumber(o.minP) || !(o.minP >= 0 && o.minP < 1)) fail("minP", "in [0, 1) (0 keeps every token)", o.minP);
    r.minP = o.minP;
  }
  if (o.repetitionPenalty !== undefined) {
    if (!isNumber(o.repetitionPenalty) || !Number.isFinite(o.repetitionPenalty) || !(o.repetitionPenalty > 0)) fail("repetitionPenalty", "a finite number > 0 (1 is no penalty)", o.repetitionPenalty);
    r.repetitionPenalty = o.repetitionPenalty;
  }
  if (o.seed !== undefined) {
    if (!Number.isSafeInteger(o.seed) || o.seed < 0) fail("seed", "an integer in [0, 2^53)", o.seed);
    r.seed = o.seed;
  }
  return r;
}
