// runtime/weights/checkpoint-tensors.ts with write-checkpoint-dir.ts: the checkpoint is made one
// tensor at a time as the shards are written. Nothing is read before the first tensor is written,
// each canonical tensor is read from the source once (a stacked expert tensor serves all its
// members), reads happen in write order (a tensor's source is read no earlier than the tensor
// before it was written), and RandomWeights draws what randomWeights does. Byte equality of the
// written tensors with an independent map is tests/cli/commands/export.test.ts's.
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { compile, hfCheckpointNames } from "../../../compiler/index.js";
import { readSafetensors } from "../../../runtime/index.js";
import { checkpointTensors } from "../../../runtime/weights/checkpoint-tensors.js";
import type { HostWeights } from "../../../runtime/weights/host-weights.js";
import { RandomWeights, randomWeights } from "../../../runtime/weights/random-weights.js";
import { writeCheckpointDir } from "../../../runtime/weights/write-checkpoint-dir.js";

const c = compile({ file: path.resolve(__dirname, "../../../examples/models/mixtral_8x7b.moe"), set: { V: 32, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 } });
if (!c.ok) throw new Error(c.formatDiagnostics());
const program = c.program!;

describe("checkpointTensors, written shard by shard", () => {
  it("reads each canonical tensor once, only when the first tensor made from it is written", () => {
    const names = hfCheckpointNames(c, { family: "mixtral" })[0]!;
    const random = new RandomWeights(program, 7);
    const reads: string[] = [];
    const counting: HostWeights = {
      get: (n) => (reads.push(n), random.get(n)),
      has: (n) => random.has(n),
      keys: () => random.keys(),
      get size() { return random.size; },
    };
    const written: { name: string; readsBefore: number }[] = [];
    const tensors = checkpointTensors(program, counting, names).map((t) => ({
      ...t,
      values: () => {
        written.push({ name: t.name, readsBefore: reads.length });
        return t.values();
      },
    }));
    expect(reads).toEqual([]);
    const out = path.join(fs.mkdtempSync(path.join(tmpdir(), "moec-ckpt-tensors-")), "out");
    const w = writeCheckpointDir(out, tensors, { dtype: "F16", shardBytes: 2000 });
    expect(w.shards.length).toBeGreaterThan(3);
    expect(written[0]!.readsBefore).toBe(0);
    // Every source read exactly once: the 4 experts of `layers.0.block_sparse_moe.E.w_up` share one read.
    expect(new Set(reads).size).toBe(reads.length);
    expect([...new Set(reads)].sort()).toEqual([...random.keys()].sort());
    expect(reads.length).toBeLessThan(names.tensors.length);
    // Reads follow the writes: tensor k's values were asked for after at most k + 1 sources were read.
    written.forEach((x, k) => expect(x.readsBefore).toBeLessThanOrEqual(k));
    // The shards hold every tensor once.
    const index = JSON.parse(fs.readFileSync(path.join(out, "model.safetensors.index.json"), "utf8"));
    expect(Object.keys(index.weight_map).sort()).toEqual(names.tensors.map((t) => t.file).sort());
    const first = readSafetensors(path.join(out, w.shards[0]!));
    expect([...first.tensors.values()].every((t) => t.dtype === "F16")).toBe(true);
  });

  it("RandomWeights draws the tensors randomWeights returns, each on its own", () => {
    const eager = randomWeights(program, 9);
    const lazy = new RandomWeights(program, 9);
    expect([...lazy.keys()].sort()).toEqual([...eager.keys()].sort());
    for (const n of eager.keys()) expect(lazy.get(n)).toEqual(eager.get(n));
  });
});
