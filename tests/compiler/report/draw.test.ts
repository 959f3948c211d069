// `moec draw`: the SVG is well-formed XML, and it shows every pool and router of the examples
// (by data-name, with the pool's size and the router's pipeline as text), repeat stacks once with
// ×N, and called layers with their insides. The expected names are read off the example sources.
import * as path from "node:path";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { parseXml, textOf, walk } from "./xml.js";

async function draw(file: string, entry?: string) {
  const r = await moec(["draw", file, ...(entry ? ["--entry", entry] : []), "-o", "-"]);
  if (r.code !== 0) throw new Error(`moec draw ${file} failed:\n${r.err}`);
  const root = parseXml(r.out);
  const nodes = [...walk(root)].filter((e) => e.name === "g" && (e.attrs.class ?? "").startsWith("node "));
  const named = (kind: string) => nodes.filter((n) => n.attrs.class === `node ${kind}`).map((n) => n.attrs["data-name"]);
  return { svg: r.out, root, nodes, named, text: textOf(root) };
}

// Pools and routers each example declares (in the entry or the layers it calls).
const CASES: { file: string; entry?: string; pools: string[]; shared: string[]; routers: string[]; texts: string[] }[] = [
  { file: "examples/mixtral.moe", pools: ["E"], shared: [], routers: ["r"], texts: ["8 × ffn(hidden = 14336, swiglu)", "linear |> softmax |> topk(2) |> renorm", "top-2"] },
  { file: "examples/deepseek_moe.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["64 × ffn(hidden = 1408, swiglu) (split 4)", "2 × ffn(hidden = 1408, swiglu)", "linear |> softmax |> topk(6)", "loss balance(coef = 0.001)"] },
  { file: "examples/qwen_moe.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["60 × ffn(hidden = 1408, swiglu)", "1 × ffn(hidden = 5632, swiglu)", "g = linear"] },
  { file: "examples/deepseek_v3.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["256 × ffn(hidden = 2048, swiglu)", "bias(aux_free, rate = 0.001)", "group_topk(8, groups = 8, keep = 4)", "scale(2.5)"] },
  { file: "examples/dynamic_topp.moe", pools: ["E"], shared: [], routers: ["r"], texts: ["topp(0.4, max = 16)", "≤ 16 per token"] },
  { file: "examples/omni_moe.moe", pools: ["A"], shared: ["S"], routers: ["r"], texts: ["4096 × atom(silu)", "product(parts = 2, size = 64, norm = batch)"] },
  { file: "examples/chain_of_experts.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["iterate ×2", "63 × ffn(hidden = 704, swiglu)"] },
  { file: "examples/expert_choice.moe", pools: ["E"], shared: [], routers: ["r"], texts: ["choose(capacity = 2)", "≈ 2 per token"] },
  { file: "examples/smora.moe", pools: ["R"], shared: [], routers: ["r"], texts: ["64 × lowrank(rank = 1)"] },
  { file: "examples/mmoe.moe", pools: ["E"], shared: [], routers: ["g_click", "g_like"], texts: ["click = moe(x, g_click, E)", "like = moe(x, g_like, E)"] },
  { file: "examples/agents.moe", entry: "review", pools: ["E"], shared: [], routers: ["r"], texts: ["agent 0: mixtral_moe(D = D, I = 1024)", "agent 2: mixtral_moe(D = D, I = 1024)"] },
  { file: "examples/models/mixtral_8x7b.moe", pools: ["E"], shared: [], routers: ["r"], texts: ["repeat ×32 as layers", "self_attn = attention", "block_sparse_moe = mixtral_moe(D = D, N = N, I = I)", "8 × ffn(hidden = 14336, swiglu)"] },
  { file: "examples/models/deepseek_moe_16b.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["repeat ×1 as layers", "repeat ×27 as layers", "(layers.1–27)", "mlp = ffn"] },
  { file: "examples/models/qwen1_5_moe_a2_7b.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["repeat ×24 as layers"] },
  { file: "examples/models/olmoe_1b_7b.moe", pools: ["experts"], shared: [], routers: ["gate"], texts: ["64 × ffn(hidden = 1024, swiglu)", "linear |> softmax |> topk(8)", "qk_norm"] },
  { file: "examples/models/deepseek_v3.moe", pools: ["E"], shared: ["S"], routers: ["r"], texts: ["repeat ×3 as layers", "repeat ×58 as layers", "self_attn = mla", "kv_rank = 512"] },
];

describe("moec draw", () => {
  for (const c of CASES) {
    it(`${c.file}${c.entry ? ":" + c.entry : ""} shows its pools and routers`, async () => {
      const d = await draw(c.file, c.entry);
      expect(d.root.name).toBe("svg");
      expect(d.root.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
      for (const p of c.pools) expect(d.named("pool")).toContain(p);
      for (const s of c.shared) expect(d.named("shared")).toContain(s);
      for (const r of c.routers) expect(d.named("router")).toContain(r);
      for (const t of c.texts) expect(d.text).toContain(t);
      // Every router feeds its pool: a route edge exists.
      expect([...walk(d.root)].some((e) => e.name === "path" && e.attrs.class === "edge route")).toBe(true);
    });
  }

  it("every pool and router declared in the example files appears", async () => {
    const files = ["mixtral", "deepseek_moe", "qwen_moe", "deepseek_v3", "dynamic_topp", "omni_moe", "chain_of_experts", "expert_choice", "smora", "mmoe"];
    for (const f of files) {
      const src = readFileSync(`examples/${f}.moe`, "utf8");
      const declared = [...src.matchAll(/^\s*(?:experts|shared|router)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
      expect(declared.length).toBeGreaterThan(0);
      const d = await draw(`examples/${f}.moe`);
      const shown = new Set(d.nodes.map((n) => n.attrs["data-name"]));
      for (const name of declared) expect(shown, `${f}: ${name}`).toContain(name);
    }
  });

  it("a repeat stack is drawn once with ×N", async () => {
    const d = await draw("examples/models/mixtral_8x7b.moe");
    expect(d.nodes.filter((n) => n.attrs.class === "node repeat")).toHaveLength(1);
    expect(d.named("attention")).toEqual(["self_attn"]);
    expect(d.named("pool")).toEqual(["E"]);
  });

  it("writes FILE.svg by default and -o elsewhere", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "moec-draw-"));
    const out = path.join(dir, "m.svg");
    const r = await moec(["draw", "examples/mixtral.moe", "-o", out]);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(() => parseXml(readFileSync(out, "utf8"))).not.toThrow();
    const bad = await moec(["draw", "examples/agents.moe", "-o", out]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("--entry");
  });

  it("the test's XML parser rejects malformed input", () => {
    expect(() => parseXml("<svg><g></svg>")).toThrow();
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow();
    expect(() => parseXml("<svg>a & b</svg>")).toThrow();
    expect(parseXml('<svg x="&lt;1&gt;">t&amp;u</svg>')).toEqual({ name: "svg", attrs: { x: "<1>" }, children: ["t&u"] });
  });
});
