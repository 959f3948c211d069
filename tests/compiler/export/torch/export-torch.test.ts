// `moec export torch` on every example program at tiny sizes (the list is checked against
// examples/**/*.moe, so a new example cannot be left out): each is exported through the CLI with
// --random-weights, run by python3 + torch (one process for all, run_exports.py) in float64 via
// MoecModel.from_pretrained, and compared with moec's float64 reference interpreter of the same
// IR on the same weights and inputs — outputs, §10 statistics and the balance loss. Needs a
// python3 that imports torch (Debian's python3-torch; .ci/run installs it); skipped without one.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../../cli/main.js";
import { compile, parseSource } from "../../../../compiler/index.js";
import { cliPlugins } from "../../../../compiler/plugins/cli-plugins.js";
import { finishStats, referenceStats } from "../../../../runtime/stats/router-stats.js";
import { interpretReference, randomInputs, randomWeights, writeSafetensors, type RouterTrace } from "../../../../runtime/index.js";
import { allOps } from "../../../../compiler/export/torch/op-emitters.js";
import { describeNeeding } from "../../../helpers/needs.js";
import { torchNeed, torchPython } from "../../../helpers/torch-python.js";

const repo = path.resolve(__dirname, "../../../..");
const ex = (f: string) => path.join(repo, "examples", f);
const plugin = (p: string) => path.join(repo, "plugins", p, "index.js");

const python = torchPython;

interface Case { file: string; set: Record<string, number>; T: number; entry?: string; plugins?: string[] }

/** Tiny sizes for every example entry that `moec run` runs: layers, tensor graphs and models. */
const CASES: Case[] = [
  { file: "mixtral.moe", set: { D: 32, I: 48 }, T: 9 },
  { file: "deepseek_moe.moe", set: { D: 32, N: 4, I: 64, SI: 16 }, T: 7 },
  { file: "qwen_moe.moe", set: { D: 32, N: 12, I: 16, SI: 24 }, T: 5 },
  { file: "dynamic_topp.moe", set: { D: 32, N: 8, I: 16 }, T: 7 },
  { file: "mmoe.moe", set: { D: 16, N: 4, I: 8 }, T: 5 },
  { file: "deepseek_v3.moe", set: { D: 32, I: 16 }, T: 9 },
  { file: "expert_choice.moe", set: { D: 32, I: 24 }, T: 13 },
  { file: "omni_moe.moe", set: { D: 16, P: 8, SI: 24 }, T: 5 },
  { file: "smora.moe", set: { D: 32 }, T: 7 },
  { file: "chain_of_experts.moe", set: { D: 32, N: 15, I: 24 }, T: 6 },
  { file: "sequence_routing.moe", set: { D: 32, I: 48 }, T: 7 },
  { file: "agents.moe", entry: "review", set: { D: 16 }, T: 6 },
  { file: "agents.moe", entry: "ensemble", set: { D: 16 }, T: 5 },
  { file: "granularity/peer.moe", set: { D: 32, P: 16 }, T: 5 },
  { file: "granularity/flexmore.moe", set: { D: 64, I: 128 }, T: 5 },
  { file: "models/mixtral_8x7b.moe", set: { V: 40, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 }, T: 7 },
  { file: "models/deepseek_v3.moe", set: { V: 48, D: 32, L: 3, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 32, I: 8 }, T: 6 },
  { file: "models/deepseek_moe_16b.moe", set: { V: 40, D: 16, L: 2, H: 2, DI: 24, N: 8, I: 8, SI: 8 }, T: 6 },
  { file: "models/olmoe_1b_7b.moe", entry: "olmoe_moe", set: { D: 16, N: 8, I: 8, K: 2 }, T: 6 },
  { file: "models/olmoe_1b_7b.moe", entry: "olmoe_1b_7b", set: { V: 40, D: 16, L: 2, H: 2, N: 8, I: 8, K: 2 }, T: 6 },
  { file: "models/qwen1_5_moe_a2_7b.moe", set: { V: 40, D: 16, L: 2, H: 2, N: 8, I: 8, SI: 16 }, T: 6 },
  { file: "plugins/mora.moe", set: { D: 32 }, T: 6, plugins: [plugin("mora")] },
  { file: "plugins/dume.moe", set: { D: 32, I: 48 }, T: 6, plugins: [plugin("dume")] },
  { file: "plugins/elastic_k.moe", set: { D: 32, I: 48 }, T: 6, plugins: [plugin("elastic-k")] },
  { file: "plugins/hash_layer.moe", set: { D: 32, I: 48 }, T: 9, plugins: [plugin("hash-routing")] },
  { file: "topologies/agents_as_experts.moe", set: { D: 16, I: 16 }, T: 9 },
  { file: "topologies/mixture_of_thoughts.moe", set: { D: 16, I: 16, DS: 8, H: 2 }, T: 5 },
  { file: "topologies/tiny_models.moe", entry: "small_lm", set: {}, T: 6 },
  { file: "topologies/tiny_models.moe", entry: "picker", set: {}, T: 6 },
];

/** Decoding graphs (§11.2) are not exported: they have no single forward (each step decodes
 *  agents' models, which are exported on their own, e.g. tiny_models.moe above). */
const DECODING_GRAPHS = [
  "topologies/cascade.moe", "topologies/chain.moe", "topologies/debate.moe", "topologies/ensemble.moe",
  "topologies/group_think.moe", "topologies/relay.moe", "topologies/route.moe", "topologies/vote.moe",
];

