// `moec run` on decoding graphs (LANGUAGE.md §11.2): `mean` writes log(mean_i softmax(l_i)) per
// position and `cascade` A's logits where A's top softmax probability is ≥ θ, else B's — each
// matched to the agents' float64 reference logits (runtime/reference/interpret.ts) combined here,
// from the definitions, with the same seeded random weights. Other forms are refused by name.
import { afterAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../cli/main.js";
import { lowerEntry } from "../../../compiler/driver.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { canonicalToFile, writeSafetensors, type TensorData } from "../../../runtime/index.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";

const ROOT = path.resolve(__dirname, "../../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-run-graph-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.copyFileSync(path.join(ROOT, "examples/topologies/tiny_models.moe"), path.join(dir, "tiny_models.moe"));
const FILE = path.join(dir, "graphs.moe");
// θ = 0.0215 splits the 8 positions below: A's float64 confidences are 0.0229, 0.0206, 0.0208,
// 0.0211, 0.0211, 0.0230, 0.0221, 0.0269 (each at least 4e-4 from θ; checked again below).
fs.writeFileSync(FILE, `import { small_lm } from "./tiny_models.moe"
graph ens(tokens: [T]) = parallel(small_lm(), small_lm(L = 2)) |> mean
graph esc(tokens: [T]) = cascade(small_lm(), small_lm(L = 2), confidence = 0.0215)
graph maj(tokens: [T]) = parallel(small_lm(), small_lm()) |> vote
`);
const IDS = [5, 1, 4, 1, 3, 9, 2, 6];
const V = 64;

async function moec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Each agent's float64 logits [T, V] under the weights `--random-weights --seed N` draws (`i.`-named). */
function referenceLogits(entry: string, seed = 1): Float64Array[] {
  const g = lowerEntry([FILE], { entry }).decodingGraph!;
  return g.agents.map((a) => interpretReference(a.program, randomWeights(a.program, seed, `${a.index}.`), new Map([["tokens", Int32Array.from(IDS)]]), IDS.length).get("logits")!);
}

function probs(l: Float64Array, t: number): number[] {
  const row = Array.from(l.subarray(t * V, (t + 1) * V));
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

async function runLogits(entry: string, weights: string[] = ["--random-weights"]): Promise<Float32Array> {
  const out = path.join(dir, `${entry}.safetensors`);
  const r = await moec(["run", FILE, "--entry", entry, ...weights, "--input-ids", IDS.join(","), "--output", out]);
  expect(r.code, r.err).toBe(0);
  const st = readSafetensors(out);
  expect(st.tensors.get("logits")!.shape).toEqual([IDS.length, V]);
  return st.getF32("logits");
}

describeGpu("moec run on decoding graphs", () => {
  itGpu("mean: log(mean_i softmax(l_i)) at every position, against the float64 reference", async () => {
    // The agents' weights from one file, agent i's tensors named `i.…` (drawn here with seed 7).
    const g = lowerEntry([FILE], { entry: "ens" }).decodingGraph!;
    const file = path.join(dir, "ens-weights.safetensors");
    const tensors = new Map<string, TensorData>();
    for (const a of g.agents) {
      for (const [k, v] of canonicalToFile(a.program, randomWeights(a.program, 7, `${a.index}.`), "stacked")) tensors.set(`${a.index}.${k}`, v);
    }
    writeSafetensors(file, tensors);
    const [l0, l1] = referenceLogits("ens", 7);
    const got = await runLogits("ens", ["--weights", file]);
    let worst = 0;
    for (let t = 0; t < IDS.length; t++) {
      const p0 = probs(l0!, t), p1 = probs(l1!, t);
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[t * V + v]! - Math.log((p0[v]! + p1[v]!) / 2)));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  itGpu("cascade: A's logits where A's confidence ≥ θ, else B's", async () => {
    const [la, lb] = referenceLogits("esc");
    const conf = IDS.map((_, t) => Math.max(...probs(la!, t)));
    // Off the knife edge, and both branches taken.
    for (const c of conf) expect(Math.abs(c - 0.0215)).toBeGreaterThan(3e-4);
    const escalated = conf.flatMap((c, t) => (c < 0.0215 ? [t] : []));
    expect(escalated).toEqual([1, 2, 3, 4]);
    const got = await runLogits("esc");
    let worst = 0;
    for (let t = 0; t < IDS.length; t++) {
      const want = escalated.includes(t) ? lb! : la!;
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[t * V + v]! - want[t * V + v]!));
    }
    expect(worst).toBeLessThan(1e-4);
  });
});

describe("moec run on decoding graphs without per-position logits", () => {
  it("refuses vote by name, before any GPU work", async () => {
    const r = await moec(["run", FILE, "--entry", "maj", "--random-weights", "--input-ids", "1,2"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("`maj` is a `vote` graph: it writes continuations and has no per-position logits");
  });

  it("an id outside an agent's vocabulary is named with its position", async () => {
    const r = await moec(["run", FILE, "--entry", "ens", "--random-weights", "--input-ids", "1,64"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("token 1 is 64, outside the vocabulary of agent 0 (`small_lm`, V = 64)");
  });

  it("a weights file without agent 1's tensors names the agent and the prefixed tensor", async () => {
    const g = lowerEntry([FILE], { entry: "ens" }).decodingGraph!;
    const file = path.join(dir, "agent0-only.safetensors");
    const a = g.agents[0]!;
    writeSafetensors(file, new Map([...canonicalToFile(a.program, randomWeights(a.program, 1, "0."), "stacked")].map(([k, v]) => [`0.${k}`, v])));
    const r = await moec(["run", FILE, "--entry", "ens", "--weights", file, "--input-ids", "1,2"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("the weights of agent 1 (`small_lm`)");
    expect(r.err).toMatch(/1\.h\.weight/);
  });

  it("program-only flags are refused", async () => {
    const r = await moec(["run", FILE, "--entry", "ens", "--random-weights", "--input-ids", "1,2", "--last-logits"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--last-logits does not apply to a decoding graph (`ens`)");
  });
});
