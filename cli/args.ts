// A small, strict argument parser: every command declares its flags, so unknown flags, missing
// values and stray arguments are usage errors (exit 2) with a pointer to `--help`.

export interface FlagSpec {
  name: string;
  /** `boolean` flags take no value; `multi` flags may repeat and take one or more values. */
  type: "boolean" | "string" | "multi";
  short?: string;
  value?: string;
  help: string;
  /** A `string` flag that may be given several times, one value each (collected in order). */
  repeatable?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Positional arguments: `min` required, `max` allowed (Infinity for lists). */
  positionals: { name: string; min: number; max: number };
  details?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], spec: CommandSpec): ParsedArgs {
  const flags: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      const eq = a.indexOf("=");
      const key = a.startsWith("--") ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : a.slice(1);
      const f = a.startsWith("--") ? byName.get(key) : byShort.get(key);
      if (!f) throw new UsageError(`unknown option \`${a.startsWith("--") ? "--" + key : a}\` for \`moec ${spec.name}\``);
      if (f.type === "boolean") {
        if (eq > 0) throw new UsageError(`option --${f.name} takes no value`);
        flags[f.name] = true;
        continue;
      }
      const values: string[] = [];
      if (eq > 0) values.push(a.slice(eq + 1));
      else {
        // `multi` flags take every following word up to the next option (`--set D=32 N=16`).
        while (i + 1 < argv.length && !(argv[i + 1]!.startsWith("-") && argv[i + 1]!.length > 1 && !/^-\d/.test(argv[i + 1]!))) {
          values.push(argv[++i]!);
          if (f.type === "string") break;
          if (f.type === "multi" && !argv[i]!.includes("=") && f.name === "set") break;
        }
      }
      if (values.length === 0) throw new UsageError(`option --${f.name} needs a value${f.value ? ` (${f.value})` : ""}`);
      if (f.type === "string" && f.repeatable) {
        flags[f.name] = [...((flags[f.name] as string[] | undefined) ?? []), values[0]!];
      } else if (f.type === "string") {
        if (flags[f.name] !== undefined) throw new UsageError(`option --${f.name} is given twice`);
        flags[f.name] = values[0];
      } else {
        const prev = (flags[f.name] as string[] | undefined) ?? [];
        flags[f.name] = [...prev, ...values];
      }
      continue;
    }
    positionals.push(a);
  }
  if (positionals.length < spec.positionals.min) throw new UsageError(`\`moec ${spec.name}\` needs ${spec.positionals.name}`);
  if (positionals.length > spec.positionals.max) throw new UsageError(`unexpected argument \`${positionals[spec.positionals.max]}\` for \`moec ${spec.name}\``);
  return { flags, positionals };
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`moec ${spec.name} — ${spec.summary}`, "", `Usage: ${spec.usage}`];
  if (spec.details) lines.push("", spec.details);
  if (spec.flags.length) {
    lines.push("", "Options:");
    const rows = spec.flags.map((f) => [`${f.short ? "-" + f.short + ", " : "    "}--${f.name}${f.value ? " " + f.value : ""}`, f.help]);
    const w = Math.max(...rows.map((r) => r[0]!.length));
    for (const [a, b] of rows) lines.push(`  ${a!.padEnd(w)}  ${b}`);
  }
  return lines.join("\n");
}

/** `--set K=V` words to a record; a word without `=` is a usage error. */
export function parseSets(words: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words ?? []) {
    for (const part of w.split(",").filter(Boolean)) {
      const eq = part.indexOf("=");
      if (eq <= 0 || eq === part.length - 1) throw new UsageError(`--set takes NAME=VALUE, found \`${part}\``);
      out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
  }
  return out;
}
