// Recovery quality (issue item 2): a single mistake yields a single error at the right place, and
// independent mistakes in different declarations are all reported in one run. Programs are
// built from a valid layer by one edit each, so the expected position is where the edit is.
import { describe, expect, it } from "vitest";
import { checkFiles } from "../../../compiler/driver.js";
import { parseSource } from "../../../compiler/syntax/parse.js";
import { LineIndex } from "../../../compiler/diagnostics/line-index.js";
import type { Diagnostic } from "../../../compiler/diagnostics/diagnostic.js";
import { memoryHost } from "../../helpers/frontend/memory-host.js";

function check(text: string): { diags: Diagnostic[]; at: (d: Diagnostic) => string } {
  const c = checkFiles(["/mem/a.moe"], { host: memoryHost({ "a.moe": text }) });
  const ix = new LineIndex(text);
  return {
    diags: c.diagnostics,
    at: (d) => {
      const p = ix.position(d.span.start);
      return `${d.severity}[${d.code}] ${p.line}:${p.column}`;
    },
  };
}

const VALID = [
  "layer a(x: [T, D], D = 64) {",
  "  experts E[4] = ffn(hidden = 32, act = swiglu)",
  "  router r = linear |> softmax |> topk(2) |> renorm",
  "  let g = linear(x, out = 1)",
  "  let y = sigmoid(g) * moe(x, r, E)",
  "  return (y + x) * 0.5",
  "}",
  "",
].join("\n");

describe("the valid base program", () => {
  it("checks with no diagnostics", () => {
    expect(check(VALID).diags).toEqual([]);
  });
});

/** Removes the `n`-th (0-based) occurrence of `)` in the text. */
function dropParen(text: string, n: number): { text: string; offset: number } {
  let k = -1;
  for (let i = 0; i <= n; i++) k = text.indexOf(")", k + 1);
  return { text: text.slice(0, k) + text.slice(k + 1), offset: k };
}

describe("one missing `)` yields exactly one error", () => {
  const count = VALID.split(")").length - 1;
  it("the base program has the expected parentheses", () => {
    // x: [T, D] has none; a(…), ffn(…), topk(2), linear(…), sigmoid(g), moe(…), (y + x).
    expect(count).toBe(7);
  });
  // Where the error belongs: the first token that cannot continue what the `)` would have closed.
  const where = [
    "1:27 `{`", //        a(x: [T, D], D = 64 {
    "3:3 `router`", //    ffn(hidden = 32, act = swiglu ⏎ router
    "4:3 `let`", //       topk(2 |> renorm ⏎ let — `2 |> renorm` is still an expression
    "5:3 `let`", //       linear(x, out = 1 ⏎ let
    "6:3 `return`", //    sigmoid(g * moe(x, r, E) ⏎ return
    "6:3 `return`", //    moe(x, r, E ⏎ return
    "7:1 `}`", //         (y + x * 0.5 ⏎ }
  ];
  for (let n = 0; n < count; n++) {
    it(`removing parenthesis #${n + 1}: one error at ${where[n]}`, () => {
      const { text, offset } = dropParen(VALID, n);
      const { diags, at } = check(text);
      // #3 leaves `topk(2 |> renorm` + `)` inserted: the argument really is `2 |> renorm`, which
      // the checker then rejects (`|>` outside a pipeline) — a second, truthful consequence.
      const extra = n === 2 ? ["error[E0273] 3:42"] : [];
      expect(diags.map(at), `program:\n${text}`).toEqual([...extra, `error[E0100] ${where[n]!.split(" ")[0]}`]);
      const d = diags[extra.length]!;
      expect(d.message).toBe(`expected \`)\`, found ${where[n]!.split(" ")[1]}`);
      expect(d.span.start).toBeGreaterThan(offset - 1);
    });
  }
  it("at the end of the file", () => {
    const text = "layer a(x: [T, D], D = 64) {\n  return sigmoid(x\n";
    const { diags, at } = check(text);
    // The `)` and the `}` are both missing; recovery reports the first and closes the rest.
    expect(diags.map(at)).toEqual(["error[E0100] 3:1"]);
    expect(diags.map((d) => d.message)).toEqual(["expected `)`, found the end of the file"]);
  });
});

describe("an error at the very end of the file", () => {
  it("keeps the declarations before it", () => {
    const text = "layer a(x: [T, D], D = 64) {\n  return zz\n}\nlayer b(x: [T, D], D = 64) {\n  return sigmoid(x\n";
    const { diags, at } = check(text);
    expect(diags.map(at)).toEqual(["error[E0285] 2:10", "error[E0100] 6:1"]);
  });
});

describe("one missing `}` yields exactly one error, and the layer is still checked", () => {
  it("before the next declaration", () => {
    const text = VALID.replace("\n}\n", "\n\n") + "layer b(x: [T, D]) {\n  return zz\n}\n";
    const { diags, at } = check(text);
    // Line 7 is left empty, so `layer b` is line 8: the missing brace there, and the unknown name
    // in b: two independent errors.
    expect(diags.map(at)).toEqual(["error[E0100] 8:1", "error[E0285] 9:10"]);
  });
  it("and a semantic error inside the unclosed layer is still found", () => {
    const text = VALID.replace("topk(2)", "topk(5)").replace("\n}\n", "\n");
    const { diags, at } = check(text);
    // topk(5) over 4 experts (line 3, the `5` at column 40), then the `}` missing at the end.
    expect(diags.map(at)).toEqual(["error[E0299] 3:40", "error[E0100] 7:1"]);
  });
});

