// The streaming safetensors writer (runtime/safetensors/writer.ts): the layout from dtypes and shapes
// alone (offsets hand-derived, exact past 2^32), tensors written from chunks and holes and read back
// by the reader, and a wrong byte count named by tensor with nothing left on disk. Files past 4 GiB
// are written for real by scripts/safetensors-large.mjs (a sparse file, a few KiB of RAM).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSafetensors, readSafetensors, safetensorsLayout, SafetensorsError, writeSafetensorsStream, type TensorStream } from "../../../runtime/safetensors/index.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-st-stream-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe("safetensorsLayout", () => {
  it("sorts by name, packs the data, pads the header to 8 bytes (hand-derived)", () => {
    const l = safetensorsLayout([["b", { dtype: "F16", shape: [3] }], ["a", { dtype: "F32", shape: [2] }]]);
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]}}';
    expect(json.length).toBe(108); // padded with 4 spaces to 112 (8 + 112 = 120, a multiple of 8)
    expect(l.header.byteLength).toBe(8 + 112);
    expect(new DataView(l.header.buffer).getUint32(0, true)).toBe(112);
    expect(new TextDecoder().decode(l.header.subarray(8))).toBe(json + " ".repeat(4));
    expect(l.tensors.map((t) => [t.name, t.begin, t.end])).toEqual([["a", 0, 8], ["b", 8, 14]]);
    expect(l.fileBytes).toBe(120 + 14);
  });
  it("offsets past 4 GiB are exact: an 8 GiB tensor then a small one", () => {
    const l = safetensorsLayout([["big", { dtype: "F32", shape: [2 ** 31] }], ["z", { dtype: "F32", shape: [1] }]]);
    expect(l.tensors.map((t) => [t.begin, t.end])).toEqual([[0, 2 ** 33], [2 ** 33, 2 ** 33 + 4]]);
    expect(new TextDecoder().decode(l.header.subarray(8))).toContain('"data_offsets":[8589934592,8589934596]');
  });
});

describe("writeSafetensorsStream", () => {
  it("writes chunks and zero holes that the reader reads back value for value", () => {
    const file = path.join(dir, "s.safetensors");
    const tensors = new Map<string, TensorStream>([
      // 6 values in three chunks with a 2-value hole in the middle.
      ["w", { dtype: "F32", shape: [2, 3], chunks: () => [f32(1, 2), { zeros: 8 }, f32(5, 6)] }],
      // All zeros, at the end of the file: the file still has its full length.
      ["z", { dtype: "F32", shape: [4], chunks: () => [{ zeros: 16 }] }],
    ]);
    writeSafetensorsStream(file, tensors, { producer: "test" });
    const st = readSafetensors(file);
    expect([...st.getF32("w")]).toEqual([1, 2, 0, 0, 5, 6]);
    expect([...st.getF32("z")]).toEqual([0, 0, 0, 0]);
    expect(openSafetensors(file).metadata).toEqual({ producer: "test" });
    expect(fs.readdirSync(dir)).toEqual(["s.safetensors"]);
  });

  it.each([
    ["too few", () => [f32(1)], 'tensor "w": its chunks hold 4 bytes; its F32 shape [2] needs 8.'],
    ["too many", () => [f32(1, 2), f32(3)], 'tensor "w": its chunks hold more than the 8 bytes its F32 shape [2] needs.'],
  ])("%s bytes: a SafetensorsError naming the tensor, no file and no temporary left", (_what, chunks, message) => {
    const file = path.join(dir, "bad.safetensors");
    fs.writeFileSync(file, "older");
    let caught: unknown;
    try {
      writeSafetensorsStream(file, new Map([["w", { dtype: "F32" as const, shape: [2], chunks }]]));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SafetensorsError);
    expect((caught as Error).message).toBe(`${file}: ${message}`);
    expect(fs.readdirSync(dir)).toEqual(["bad.safetensors"]);
    expect(fs.readFileSync(file, "utf8")).toBe("older");
  });
});
