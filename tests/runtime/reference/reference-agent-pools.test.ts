// Agents as experts in the float64 reference against numbers derived by hand from LANGUAGE.md
// §11.1: each member layer runs once on the tokens routed to it, in position order, and its own
// routing (expert choice's capacity) sees only those tokens.
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { AGENT_HAND_WEIGHTS, AGENT_HAND_X, AGENT_HAND_Y, AGENT_POOL_HAND } from "../../helpers/agent-pool-hand.js";

describe("agents as experts (float64 reference)", () => {
  it("a member layer's expert choice sees only its own tokens", () => {
    const c = compile({ source: AGENT_POOL_HAND, entry: "agents" });
    expect(c.formatDiagnostics()).toBe("");
    const W = new Map([...AGENT_HAND_WEIGHTS].map(([k, v]) => [k, Float64Array.from(v)]));
    const y = interpretReference(c.program!, W, new Map([["x", AGENT_HAND_X]]), 4).get("y")!;
    AGENT_HAND_Y.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });
});
