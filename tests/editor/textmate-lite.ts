// A small TextMate tokenizer on JS RegExp, enough for the .moe grammar: `match` rules with
// captures, `begin`/`end` rules with nested patterns (spanning lines), `include` of repository
// rules. vscode-textmate + vscode-oniguruma are not installed here, so the grammar keeps its
// regexes JS-compatible and is tested through this. Semantics kept from TextMate: at each
// position the earliest match wins, ties go to the earlier rule, and an open rule's `end` is tried
// before its nested patterns.

interface RawCapture {
  name?: string;
}
export interface RawRule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  captures?: Record<string, RawCapture>;
  beginCaptures?: Record<string, RawCapture>;
  endCaptures?: Record<string, RawCapture>;
  patterns?: RawRule[];
}
export interface RawGrammar {
  scopeName: string;
  patterns: RawRule[];
  repository: Record<string, RawRule>;
}

export interface Token {
  text: string;
  /** Outermost first: `source.moe`, then rule scopes, then capture scopes. */
  scopes: string[];
}

interface Rule {
  name?: string;
  match?: RegExp;
  begin?: RegExp;
  end?: RegExp;
  captures: Record<string, RawCapture>;
  beginCaptures: Record<string, RawCapture>;
  endCaptures: Record<string, RawCapture>;
  patterns: Rule[];
}

export class Grammar {
  private readonly top: Rule[];
  private readonly compiled = new Map<RawRule, Rule[]>();

  constructor(private readonly raw: RawGrammar) {
    this.top = this.expand(raw.patterns);
  }

  /** Every regex source in the grammar, for checks that do not tokenize. */
  static regexSources(raw: RawGrammar): string[] {
    const out: string[] = [];
    const visit = (r: RawRule): void => {
      for (const s of [r.match, r.begin, r.end]) if (s !== undefined) out.push(s);
      r.patterns?.forEach(visit);
    };
    raw.patterns.forEach(visit);
    Object.values(raw.repository).forEach(visit);
    return out;
  }

  private expand(rules: RawRule[]): Rule[] {
    return rules.flatMap((r) => this.compile(r));
  }

  private compile(r: RawRule): Rule[] {
    const cached = this.compiled.get(r);
    if (cached) return cached;
    if (r.include !== undefined) {
      if (r.include === "$self") return this.top;
      const target = this.raw.repository[r.include.replace(/^#/, "")];
      if (!target) throw new Error(`unknown include ${r.include}`);
      return this.compile(target);
    }
    const out: Rule[] = [];
    this.compiled.set(r, out);
    if (r.match === undefined && r.begin === undefined) {
      out.push(...this.expand(r.patterns ?? []));
      return out;
    }
    const re = (s: string): RegExp => new RegExp(s, "dg");
    out.push({
      name: r.name,
      match: r.match !== undefined ? re(r.match) : undefined,
      begin: r.begin !== undefined ? re(r.begin) : undefined,
      end: r.end !== undefined ? re(r.end) : undefined,
      captures: r.captures ?? {},
      beginCaptures: r.beginCaptures ?? r.captures ?? {},
      endCaptures: r.endCaptures ?? r.captures ?? {},
      patterns: [],
    });
    // Nested patterns are compiled after registering, so recursive includes terminate.
    out[0]!.patterns = this.expand(r.patterns ?? []);
    return out;
  }

  /** Tokenizes lines in order; an open `begin`/`end` rule (a block comment) carries over. */
  tokenize(text: string): Token[][] {
    const stack: Rule[] = [];
    return text.split("\n").map((line) => this.tokenizeLine(line, stack));
  }

  private tokenizeLine(line: string, stack: Rule[]): Token[] {
    const tokens: Token[] = [];
    const base = (): string[] => [this.raw.scopeName, ...stack.map((r) => r.name).filter((n): n is string => !!n)];
    const push = (text: string, scopes: string[]): void => {
      if (text !== "") tokens.push({ text, scopes });
    };
    let pos = 0;
    while (pos < line.length) {
      const open = stack.at(-1);
      const candidates: { rule: Rule | undefined; re: RegExp }[] = [];
      if (open?.end) candidates.push({ rule: undefined, re: open.end });
      for (const rule of open ? open.patterns : this.top) candidates.push({ rule, re: (rule.match ?? rule.begin)! });
      let best: { rule: Rule | undefined; m: RegExpExecArray } | undefined;
      for (const c of candidates) {
        c.re.lastIndex = pos;
        const m = c.re.exec(line);
        if (m && (!best || m.index < best.m.index)) best = { rule: c.rule, m };
      }
      if (!best) {
        push(line.slice(pos), base());
        break;
      }
      const { rule, m } = best;
      push(line.slice(pos, m.index), base());
      if (rule === undefined) {
        emitCaptures(m, open!.endCaptures, base(), push);
        stack.pop();
      } else if (rule.match) {
        emitCaptures(m, rule.captures, rule.name ? [...base(), rule.name] : base(), push);
      } else {
        stack.push(rule);
        emitCaptures(m, rule.beginCaptures, base(), push);
      }
      const next = m.index + m[0].length;
      // A rule that matched nothing must not stall the scan.
      if (next === pos && rule !== undefined) push(line[pos++]!, base());
      else pos = next;
    }
    // An open rule whose end matches the end of the line (`$`: strings) closes with it.
    const open = stack.at(-1);
    if (open?.end) {
      open.end.lastIndex = line.length;
      const e = open.end.exec(line);
      if (e && e.index === line.length) stack.pop();
    }
    return tokens;
  }
}

/** Splits one match into tokens by its (non-nested) numbered captures; capture 0 names the whole. */
function emitCaptures(m: RegExpExecArray, captures: Record<string, RawCapture>, scopes: string[], push: (text: string, scopes: string[]) => void): void {
  const whole = captures["0"]?.name ? [...scopes, captures["0"].name] : scopes;
  const spans = (m.indices ?? [])
    .map((range, i) => ({ range, i }))
    .filter(({ range, i }) => i > 0 && range !== undefined && captures[String(i)]?.name)
    .sort((a, b) => a.range![0] - b.range![0]);
  let at = m.index;
  for (const { range, i } of spans) {
    const [s, e] = range!;
    if (s < at) continue;
    push(m.input.slice(at, s), whole);
    push(m.input.slice(s, e), [...whole, captures[String(i)]!.name!]);
    at = e;
  }
  push(m.input.slice(at, m.index + m[0].length), whole);
}

/** The scopes at the `nth` whole-word occurrence (from 0) of `word` in a tokenized line. */
export function scopesAtWord(tokens: Token[], word: string, nth = 0): string[] {
  const line = tokens.map((t) => t.text).join("");
  const re = new RegExp(`(?<![A-Za-z0-9_])${word.replace(/[|\\^$*+?.()[\]{}-]/g, "\\$&")}(?![A-Za-z0-9_])`, "g");
  const hit = [...line.matchAll(re)][nth];
  if (!hit) throw new Error(`no ${JSON.stringify(word)} #${nth} in ${JSON.stringify(line)}`);
  let at = 0;
  for (const t of tokens) {
    if (hit.index! < at + t.text.length) return t.scopes;
    at += t.text.length;
  }
  throw new Error("unreachable");
}
