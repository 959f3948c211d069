// A Hugging Face checkpoint directory in the browser module, run in Node: the directory's files
// as File objects (what a page's directory picker gives, webkitRelativePath and all) are imported,
// bound and loaded by the built bundle, and its greedy continuation of a text prompt equals
// `moec generate DIR`'s on the same directory — ids and streamed text. Bad directories are named errors.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { moec } from "../helpers/cli.js";
import { beforeAllGpu, describeGpu, itGpu, testGpu, releaseTestGpu } from "../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../helpers/hf-layout.js";
import { FAMILIES } from "../helpers/tiny-families.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { importBundle, type BrowserModule } from "../helpers/browser/bundle.js";

let m: BrowserModule;

const root = mkdtempSync(path.join(tmpdir(), "moec-browser-ckpt-"));
const dir = path.join(root, "tiny-mixtral");
const mixtral = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
const hf = hfWeights(mixtral.hf, 21);
for (const v of hf.get("lm_head.weight")!.data.keys()) hf.get("lm_head.weight")!.data[v]! *= 8; // greedy's argmax well separated
writeHfCheckpoint(dir, mixtral.hf, hf);
const tiny = path.join(REPO_ROOT, "tests/fixtures/tokenizers/tiny");
for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) copyFileSync(path.join(tiny, f), path.join(dir, f));

/** The directory's files as a directory picker gives them: `tiny-mixtral/NAME`. */
function pickedFiles(from: string, only?: (name: string) => boolean): File[] {
  return readdirSync(from).filter((n) => !only || only(n)).map((name) => {
    const f = new File([readFileSync(path.join(from, name))], name);
    Object.defineProperty(f, "webkitRelativePath", { value: `${path.basename(from)}/${name}` });
    return f;
  });
}

beforeAll(async () => {
  m = await importBundle();
}, 120_000);
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await releaseTestGpu();
});

describe("openCheckpointFiles", () => {
  it("imports config.json as `moec import` does", async () => {
    const ckpt = await m.openCheckpointFiles(pickedFiles(dir));
    expect(ckpt.label).toBe("tiny-mixtral");
    expect(ckpt.modelType).toBe("mixtral");
    const cli = await moec(["import", dir, "-o", "-"]);
    expect(cli.code, cli.err).toBe(0);
    // The CLI's header names the config by the path the user gave; the rest is the same program.
    const body = (t: string) => t.split("\n").filter((l) => !l.startsWith("//")).join("\n").trim();
    expect(body(ckpt.source)).toBe(body(cli.out));
    expect(ckpt.compile().ok).toBe(true);
  });

  it("names what is missing or broken", async () => {
    await expect(m.openCheckpointFiles([])).rejects.toMatchObject({ name: "CheckpointFilesError" });
    await expect(m.openCheckpointFiles(pickedFiles(dir, (n) => n !== "config.json"))).rejects.toMatchObject({ name: "CheckpointFilesError", message: expect.stringContaining("tiny-mixtral: no config.json") });
  });
});

describeGpu("a checkpoint generating in the browser module", () => {
  let rt: Awaited<ReturnType<BrowserModule["createRuntime"]>>;
  beforeAllGpu(async () => {
    rt = await m.createRuntime({ gpu: (await testGpu()).gpu });
  }, 60_000);

  itGpu("greedy from text: the ids and text `moec generate DIR` gives", async () => {
    const cli = await moec(["generate", dir, "--prompt", "hello world", "--max-new-tokens", "6", "--json"]);
    expect(cli.code, cli.err).toBe(0);
    const want = JSON.parse(cli.out);
    const model = await rt.loadCheckpoint(await m.openCheckpointFiles(pickedFiles(dir)));
    expect(model.checkpoint.convention).toBe("hf:mixtral");
    const ids: number[] = [];
    let text = "";
    for await (const step of model.generate("hello world", { maxNewTokens: 6 })) {
      ids.push(step.id);
      text += step.text ?? "";
    }
    expect(ids).toEqual(want.tokens);
    expect(text).toBe(want.text);
    model.dispose();
  }, 300_000);

  itGpu("a directory without its weights file is a WeightsError that says so", async () => {
    const files = pickedFiles(dir, (n) => n !== "model.safetensors");
    const ckpt = await m.openCheckpointFiles(files);
    await expect(rt.loadCheckpoint(ckpt)).rejects.toMatchObject({ name: "WeightsError", message: expect.stringContaining("no model.safetensors or model.safetensors.index.json") });
  }, 60_000);
});
