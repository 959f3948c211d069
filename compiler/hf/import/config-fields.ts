// Typed, validated access to the fields of one Hugging Face `config.json`. Every read names the
// field and the file in its error, and records the field as read, so the importer can list the
// fields it did not recognise.

/** A config that cannot become a program: names the file and, where there is one, the field. */
export class HfConfigError extends Error {
  constructor(readonly file: string, readonly field: string | undefined, message: string) {
    super(`${file}: ${field !== undefined ? `\`${field}\`: ` : ""}${message}`);
  }
}

/** The largest size a config may give (any real model is far below; it keeps arithmetic exact). */
export const MAX_SIZE = 2 ** 31 - 1;
/** Layer and expert counts are also lists the compiler materializes; real models have ≤ 128 layers and ≤ 384 experts. */
export const MAX_LAYERS = 1024;
export const MAX_EXPERTS = 4096;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export class ConfigFields {
  private readonly read = new Set<string>();

  constructor(readonly file: string, readonly raw: Record<string, Json>) {}

  error(field: string | undefined, message: string): HfConfigError {
    return new HfConfigError(this.file, field, message);
  }

  /** Whether the field is present and not null (JSON null means "unset" in these configs). */
  has(name: string): boolean {
    this.read.add(name);
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  /** Whether the key is in the file at all (null included). */
  present(name: string): boolean {
    this.read.add(name);
    return Object.prototype.hasOwnProperty.call(this.raw, name);
  }

  value(name: string): Json | undefined {
    this.read.add(name);
    const v = this.raw[name];
    return v === null ? undefined : v;
  }

  /** A positive (or, with min 0, non-negative) integer size. */
  int(name: string, opts: { min?: number; max?: number; default?: number } = {}): number {
    const v = this.value(name);
    if (v === undefined) {
      if (opts.default !== undefined) return opts.default;
      throw this.error(name, "missing; it is required");
    }
    const min = opts.min ?? 1;
    if (typeof v !== "number" || !Number.isInteger(v)) throw this.error(name, `expected an integer, found ${show(v)}`);
    if (v < min) throw this.error(name, `expected an integer ≥ ${min}, found ${v}`);
    const max = opts.max ?? MAX_SIZE;
    if (v > max) throw this.error(name, `${v} is too large (at most ${max})`);
    return v;
  }

  /** An optional integer: undefined when absent or null. */
  optInt(name: string, min = 1, max = MAX_SIZE): number | undefined {
    return this.has(name) ? this.int(name, { min, max }) : undefined;
  }

  /** A finite number; `positive` excludes zero and below. */
  num(name: string, opts: { default?: number; positive?: boolean; min?: number } = {}): number {
    const v = this.value(name);
    if (v === undefined) {
      if (opts.default !== undefined) return opts.default;
      throw this.error(name, "missing; it is required");
    }
    if (typeof v !== "number" || !Number.isFinite(v)) throw this.error(name, `expected a number, found ${show(v)}`);
    if (opts.positive && !(v > 0)) throw this.error(name, `expected a number > 0, found ${v}`);
    if (opts.min !== undefined && v < opts.min) throw this.error(name, `expected a number ≥ ${opts.min}, found ${v}`);
    return v;
  }

  bool(name: string, dflt: boolean): boolean {
    const v = this.value(name);
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") throw this.error(name, `expected true or false, found ${show(v)}`);
    return v;
  }

  str(name: string, dflt?: string): string {
    const v = this.value(name);
    if (v === undefined) {
      if (dflt !== undefined) return dflt;
      throw this.error(name, "missing; it is required");
    }
    if (typeof v !== "string") throw this.error(name, `expected a string, found ${show(v)}`);
    return v;
  }

  /** A list of integers (layer indices), each in [0, below). */
  intList(name: string, below: number): number[] {
    const v = this.value(name);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw this.error(name, `expected a list of layer indices, found ${show(v)}`);
    return v.map((x, i) => {
      if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x >= below) throw this.error(name, `item ${i}: expected a layer index in 0…${below - 1}, found ${show(x)}`);
      return x;
    });
  }

  /** A list of strings from a fixed vocabulary, of a given length. */
  enumList(name: string, values: readonly string[], length: number): string[] | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw this.error(name, `expected a list of ${values.join(" | ")}, found ${show(v)}`);
    if (v.length !== length) throw this.error(name, `has ${v.length} entries; num_hidden_layers is ${length}`);
    return v.map((x, i) => {
      if (typeof x !== "string" || !values.includes(x)) throw this.error(name, `item ${i}: expected one of ${values.map((s) => `"${s}"`).join(", ")}, found ${show(x)}`);
      return x;
    });
  }

  /** An object-valued field (`rope_scaling`), or undefined when absent or null. */
  object(name: string): Record<string, Json> | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw this.error(name, `expected an object, found ${show(v)}`);
    return v;
  }

  /** Refuses a field whose value the program cannot express; `ok` says which values it can. */
  refuseUnless(name: string, ok: (v: Json | undefined) => boolean, why: string): void {
    const v = this.value(name);
    if (!ok(v)) throw this.error(name, `${show(v)} is not supported: ${why}`);
  }

  /** Marks fields that do not change the forward pass (training, parallelism, metadata). */
  ignore(names: readonly string[]): void {
    for (const n of names) this.read.add(n);
  }

  /** Fields present in the file that no reader looked at. */
  unread(): string[] {
    return Object.keys(this.raw).filter((k) => !this.read.has(k)).sort();
  }
}

/** Parses config.json text: a JSON object, or an error naming the file (and line where JSON says). */
export function parseConfigText(text: string, file: string): ConfigFields {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HfConfigError(file, undefined, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new HfConfigError(file, undefined, `expected a JSON object of configuration fields, found ${Array.isArray(raw) ? "a list" : show(raw)}`);
  return new ConfigFields(file, raw as Record<string, Json>);
}