const caseId = (file: string, entry?: string) => (entry ? `${file}#${entry}` : file);

/** Every `examples/**\/*.moe` entry: `FILE` when the file declares one, else `FILE#ENTRY` each. */
function exampleEntries(): string[] {
  const files = (fs.readdirSync(path.join(repo, "examples"), { recursive: true }) as string[]).filter((f) => f.endsWith(".moe")).map((f) => f.split(path.sep).join("/")).sort();
  return files.flatMap((f) => {
    const abs = ex(f);
    const decls = parseSource(fs.readFileSync(abs, "utf8"), abs).program.decls.filter((d) => d.kind === "Layer" || d.kind === "Model" || d.kind === "Graph");
    return decls.length === 1 ? [f] : decls.map((d) => caseId(f, d.name.name));
  });
}

describe("the torch cross-check covers every example", () => {
  it("every example entry is a case, or a decoding graph (listed, and checked to be one)", () => {
    const covered = new Set([...CASES.map((c) => caseId(c.file, c.entry)), ...DECODING_GRAPHS]);
    expect(exampleEntries().filter((e) => !covered.has(e))).toEqual([]);
    for (const f of DECODING_GRAPHS) expect(compile({ file: ex(f) }).decodingGraph, f).toBeDefined();
  });
});

async function moec(args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const code = await main(args, { out: () => {}, err: (s: string) => (err += s + "\n"), cwd: repo } as never);
  return { code, err };
}

describeNeeding(torchNeed, "moec export torch: the exported PyTorch module against the float64 reference", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-torch-export-"));
  const results: { c: Case; out?: Map<string, Float64Array>; error?: string; ref?: Map<string, Float64Array>; trace?: Map<string, RouterTrace>; program?: ReturnType<typeof compile>["program"] }[] = [];

  beforeAll(async () => {
    const manifest: unknown[] = [];
    for (const [i, c] of CASES.entries()) {
      const out = path.join(dir, String(i));
      const sets = Object.entries(c.set).map(([k, v]) => `${k}=${v}`);
      const r = await moec(["export", "torch", ex(c.file), ...(c.entry ? ["--entry", c.entry] : []), "-o", out, "--random-weights", "--seed", "3", ...(sets.length ? ["--set", ...sets] : []), ...(c.plugins ?? []).flatMap((p) => ["--plugin", p])]);
      if (r.code !== 0) { results.push({ c, error: r.err }); continue; }
      const plugins = c.plugins ? (await cliPlugins(repo, c.plugins)).plugins.map((p) => p.plugin) : undefined;
      const program = compile({ file: ex(c.file), entry: c.entry, set: c.set, plugins }).program!;
      const inputs = randomInputs(program, c.T, 5);
      writeSafetensors(path.join(out, "in.safetensors"), new Map([...inputs.values].map(([k, v]) => [k, { dtype: v instanceof Int32Array ? "I32" : "F32", shape: v instanceof Int32Array ? [c.T] : [c.T, v.length / c.T], data: v }])) as never);
      const trace = new Map<string, RouterTrace>();
      const ref = interpretReference(program, randomWeights(program, 3), inputs.values, c.T, { trace });
      results.push({ c, ref, trace, program });
      manifest.push({ dir: out, input: path.join(out, "in.safetensors"), output: path.join(out, "out.json"), inputs: program.inputs.map((x) => x.name), outputs: program.outputs.map((x) => x.name) });
    }
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    const run = spawnSync(python!, [path.join(__dirname, "run_exports.py"), path.join(dir, "manifest.json")], { encoding: "utf8", timeout: 600_000 });
    if (run.status !== 0) throw new Error(`run_exports.py failed: ${run.stderr}`);
    let k = 0;
    for (const r of results) {
      if (r.error) continue;
      const out = path.join(dir, String(CASES.indexOf(r.c)), "out.json");
      k++;
      if (fs.existsSync(out + ".error.json")) r.error = JSON.parse(fs.readFileSync(out + ".error.json", "utf8")).error;
      else r.out = new Map(Object.entries(JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, number[]>).map(([n, v]) => [n, Float64Array.from(v)]));
    }
    expect(k).toBe(manifest.length);
  }, 900_000);

  for (const c of CASES) {
    it(`${caseId(c.file, c.entry)} at ${JSON.stringify(c.set)}, T = ${c.T}`, () => {
      const r = results.find((x) => x.c === c)!;
      expect(r.error ?? "").toBe("");
      for (const o of r.program!.outputs) {
        const got = r.out!.get(o.name)!;
        const want = r.ref!.get(o.name)!;
        expect(got.length).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
        expect(worst).toBeLessThan(1e-9);
      }
      for (const [key, tr] of r.trace!) {
        const router = allOps(r.program!.ops).flatMap((op) => (op.op === "moe" || op.op === "moe_agents" ? [op.router] : [])).find((x) => x.key === key)!;
        const s = finishStats(referenceStats(router, tr));
        expect(Array.from(r.out!.get(`stats.${key}.load`)!)).toEqual(s.load);
        expect(r.out!.get(`stats.${key}.entropy`)![0]).toBeCloseTo(s.entropy, 9);
        expect(r.out!.get(`stats.${key}.active_k`)![0]).toBeCloseTo(s.active_k.mean, 9);
        expect(r.out!.get(`stats.${key}.balance_unscaled`)![0]).toBeCloseTo(s.balance_unscaled, 9);
        if (s.balance !== undefined) expect(r.out!.get(`loss.${key}`)![0]).toBeCloseTo(s.balance, 9);
      }
    });
  }
});
