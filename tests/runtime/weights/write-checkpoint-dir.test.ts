// runtime/weights/write-checkpoint-dir.ts: transformers' shard rule (consecutive tensors, a new
// shard when the cap would be passed, an oversized tensor alone), and atomicity: a failure while a
// shard is being produced leaves neither OUT nor the temporary directory, and a replaced OUT survives it.
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { CheckpointWriteError, planShards, writeCheckpointDir, type CheckpointTensor } from "../../../runtime/weights/write-checkpoint-dir.js";

const tmp = () => fs.mkdtempSync(path.join(tmpdir(), "moec-ckptdir-"));
const tensor = (name: string, n: number, fail = false): CheckpointTensor => ({
  name, shape: [n],
  values: () => {
    if (fail) throw new Error(`disk full while producing ${name}`);
    return Float32Array.from({ length: n }, (_, i) => i);
  },
});

describe("planShards", () => {
  it("groups consecutive tensors under the cap; a tensor over the cap is alone", () => {
    // Bytes 40, 40, 40, 200, 8 with a cap of 100 (hand-derived): [0, 1], [2], [3], [4].
    const ts = [10, 10, 10, 50, 2].map((n, i) => ({ name: `t${i}`, shape: [n] }));
    expect(planShards(ts, 4, 100)).toEqual([[0, 1], [2], [3], [4]]);
    expect(planShards(ts, 4, 1e9)).toEqual([[0, 1, 2, 3, 4]]);
  });
});

describe("writeCheckpointDir", () => {
  it("a failure mid-write leaves nothing behind; with force, the old OUT is kept", () => {
    const d = tmp();
    const out = path.join(d, "out");
    const ts = [tensor("a", 10), tensor("b", 10), tensor("c", 10, true)];
    expect(() => writeCheckpointDir(out, ts, { dtype: "F32", shardBytes: 40 })).toThrow(CheckpointWriteError);
    expect(() => writeCheckpointDir(out, ts, { dtype: "F32", shardBytes: 40 })).toThrow(/cannot write .*disk full while producing c/);
    expect(fs.readdirSync(d)).toEqual([]);
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "old.txt"), "old");
    expect(() => writeCheckpointDir(out, ts, { dtype: "F32", shardBytes: 40, force: true })).toThrow(CheckpointWriteError);
    expect(fs.readdirSync(d)).toEqual(["out"]);
    expect(fs.readdirSync(out)).toEqual(["old.txt"]);
  });

  it("writes the shards, the index and the extra files", () => {
    const d = tmp();
    const out = path.join(d, "out");
    const w = writeCheckpointDir(out, [tensor("a", 10), tensor("b", 10), tensor("c", 10)], { dtype: "F16", shardBytes: 40, files: { "config.json": "{}" } });
    expect(w).toEqual({ shards: ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], totalBytes: 60 });
    const index = JSON.parse(fs.readFileSync(path.join(out, "model.safetensors.index.json"), "utf8"));
    expect(index).toEqual({ metadata: { total_size: 60 }, weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00001-of-00002.safetensors", c: "model-00002-of-00002.safetensors" } });
    expect(fs.readdirSync(out).sort()).toEqual(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]);
  });
});
