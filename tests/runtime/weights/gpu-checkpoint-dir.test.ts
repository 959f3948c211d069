// rt.load(program, { weights: DIR, checkpointNames }) on a Hugging Face checkpoint directory
// (tests/helpers/hf-checkpoint.ts, names typed by hand): forward() gives bitwise the logits of the
// same weights given canonically (same kernels), BF16 shards those of the bf16-rounded weights
// (rounded here by hand), tensors above the binding limit are split across bindings, and a model
// too big for the device is refused with both numbers before any tensor is read.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile, hfCheckpointNames } from "../../../compiler/index.js";
import { createRuntime, DeviceMemoryError } from "../../../runtime/index.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { bf16Round, mixtralHfTensors, writeCanonicalFile, writeHfCheckpoint } from "../../helpers/hf-checkpoint.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-gpu-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const S = { V: 32, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 };
const c = compile({ file: path.resolve("examples/models/mixtral_8x7b.moe"), set: S });
if (!c.ok) throw new Error(c.formatDiagnostics());
const program = c.program!;
const weights = randomWeights(program, 3);
const IDS = [1, 5, 9, 30, 2];

function checkpoint(name: string, opts: Parameters<typeof writeHfCheckpoint>[2] = {}): string {
  const dir = path.join(root, name);
  writeHfCheckpoint(dir, mixtralHfTensors(weights, S), { config: { model_type: "mixtral" }, ...opts });
  return dir;
}

describeGpu("HF checkpoint directories through rt.load", () => {
  itGpu("rt.load(program, { weights: DIR, checkpointNames }).forward = the canonical weights' logits; BF16 shards = bf16-rounded; split bindings agree", async () => {
    const rt = await createRuntime();
    try {
      const forward = async (opts: Parameters<typeof rt.load>[1]) => {
        const m = await rt.load(program, opts);
        try {
          return await m.forward(IDS);
        } finally {
          m.dispose();
        }
      };
      const names = hfCheckpointNames(c);
      const want = await forward({ canonical: weights });
      expect(want.length).toBe(IDS.length * S.V);
      expect([...(await forward({ weights: checkpoint("f32"), checkpointNames: names }))]).toEqual([...want]);
      const wantBf16 = await forward({ weights: writeCanonicalFile(path.join(root, "bf16-rounded.safetensors"), program, weights, bf16Round) });
      expect([...(await forward({ weights: checkpoint("bf16", { dtype: "BF16", shards: 3 }), checkpointNames: names }))]).toEqual([...wantBf16]);
      // lm_head and the embedding are [32, 16] f32 = 2048 bytes: above a 1024-byte binding limit.
      const split = await forward({ weights: checkpoint("split"), checkpointNames: names, maxBindingBytes: 1024 });
      for (let i = 0; i < want.length; i++) expect(Math.abs(split[i]! - want[i]!)).toBeLessThan(1e-5);
      // Too big for the device: refused with both numbers before any tensor is read.
      let reads = 0;
      const refused = await rt.load(program, { weights: checkpoint("big"), checkpointNames: names, deviceMemoryBytes: 10_000, onProgress: () => reads++ }).catch((e) => e);
      expect(refused).toBeInstanceOf(DeviceMemoryError);
      expect(refused.message).toMatch(/needs at least \d+ bytes .* the device offers 10000 bytes/);
      expect(refused.neededBytes).toBeGreaterThan(4 * [...weights.values()].reduce((a, v) => a + v.length, 0) - 1);
      expect(reads).toBe(0);
    } finally {
      rt.dispose();
    }
  }, 240_000);

});
