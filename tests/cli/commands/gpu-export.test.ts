// `moec export hf` on the GPU, one family (one small shape: shader compiles are slow): `moec run`
// of the exported directory gives bit for bit the logits of `moec run` of the source directory,
// and both are the float64 reference of the hand-written Mixtral program on the helper's weights.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import { readSafetensors } from "../../../runtime/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { FAMILIES, T, V, ids } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-gpu-export-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeGpu("moec export hf: the export runs as the source does", () => {
  itGpu("mixtral: moec run OUT = moec run SRC, bit for bit, and = the float64 reference", async () => {
    const f = FAMILIES.find((x) => x.hf.model_type === "mixtral")!;
    const src = path.join(root, "src"), out = path.join(root, "out");
    writeHfCheckpoint(src, f.hf, hfWeights(f.hf, 21));
    const e = await moec(["export", "hf", src, "-o", out, "--shard-size", "30KB"]);
    expect(e.code, e.err).toBe(0);
    const idArg = Array.from(ids).join(",");
    const a = path.join(root, "src.safetensors"), b = path.join(root, "out.safetensors");
    for (const [dir, file] of [[src, a], [out, b]] as const) {
      const r = await moec(["run", dir, "--input-ids", idArg, "--output", file]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).not.toMatch(/warning/);
    }
    const got = readSafetensors(b).tensors.get("logits")!, want = readSafetensors(a).tensors.get("logits")!;
    expect(got.shape).toEqual([T, V]);
    expect(Buffer.from(got.bytes).equals(Buffer.from(want.bytes))).toBe(true);
    const hand = compile(f.moec);
    if (!hand.ok) throw new Error(hand.formatDiagnostics());
    const reference = interpretReference(hand.program!, canonicalFromHf(hand.program!, hand.info!.instance, f.map, hfWeights(f.hf, 21)), new Map([["tokens", ids]]), T).get("logits")!;
    expect(compare(readSafetensors(b).getF32("logits"), reference).maxAbs).toBeLessThan(1e-4);
  }, 300_000);
});
