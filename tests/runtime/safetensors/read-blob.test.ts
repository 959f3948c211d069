// Safetensors from a Blob (a browser's File or fetch body): read in slices — the header, then one
// slice per tensor, never the whole file — and parsed exactly as bytes in memory are: the same
// tensors, and for malformed files the same SafetensorsError message.
import { describe, expect, it } from "vitest";
import { readSafetensorsBlob } from "../../../runtime/safetensors/read-blob.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors } from "../../../runtime/safetensors/writer.js";

/** A Blob that records the byte ranges read from it. */
class CountingBlob extends Blob {
  readonly reads: [number, number][] = [];
  override slice(start = 0, end = this.size): Blob {
    this.reads.push([start, Math.min(end, this.size)]);
    return super.slice(start, end);
  }
}

function withHeader(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("readSafetensorsBlob", () => {
  const file = encodeSafetensors(new Map([
    ["a", { dtype: "F32" as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ["empty", { dtype: "F32" as const, shape: [0], data: new Float32Array(0) }],
    ["b", { dtype: "F16" as const, shape: [4], data: Float32Array.from([0.5, -2, 8, 0]) }],
    ["ids", { dtype: "I32" as const, shape: [2], data: Int32Array.from([7, -1]) }],
  ]), { producer: "test" });

  it("gives the tensors readSafetensors gives, reading the header and each tensor on its own", async () => {
    const blob = new CountingBlob([file]);
    const got = await readSafetensorsBlob(blob, "w.safetensors");
    const want = readSafetensors(file, "w.safetensors");
    expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
    for (const name of ["a", "b"]) expect([...got.getF32(name)]).toEqual([...want.getF32(name)]);
    expect([...got.getI32("ids")]).toEqual([7, -1]);
    expect(got.metadata).toEqual({ producer: "test" });
    const widest = Math.max(...blob.reads.map(([s, e]) => e - s));
    expect(widest).toBeLessThan(file.length);
    // 8 length bytes, the header, then one read per tensor (the empty one included).
    expect(blob.reads.length).toBe(2 + 4);
  });

  it("refuses malformed files with the message bytes in memory get", async () => {
    const cases: [string, Uint8Array][] = [
      ["shorter than the length field", new Uint8Array(5)],
      ["a header length past the end", withHeader("{}", new Uint8Array(0)).map((b, i) => (i === 0 ? 200 : b))],
      ["a header length over the limit", (() => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(4, 1, true); return b; })()],
      ["invalid JSON", withHeader("{\"a\":", new Uint8Array(0))],
      ["a truncated data section", file.subarray(0, file.length - 3)],
      ["overlapping tensors", withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Uint8Array(12))],
      ["a duplicate name", withHeader('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4))],
    ];
    for (const [what, bytes] of cases) {
      let expected = "";
      try {
        readSafetensors(bytes, "bad.safetensors");
      } catch (e) {
        expected = (e as Error).message;
      }
      expect(expected, what).not.toBe("");
      await expect(readSafetensorsBlob(new Blob([bytes]), "bad.safetensors"), what).rejects.toMatchObject({ name: "SafetensorsError", message: expected });
    }
  });
});
