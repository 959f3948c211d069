// The decoding-graph examples (examples/topologies/, one per form family of LANGUAGE.md §11.2)
// run through `moec generate --random-weights --json` and give the float64 reference's greedy
// tokens and reports (tests/helpers/reference-graphs.ts on the same seeded weights, `i.`-prefixed
// per agent as §11 says). The chain example also runs from one safetensors file with `i.` names
// and from `--weights I=PATH` files under each agent's own names, which must agree with the
// reference on those weights.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile } from "../../compiler/index.js";
import type { DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import { canonicalToFile, randomWeights, writeSafetensors, type TensorData } from "../../runtime/index.js";
import { moec } from "../helpers/cli.js";
import { describeGpu, itGpu } from "../helpers/gpu-context.js";
import { referenceGraph } from "../helpers/reference-graphs.js";

const repo = path.resolve(__dirname, "../..");
const ex = (f: string) => path.join(repo, "examples/topologies", f);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moec-topologies-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const PROMPT = [1, 2, 3];
const N = 4;

function graphOf(file: string): DecodingGraph {
  const c = compile({ file: ex(file) });
  if (!c.ok || !c.decodingGraph) throw new Error(c.formatDiagnostics());
  return c.decodingGraph;
}

async function generateJson(args: string[]) {
  const r = await moec(["generate", ...args, "--input-ids", PROMPT.join(","), "--max-new-tokens", String(N), "--json"]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
}

describeGpu("examples/topologies with --random-weights equal the float64 reference", () => {
  for (const file of ["ensemble.moe", "vote.moe", "chain.moe", "relay.moe", "debate.moe", "cascade.moe", "route.moe", "group_think.moe"]) {
    itGpu(file, async () => {
      const g = graphOf(file);
      // --weights-seed defaults to 1; agent i's tensors are seeded as `i.NAME`.
      const ref = referenceGraph(g, g.agents.map((a) => randomWeights(a.program, 1, `${a.index}.`)), PROMPT, N);
      if (g.form.kind === "cascade") for (const c of ref.confidences!) expect(Math.abs(c - g.form.confidence)).toBeGreaterThan(1e-4);
      const got = await generateJson([ex(file), "--random-weights"]);
      expect(got.tokens).toEqual(ref.tokens);
      expect(got.continuations.map((c: { agent: number; tokens: number[] }) => ({ agent: c.agent, tokens: c.tokens }))).toEqual(ref.continuations);
      for (const k of ["votes", "winner", "writers", "escalated", "routed"] as const) expect(got[k]).toEqual(ref[k]);
      if (ref.rounds) expect(got.rounds.map((r: { tokens: number[] }[]) => r.map((c) => c.tokens))).toEqual(ref.rounds);
      expect(got.agents.map((a: { agent: number }) => a.agent)).toEqual(g.agents.map((a) => a.index));
    }, 240_000);
  }

  itGpu("chain.moe from one file with `i.` names, and from --weights I=PATH under own names", async () => {
    const g = graphOf("chain.moe");
    const weights = g.agents.map((a) => randomWeights(a.program, 40 + a.index));
    const ref = referenceGraph(g, weights, PROMPT, N);
    const all = new Map<string, TensorData>();
    const own: string[] = [];
    for (const a of g.agents) {
      const file = canonicalToFile(a.program, weights[a.index]!, "stacked");
      for (const [k, v] of file) all.set(`${a.index}.${k}`, v);
      const p = path.join(tmp, `agent${a.index}.safetensors`);
      writeSafetensors(p, file);
      own.push("--weights", `${a.index}=${p}`);
    }
    const single = path.join(tmp, "graph.safetensors");
    writeSafetensors(single, all);
    expect((await generateJson([ex("chain.moe"), "--weights", single])).tokens).toEqual(ref.tokens);
    const got = await generateJson([ex("chain.moe"), ...own]);
    expect(got.continuations.map((c: { tokens: number[] }) => c.tokens)).toEqual(ref.continuations.map((c) => c.tokens));
    // A file missing agent 1's tensors names the agent and the prefixed tensor.
    const partial = path.join(tmp, "partial.safetensors");
    writeSafetensors(partial, new Map([...all].filter(([k]) => !k.startsWith("1."))));
    const bad = await moec(["generate", ex("chain.moe"), "--weights", partial, "--input-ids", "1,2,3"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/agent 1 \(`small_lm`\)/);
    expect(bad.err).toMatch(/1\.lm_head\.weight/);
  }, 240_000);
});