describe("other single mistakes yield one error each", () => {
  const cases: [string, string, string][] = [
    // [what, replace this, with this] → the one expected diagnostic
    ["a stray `)`", "let g = linear(x, out = 1)", "let g = linear(x, out = 1))"],
    ["a stray `]`", "topk(2) |> renorm", "topk(2) ] |> renorm"],
    ["a bad character", "(y + x) * 0.5", "(y + x) * 0.5 $"],
    ["a lone `|`", "softmax |> topk(2)", "softmax | topk(2)"],
    ["an unterminated string", "let g = linear(x, out = 1)", "let g = \"linear(x, out = 1)"],
    ["a missing argument value", "out = 1)", "out = )"],
    ["a missing operand", "(y + x) * 0.5", "(y + x) *"],
  ];
  const expected: Record<string, string[]> = {
    "a stray `)`": ["error[E0104] 4:29"],
    "a stray `]`": ["error[E0104] 3:43"],
    "a bad character": ["error[E0001] 6:24"],
    // The lone `|` ends the pipeline after `softmax`: the router then has no select stage (a consequence).
    "a lone `|`": ["error[E0248] 3:24", "error[E0001] 3:32"],
    // The rest of the line becomes the string; `let g` is then a string, so `sigmoid(g)` is a type error.
    "an unterminated string": ["error[E0005] 4:11", "error[E0288] 5:19"],
    "a missing argument value": ["error[E0101] 4:27"],
    "a missing operand": ["error[E0101] 7:1"],
  };
  for (const [what, from, to] of cases) {
    it(what, () => {
      expect(VALID.includes(from)).toBe(true);
      const { diags, at } = check(VALID.replace(from, to));
      expect(diags.map(at)).toEqual(expected[what]);
    });
  }
});

describe("independent errors in different layers are all reported in one run", () => {
  const layers = [
    // 1: syntax: missing `)`                               → E0100 at `return` (line 3)
    "layer l1(x: [T, D], D = 64) {\n  let y = sigmoid(x\n  return y\n}",
    // 2: unknown stage                                     → E0242 at `toopk`
    "layer l2(x: [T, D], D = 64) {\n  experts E[4] = ffn(hidden = 32)\n  router r = linear |> toopk(2)\n  return moe(x, r, E)\n}",
    // 3: shape mismatch                                    → E0275 at `+`
    "layer l3(x: [T, D], D = 64) {\n  let g = linear(x, out = 2)\n  return x + g\n}",
    // 4: bad character                                     → E0001 at `@`
    "layer l4(x: [T, D], D = 64) {\n  return x @\n}",
    // 5: missing return                                    → E0220 at `}`
    "layer l5(x: [T, D], D = 64) {\n  let y = x\n}",
    // 6: pool size 0                                       → E0230 at `0`
    "layer l6(x: [T, D], D = 64) {\n  experts E[0] = ffn(hidden = 32)\n  return x\n}",
    // 7: stray token between statements                    → E0101 at `=`
    "layer l7(x: [T, D], D = 64) {\n  let y = x\n  = y\n  return y\n}",
    // 8: split not dividing hidden                         → E0235 at `5`
    "layer l8(x: [T, D], D = 64) {\n  experts E[4] = ffn(hidden = 32) split 5\n  router r = linear |> topk(1)\n  return moe(x, r, E)\n}",
  ];
  const text = layers.join("\n\n") + "\n";
  // Line numbers: each layer starts after the previous one and a blank line.
  const starts: number[] = [];
  let line = 1;
  for (const l of layers) {
    starts.push(line);
    line += l.split("\n").length + 1;
  }
  const want = [
    `error[E0100] ${starts[0]! + 2}:3`,
    `error[E0242] ${starts[1]! + 2}:24`,
    `error[E0275] ${starts[2]! + 2}:12`,
    `error[E0001] ${starts[3]! + 1}:12`,
    `error[E0220] ${starts[4]! + 2}:1`,
    `error[E0230] ${starts[5]! + 1}:13`,
    `error[E0101] ${starts[6]! + 2}:3`,
    `error[E0235] ${starts[7]! + 1}:41`,
  ];
  it("reports exactly the eight errors, in order, each once", () => {
    const { diags, at } = check(text);
    expect(diags.map(at)).toEqual(want);
  });
  it("and removing any one mistake's layer leaves the other seven", () => {
    for (let k = 0; k < layers.length; k++) {
      const { diags } = check(layers.filter((_, i) => i !== k).join("\n\n") + "\n");
      expect(diags.map((d) => d.code)).toEqual(want.filter((_, i) => i !== k).map((w) => /\[(\w+)\]/.exec(w)![1]));
    }
  });
});

describe("positions", () => {
  it("count columns in UTF-16 code units and lines across CRLF", () => {
    const text = "layer a(x: [T, D], D = 64) {\r\n  // é 😀\r\n  let y = zz\r\n  return y\r\n}\r\n";
    const { diags, at } = check(text);
    expect(diags.map(at)).toEqual(["error[E0285] 3:11"]);
  });
  it("after a non-ASCII character on the same line", () => {
    const text = "layer a(x: [T, D], D = 64) {\n  let y = x /* 😀 */ + zz\n  return y\n}\n";
    // `😀` is two UTF-16 code units: "  let y = x /* " is 15 characters, the emoji 2, " */ + " 6.
    const { diags, at } = check(text);
    expect(diags.map(at)).toEqual(["error[E0285] 2:24"]);
  });
  it("every parse diagnostic's range lies inside the text", () => {
    for (const text of ["", " ", "layer", "layer a(", "}", ")", "/*", "\"", "layer a(x: [T, D]) { return x", "€"]) {
      const r = parseSource(text, "/mem/a.moe");
      for (const d of r.diagnostics) {
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
        expect(d.span.end).toBeLessThanOrEqual(text.length);
      }
    }
  });
});
