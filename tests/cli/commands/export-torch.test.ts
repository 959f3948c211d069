// `moec export torch` from the command line, without python: what OUT holds (names, shapes and
// values of model.safetensors equal to the --random-weights tensors; config.json's auto_map),
// the refusals (a plugin stage with no PyTorch reference, by name; a decoding graph; hf-only
// flags), and that OUT is replaced only with --force and never left half-written.
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { compile } from "../../../compiler/index.js";
import { randomWeights, readSafetensors } from "../../../runtime/index.js";

const repo = path.resolve(__dirname, "../../..");
const MIXTRAL = path.join(repo, "examples/mixtral.moe");
const tmp = () => fs.mkdtempSync(path.join(tmpdir(), "moec-export-torch-"));

describe("moec export torch", () => {
  it("writes modeling, configuration, config.json with auto_map and the random weights under moec names", async () => {
    const out = path.join(tmp(), "pkg");
    const r = await moec(["export", "torch", MIXTRAL, "-o", out, "--random-weights", "--seed", "4", "--set", "D=16", "I=8"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^wrote .*pkg \(PyTorch package of `mixtral_moe`, 4 tensors f32 in model\.safetensors\)\n$/);
    expect(fs.readdirSync(out).sort()).toEqual(["config.json", "configuration_moec.py", "model.safetensors", "modeling_moec.py"]);
    const config = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
    expect(config.auto_map).toEqual({ AutoConfig: "configuration_moec.MoecConfig", AutoModel: "modeling_moec.MoecLayerModel" });
    expect(config.model_type).toBe("moec");
    const program = compile({ file: MIXTRAL, set: { D: 16, I: 8 } }).program!;
    const want = randomWeights(program, 4);
    const file = readSafetensors(path.join(out, "model.safetensors"));
    expect([...file.tensors.keys()].sort()).toEqual(["E.w_down", "E.w_gate", "E.w_up", "r.weight"]);
    expect(file.tensors.get("E.w_down")!.shape).toEqual([8, 16, 8]);
    for (const k of file.tensors.keys()) expect(Array.from(file.getF32(k))).toEqual(Array.from(want.get(k)!));
    const py = fs.readFileSync(path.join(out, "modeling_moec.py"), "utf8");
    expect(py.split("\n").filter((l) => l.length > 100)).toEqual([]);
    expect(py).toMatch(/def route_r\(self, x, stats=None\):\n {8}"""router r: linear\(bias = false\) \|> softmax \|> topk\(k = 2\) \|> renorm, over 8 experts\."""/);
  });

  it("a model entry gets AutoModelForCausalLM; without weights there is no model.safetensors", async () => {
    const out = path.join(tmp(), "m");
    const r = await moec(["export", "torch", path.join(repo, "examples/models/mixtral_8x7b.moe"), "-o", out, "--set", "V=32", "D=16", "L=1", "H=2", "KV=1", "I=8"]);
    expect(r.code, r.err).toBe(0);
    expect(fs.existsSync(path.join(out, "model.safetensors"))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8")).auto_map.AutoModelForCausalLM).toBe("modeling_moec.MoecForCausalLM");
  });

  it("refuses a plugin stage with no PyTorch reference by name, and writes nothing", async () => {
    // A plugin with a float64 reference and WGSL but no `torch` (every shipped plugin has one).
    const src = tmp();
    fs.writeFileSync(path.join(src, "first.js"), [
      "export default (api) => api.definePlugin({ apiVersion: api.API_VERSION, name: \"first\", version: \"1.0.0\", stages: [{",
      "  name: \"first\", kind: \"score\", doc: \"score 1 for expert 0\", params: [], nonNegative: true,",
      "  reference: { score(x, ctx) { const z = new Float64Array(ctx.E); z[0] = 1; return z; } },",
      "  wgsl: { score: { expr: \"select(0.0, 1.0, e == 0u)\" } },",
      "}] });",
    ].join("\n"));
    fs.writeFileSync(path.join(src, "first.moe"), "layer first_moe(x: [T, D], D = 16) {\n  experts E[4] = ffn(hidden = 8)\n  router r = first |> topk(1)\n  return x + moe(x, r, E)\n}\n");
    const d = tmp();
    const out = path.join(d, "pkg");
    const r = await moec(["export", "torch", path.join(src, "first.moe"), "-o", out, "--plugin", path.join(src, "first.js")]);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/router 'r': stage 'first' \(score, from plugin first@1\.0\.0\) has no PyTorch reference \(StageSpec\.torch\.score\)/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it("refuses a decoding graph, and hf-only flags; keeps a non-empty OUT without --force", async () => {
    const g = await moec(["export", "torch", path.join(repo, "examples/topologies/chain.moe"), "-o", path.join(tmp(), "g")]);
    expect(g.code).toBe(1);
    expect(g.err).toMatch(/is a decoding graph, which has no module of its own/);
    const f = await moec(["export", "torch", MIXTRAL, "-o", path.join(tmp(), "f"), "--dtype", "bf16"]);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/--dtype is an option of `moec export hf`/);
    const d = tmp();
    fs.writeFileSync(path.join(d, "keep"), "x");
    const k = await moec(["export", "torch", MIXTRAL, "-o", d, "--set", "D=16", "I=8"]);
    expect(k.code).toBe(1);
    expect(fs.readdirSync(d)).toEqual(["keep"]);
    const forced = await moec(["export", "torch", MIXTRAL, "-o", d, "--set", "D=16", "I=8", "--force"]);
    expect(forced.code, forced.err).toBe(0);
    expect(fs.readdirSync(d).sort()).toEqual(["config.json", "configuration_moec.py", "modeling_moec.py"]);
  });
});
