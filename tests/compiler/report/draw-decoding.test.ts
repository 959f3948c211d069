// `moec draw` of graphs: every example in examples/topologies/ draws as well-formed SVG; a
// decoding graph shows one box per agent (per round for a debate, per thread for Group Think),
// labelled with its model, and the token-flow arrows its form has — counts derived by hand from
// each form's definition in LANGUAGE.md §11.2 and the example's agents.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { parseXml, textOf, walk } from "./xml.js";

async function draw(file: string) {
  const r = await moec(["draw", file, "-o", "-"]);
  if (r.code !== 0) throw new Error(`moec draw ${file} failed:\n${r.err}`);
  const root = parseXml(r.out);
  const all = [...walk(root)];
  const agents = all.filter((e) => e.name === "g" && e.attrs.class === "node agent");
  const edges = all.filter((e) => e.name === "path" && (e.attrs.class ?? "").startsWith("edge "));
  return { root, agents: agents.map((a) => a.attrs["data-name"]), edges: edges.map((e) => e.attrs.class), text: textOf(root) };
}

// agents: the data-name (agent index) of each box; edges: data + route arrows, counted from the form.
const CASES: { file: string; agents: string[]; edges: number; route?: number; texts: string[] }[] = [
  // prompt → each of 2 agents, each → mean, mean → output: 2 + 2 + 1.
  { file: "ensemble", agents: ["0", "1"], edges: 5, texts: ["mean: log(mean_i softmax(l_i))", "agent 1: small_lm"] },
  // 3 agents: 3 + 3 + 1.
  { file: "vote", agents: ["0", "1", "2"], edges: 7, texts: ["vote: most agents' continuation"] },
  // prompt → 0 → 1 → 2 → output.
  { file: "chain", agents: ["0", "1", "2"], edges: 4, texts: ["p ++ sep ++ c_0…c_1"] },
  // prompt → 0; each agent → the next (cycling) and → the continuation: 1 + 2·2.
  { file: "relay", agents: ["0", "1"], edges: 5, texts: ["after 2 tokens"] },
  // 2 rounds of 3: prompt → 3 in round 1, 3 × 3 into round 2, 3 → vote, vote → output.
  { file: "debate", agents: ["0", "1", "2", "0", "1", "2"], edges: 16, texts: ["round 2 · agent 1: small_lm", "vote over the last round"] },
  // prompt → A, A → test, test → output, test → B (escalation), B → output.
  { file: "cascade", agents: ["0", "1"], edges: 5, route: 1, texts: ["A's top probability ≥ 0.02?", "no: escalate"] },
  // prompt → router, router → each of 2 agents (route), each → output.
  { file: "route", agents: ["0", "1", "2"], edges: 5, route: 2, texts: ["router 0: picker", "argmax = 1"] },
  // prompt → cache, cache → each of 4 threads, each → output.
  { file: "group_think", agents: ["0", "0", "0", "0"], edges: 9, texts: ["one shared KV cache", "thread 3 · agent 0: small_lm"] },
];

describe("moec draw on decoding graphs", () => {
  for (const c of CASES) {
    it(`${c.file}: a box per agent and the form's token flow`, async () => {
      const d = await draw(`examples/topologies/${c.file}.moe`);
      expect(d.agents).toEqual(c.agents);
      expect(d.edges).toHaveLength(c.edges);
      expect(d.edges.filter((e) => e === "edge route")).toHaveLength(c.route ?? 0);
      for (const t of c.texts) expect(d.text).toContain(t);
    });
  }

  it("every example in examples/topologies/ draws", async () => {
    // tiny_models.moe is the examples' library of models, not an example itself.
    const files = readdirSync("examples/topologies").filter((f) => f.endsWith(".moe") && f !== "tiny_models.moe");
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const d = await draw(`examples/topologies/${f}`);
      expect(d.root.name, f).toBe("svg");
    }
  });

  it("the heading gives the form's cost per generated token", async () => {
    // cascade of small_lm (24,576 FLOPs per token) and small_lm(L = 2) (45,056): best 1 pass and
    // 24.6K FLOPs, worst 2 passes and 69.6K.
    const d = await draw("examples/topologies/cascade.moe");
    expect(d.text).toContain("1–2 forward passes and 24.6K–69.6K FLOPs per generated token");
  });
});
