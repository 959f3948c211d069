// `moec bench GRAPH --decode` (cli/commands/bench-graph.ts, runtime/bench/graph-bench.ts): the JSON
// report of Group Think (tokens written = threads × new tokens, the prompt = context − steps −
// warm-up, the batched-step ratios consistent with their times) and of a vote (n agents' steps
// together vs apart); flags that do not apply to a graph are usage errors. Nothing here is timed.
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { main } from "../../../cli/main.js";
import { itGpu } from "../../helpers/gpu-context.js";

const ROOT = path.resolve(__dirname, "../../..");

async function moec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const THINK = "examples/topologies/group_think.moe";

describe("moec bench GRAPH --decode", () => {
  itGpu("concurrent: N threads' tokens, the prompt, one batched step against one and N single steps", async () => {
    const r = await moec(["bench", THINK, "--decode", "--context", "12", "--tokens", "3", "--warmup", "1", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    // 12 − 3 − 1 = 8 prompt tokens; random weights have no end-of-sequence id, so every thread writes 3.
    expect(j).toMatchObject({ graph: "think", form: "concurrent", agents: 1, promptTokens: 8, generate: { outputTokens: 3, writtenTokens: 12 } });
    expect(j.generate.writtenPerSec).toBeCloseTo(12 / j.generate.seconds, 6);
    const s = j.step;
    expect(s).toMatchObject({ kind: "threads", n: 4 });
    for (const x of [s.togetherMs, s.oneMs]) expect(x).toBeGreaterThan(0);
    expect(s.ratio).toBeCloseTo(s.togetherMs / s.oneMs, 9);
    expect(s.ratioToN).toBeCloseTo(s.ratio / 4, 9);
  }, 240_000);

  itGpu("vote: n agents' steps together against apart", async () => {
    const r = await moec(["bench", "examples/topologies/vote.moe", "--decode", "--context", "12", "--tokens", "3", "--warmup", "1", "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ form: "vote", agents: 3, generate: { outputTokens: 3, writtenTokens: 9 }, step: { kind: "agents", n: 3 } });
    expect(j.generate.agents.map((a: { agent: number }) => a.agent)).toEqual([0, 1, 2]);
  }, 240_000);

  it("flags of a model's decode bench are usage errors on a graph; a context with no room for a prompt too", async () => {
    for (const [args, msg] of [
      [["--kv-dtype", "f16"], /--kv-dtype applies to a model's --decode/],
      [["--batch", "1"], /--batch applies to a model's --decode/],
      [["--context", "5", "--tokens", "3"], /--context 5 leaves no prompt before 2 warm-up and 3 timed steps/],
    ] as const) {
      const r = await moec(["bench", THINK, "--decode", ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});
