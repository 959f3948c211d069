// `moec import` and the commands that take a checkpoint directory (info, draw, check, ir): exit
// codes, stdout vs -o, atomic writes (no file on error), and that the on-the-fly program is the
// one `moec import` writes (the same counts as the file it wrote).
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { HF_CONFIGS } from "../../helpers/hf-configs.js";

const dir = (f: string) => path.join(HF_CONFIGS, f);
const tmp = () => fs.mkdtempSync(path.join(tmpdir(), "moec-import-"));

describe("moec import", () => {
  it("prints the program on stdout for a directory or its config.json, and nothing on stderr", async () => {
    const a = await moec(["import", dir("mixtral")]);
    expect(a.code).toBe(0);
    expect(a.err).toBe("");
    expect(a.out).toMatch(/^\/\/ Imported by `moec import` from .*mixtral\/config\.json/);
    expect(a.out).toContain("model mixtral(");
    const b = await moec(["import", path.join(dir("mixtral"), "config.json")]);
    expect(b.out).toBe(a.out);
  });

  it("-o writes the file atomically; the file checks and counts as the published model", async () => {
    const d = tmp();
    const out = path.join(d, "qwen3.moe");
    const r = await moec(["import", dir("qwen3"), "-o", out]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/wrote .*qwen3\.moe \(model_type qwen3\)/);
    expect(fs.readdirSync(d)).toEqual(["qwen3.moe"]); // no temporary file left
    const info = await moec(["info", out, "--json"]);
    expect(JSON.parse(info.out).params.total).toBe(8_190_735_360);
  });

  it("errors: exit 1 with the field named, and no output file (an existing one is left as it was)", async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, "ckpt"));
    fs.writeFileSync(path.join(d, "ckpt", "config.json"), JSON.stringify({ model_type: "llama", vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, rope_scaling: { type: "dynamic", factor: 2 } }));
    const out = path.join(d, "out.moe");
    fs.writeFileSync(out, "// before\n");
    const r = await moec(["import", "ckpt", "-o", out], d);
    expect(r.code).toBe(1);
    expect(r.err).toBe("moec import: ckpt/config.json: `rope_scaling`: type \"dynamic\" is not supported: moec's attention knows no scaling and yarn\n");
    expect(fs.readFileSync(out, "utf8")).toBe("// before\n");
    expect(fs.readdirSync(d).sort()).toEqual(["ckpt", "out.moe"]);
    const none = await moec(["import", "nowhere"], d);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/`nowhere` does not exist/);
    const empty = await moec(["import", "."], d);
    expect(empty.err).toMatch(/is a directory without a config\.json/);
    const unwritable = await moec(["import", dir("llama"), "-o", path.join(d, "missing-dir", "x.moe")]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.err).toMatch(/cannot write .*x\.moe.*ENOENT/);
  });

  it("usage errors exit 2; --help describes the families", async () => {
    expect((await moec(["import"])).code).toBe(2);
    expect((await moec(["import", "a", "b"])).code).toBe(2);
    expect((await moec(["import", dir("llama"), "--bogus"])).code).toBe(2);
    const h = await moec(["import", "--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("moec import DIR_OR_CONFIG [-o FILE]");
    expect(h.out).toContain("mixtral, qwen2_moe, qwen3_moe, olmoe, deepseek_v2, deepseek_v3, llama, mistral, qwen2, qwen3");
  });

  it("warns about fields it does not recognise", async () => {
    const d = tmp();
    const cfg = JSON.parse(fs.readFileSync(path.join(dir("llama"), "config.json"), "utf8"));
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify({ ...cfg, shiny_new_option: 1 }));
    const r = await moec(["import", d]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("moec import: warning: fields not recognised, not read: shiny_new_option\n");
  });
});

describe("checkpoint directories in place of a .moe file", () => {
  it("moec info DIR: the published counts and, with --weights-as hf, the family's names", async () => {
    const r = await moec(["info", dir("deepseek_v2"), "--json", "--weights-as", "hf"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.entry).toBe("deepseek_v2");
    expect(j.params.total).toBe(15_706_484_224);
    expect(j.weights_as).toBe("hf:deepseek");
    expect(j.weights.map((w: any) => w.name)).toContain("model.layers.26.mlp.experts.63.down_proj.weight");
    const set = await moec(["info", dir("llama"), "--set", "L=2", "--json"]);
    expect(JSON.parse(set.out).hyper_parameters.L).toBe(2);
    const bad = await moec(["info", path.join(HF_CONFIGS, "README.md") + ".json"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^moec info: `.*README\.md\.json` does not exist/);
  });

  it("moec draw DIR writes MODEL_TYPE.svg in the working directory, not into the checkpoint", async () => {
    const d = tmp();
    const r = await moec(["draw", dir("olmoe")], d);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(d, "olmoe.svg"), "utf8")).toMatch(/^<svg[\s\S]*olmoe \(model\)/);
    expect(fs.existsSync(path.join(dir("olmoe"), "olmoe.svg"))).toBe(false);
  });

  it("moec check DIR CONFIG and moec ir DIR", async () => {
    const c = await moec(["check", dir("qwen3_moe"), path.join(dir("mistral"), "config.json")]);
    expect(c.code).toBe(0);
    expect(c.err).toBe("checked 2 files: no errors\n");
    const ir = await moec(["ir", dir("qwen2"), "--set", "L=1"]);
    expect(ir.code).toBe(0);
    expect(ir.out).toMatch(/^ir qwen2 model/);
    expect(ir.out).toContain("weight layers.0.self_attn.bq: [3584] param");
  });
});
