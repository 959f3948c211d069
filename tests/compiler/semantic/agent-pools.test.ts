// Agents as experts (LANGUAGE.md §11.1) in the front end: a heterogeneous pool listing layers
// lowers to one `moe_agents` op whose members are their own sub-programs (weights `A.j.…`, the
// member's D bound from the pool's width), printed and read back, verified; and each bad pool
// gives its code at the place it names.
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { printIr } from "../../../compiler/ir/print.js";
import { parseIr } from "../../../compiler/ir/parse.js";
import { verifyIr } from "../../../compiler/ir/verify.js";

const LAYERS = `
layer moe2(x: [T, D], D = 64, N = 4, I = 8) {
  experts E[N] = ffn(hidden = I)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
layer widen(x: [T, D], D = 16) {
  let g = linear(x, out = 8)
  return g
}
`;
const layer = (pool: string, body = "return moe(x, r, A)") => `${LAYERS}
layer agents(x: [T, D], D = 16) {
  experts A = ${pool}
  router r = linear |> softmax |> topk(1)
  ${body}
}`;

describe("agents as experts in the front end", () => {
  it("lowers to moe_agents with one sub-program per member, weights under A.j", () => {
    const c = compile({ source: layer("[moe2(I = 12), ffn(hidden = 8), identity(), zero()]"), entry: "agents" });
    expect(c.formatDiagnostics()).toBe("");
    const p = c.program!;
    const op = p.ops[0]!;
    if (op.op !== "moe_agents") throw new Error(`expected moe_agents, found ${op.op}`);
    expect(op.key).toBe("A");
    expect(op.members.length).toBe(4);
    // Member 0's D binds from the pool's width (16, not its default 64); its pool is A.0.E.
    const m0 = op.members[0]!;
    expect(m0.values[m0.input]!.width).toBe(16);
    expect(m0.ops.map((o) => (o.op === "moe" ? [o.router.key, o.pool.key, o.pool.dim, o.pool.hidden] : o.op))).toEqual([["A.0.r", "A.0.E", 16, 12]]);
    // An expert-kind member is a dense pool of its one expert; identity has no op; zero scales by 0.
    expect(op.members[1]!.ops).toMatchObject([{ op: "shared", pool: { key: "A.1", count: 1, hidden: 8 } }]);
    expect(op.members[2]!.ops).toEqual([]);
    expect(op.members[2]!.output).toBe(op.members[2]!.input);
    expect(op.members[3]!.ops).toMatchObject([{ op: "scalar", fn: "mul", value: 0 }]);
    expect(p.weights.map((w) => w.name)).toEqual(expect.arrayContaining(["r.weight", "A.0.r.weight"]));
    expect(verifyIr(p)).toEqual([]);
    expect(parseIr(printIr(p))).toEqual(p);
    // 4·16 (router r) + 4·16 (A.0.r) + 4·3·12·16 (A.0.E) + 3·8·16 (A.1) = 64 + 64 + 2304 + 384.
    expect(c.info!.counts.total).toBe(2816);
  });

  it("the verifier checks each member as a program of its own", () => {
    const c = compile({ source: layer("[moe2(), identity()]"), entry: "agents" });
    const p = c.program!;
    const op = p.ops[0]!;
    if (op.op !== "moe_agents") throw new Error("expected moe_agents");
    p.weights = p.weights.filter((w) => w.name !== "A.0.r.weight");
    expect(verifyIr(p).join("\n")).toContain("member 0: op 0 (moe %1): reads A.0.r.weight");
  });

  const bad: [string, string, string, string][] = [
    ["[moe2(x), identity()]", "return moe(x, r, A)", "E0325", "x"],
    ["[widen(), identity()]", "return moe(x, r, A)", "E0326", "widen()"],
    ["[moe2(), identity()]", "router r2 = linear |> topk(1)\n  return moe(x, r, A) + moe(x, r2, A)", "E0327", "moe(x, r2, A)"],
  ];
  for (const [pool, body, code, at] of bad) {
    it(`${code}: ${pool}`, () => {
      const src = layer(pool, body);
      const c = compile({ source: src, entry: "agents" });
      const d = c.diagnostics.find((x) => x.code === code);
      expect(d, c.formatDiagnostics()).toBeDefined();
      expect(src.slice(d!.span.start, d!.span.end)).toBe(at);
      expect(c.ok).toBe(false);
    });
  }
});
