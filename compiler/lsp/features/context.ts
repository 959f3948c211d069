// What the cursor is inside: which call's argument list (and which argument), or which kind of
// position (router pipeline, expert kind, statement start). Works on raw text so that it also
// works while the line is half-typed and does not parse.

export interface CallContext {
  callee: string;
  /** Index of the argument the cursor is in (commas at depth 0 before the cursor). */
  argIndex: number;
  /** Name of the named argument being typed, if the cursor is after `name =`. */
  namedArg?: string;
  /** Names already given as `name =` in this call. */
  givenNames: string[];
}

/** Text of the current statement up to the cursor (from the last `{`, `}` or statement keyword line). */
export function enclosingCall(text: string, offset: number): CallContext | undefined {
  let depth = 0;
  let commas = 0;
  for (let i = offset - 1; i >= 0; i--) {
    const ch = text[i]!;
    if (ch === ")" || ch === "]") depth++;
    else if (ch === "(" || ch === "[") {
      if (depth === 0) {
        if (ch === "[") return undefined;
        const m = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text.slice(Math.max(0, i - 64), i));
        if (!m) return undefined;
        const inside = text.slice(i + 1, offset);
        const parts = splitTopLevel(inside);
        const current = parts[parts.length - 1] ?? "";
        const named = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[^=]*$/.exec(current);
        const givenNames = parts.map((p) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(p)?.[1]).filter((x): x is string => !!x);
        return { callee: m[1]!, argIndex: commas, namedArg: named?.[1], givenNames };
      }
      depth--;
    } else if (ch === "," && depth === 0) commas++;
    else if ((ch === "{" || ch === "}") && depth === 0) return undefined;
  }
  return undefined;
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

export type PositionKind = "statement" | "stage" | "expertKind" | "value" | "topLevel";

/** Classifies the position by the text of the line(s) before it. */
export function positionKind(text: string, offset: number): PositionKind {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  const line = before.slice(lineStart);
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(line)?.[0] ?? "";
  const head = line.slice(0, line.length - word.length);
  if (/\|>\s*$/.test(head) || /^\s*router\s+\w+\s*=\s*$/.test(head)) {
    // `|>` inside a graph topology (`parallel(...) |> mean`) is not a router pipeline.
    if (!/^\s*graph\b/.test(line) && !/->/.test(line)) return "stage";
  }
  if (/^\s*(experts|shared)\s+\w+(\s*\[[^\]]*\])?\s*=\s*(\[\s*|.*,\s*)?$/.test(head)) return "expertKind";
  if (/^\s*$/.test(head)) {
    const depth = braceDepth(before.slice(0, lineStart));
    return depth > 0 ? "statement" : "topLevel";
  }
  return "value";
}

function braceDepth(s: string): number {
  let d = 0;
  for (const c of s.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"/g, "")) {
    if (c === "{") d++;
    else if (c === "}") d = Math.max(0, d - 1);
  }
  return d;
}
