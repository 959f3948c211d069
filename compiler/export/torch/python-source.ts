// Python source text for the PyTorch export: literals that read back as the same values, names
// that are valid identifiers, and a writer that indents by four spaces and keeps lines within
// 100 columns (long calls are broken after commas).

/** A Python literal for a JS number: exact (repr round-trips), floats with a point, inf/nan spelled out. */
export function pyNum(v: number, asFloat = false): string {
  if (Number.isNaN(v)) return 'float("nan")';
  if (v === Infinity) return 'float("inf")';
  if (v === -Infinity) return '-float("inf")';
  const s = String(v);
  if (asFloat && Number.isInteger(v) && !/e/i.test(s)) return `${s}.0`;
  return s;
}

export function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** A Python literal of a stage argument or config value. */
export function pyValue(v: number | string | boolean | undefined | null | readonly unknown[]): string {
  if (v === undefined || v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return pyNum(v);
  if (typeof v === "string") return pyStr(v);
  return `(${v.map((x) => pyValue(x as number)).join(", ")}${v.length === 1 ? "," : ""})`;
}

export function pyDict(entries: Record<string, number | string | boolean>): string {
  return `{${Object.entries(entries)
    .map(([k, v]) => `${pyStr(k)}: ${pyValue(v)}`)
    .join(", ")}}`;
}

const PY_KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield".split(" "),
);

/** A Python identifier from an IR name (`layers.3.attn` → `layers_3_attn`). */
export function pyIdent(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_]/g, "_").replace(/_+/g, "_");
  if (!/^[A-Za-z_]/.test(s)) s = `_${s}`;
  return PY_KEYWORDS.has(s) ? `${s}_` : s;
}

/** Lines of Python at indentation levels; `call` breaks long argument lists within 100 columns. */
export class PyWriter {
  private readonly out: string[] = [];
  private level = 0;

  line(text = ""): this {
    this.out.push(text === "" ? "" : "    ".repeat(this.level) + text);
    return this;
  }

  lines(text: string): this {
    for (const l of text.replace(/\n$/, "").split("\n")) this.line(l);
    return this;
  }

  /** `head(arg, arg, …)tail` on one line, or one argument per line when it would pass 100 columns. */
  call(head: string, args: string[], tail = ""): this {
    const one = `${head}(${args.join(", ")})${tail}`;
    if ("    ".repeat(this.level).length + one.length <= 100) return this.line(one);
    this.line(`${head}(`);
    this.level++;
    for (const a of args) this.line(`${a},`);
    this.level--;
    return this.line(`)${tail}`);
  }

  /** `# text`, wrapped at 100 columns. */
  comment(text: string): this {
    const width = 100 - 4 * this.level - 2;
    let rest = text;
    while (rest.length > width) {
      let cut = rest.lastIndexOf(" ", width);
      if (cut <= 0) cut = width;
      this.line(`# ${rest.slice(0, cut)}`);
      rest = rest.slice(cut).trimStart();
    }
    return this.line(`# ${rest}`);
  }

  indent(): this {
    this.level++;
    return this;
  }

  dedent(): this {
    this.level--;
    return this;
  }

  toString(): string {
    return this.out.join("\n") + "\n";
  }
}

/** Indents every line of a Python block by `levels` × 4 spaces. */
export function indentPy(text: string, levels: number): string {
  const pad = "    ".repeat(levels);
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => (l === "" ? "" : pad + l))
    .join("\n");
}
