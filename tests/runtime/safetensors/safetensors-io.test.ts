// Reader and writer, on files assembled byte by byte here (so the expected layout is the format's,
// not the writer's) and on every way a header can be wrong.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SafetensorsError } from "../../../runtime/safetensors/errors.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors, writeSafetensors } from "../../../runtime/safetensors/writer.js";

/** header length (u64 LE) + header text + data bytes */
function file(header: string, data: number[] = [], declaredLength?: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  const n = declaredLength ?? h.length;
  new DataView(out.buffer).setUint32(0, n % 2 ** 32, true);
  new DataView(out.buffer).setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const F32_ONE = [0x00, 0x00, 0x80, 0x3f];
const F32_MINUS_TWO = [0x00, 0x00, 0x00, 0xc0];

function thrown(f: () => unknown): SafetensorsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error("expected a SafetensorsError");
}

describe("readSafetensors on hand-built files", () => {
  it("reads every supported dtype", () => {
    const header = JSON.stringify({
      __metadata__: { format: "pt" },
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      h: { dtype: "F16", shape: [1, 2], data_offsets: [8, 12] },
      b: { dtype: "BF16", shape: [1], data_offsets: [12, 14] },
      i: { dtype: "I32", shape: [1], data_offsets: [14, 18] },
      l: { dtype: "I64", shape: [2], data_offsets: [18, 34] },
      e: { dtype: "F32", shape: [0, 3], data_offsets: [34, 34] },
    });
    const data = [
      ...F32_ONE, ...F32_MINUS_TWO,
      0x00, 0x3c, 0x00, 0xc0, // f16 1, -2
      0x80, 0x3f, // bf16 1
      0xfb, 0xff, 0xff, 0xff, // i32 -5
      0x07, 0, 0, 0, 0, 0, 0, 0, // i64 7
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // i64 -1
    ];
    const f = readSafetensors(file(header, data), "w.safetensors");
    expect(f.metadata).toEqual({ format: "pt" });
    expect([...f.tensors.keys()].sort()).toEqual(["a", "b", "e", "h", "i", "l"]);
    expect(f.tensors.get("h")!.shape).toEqual([1, 2]);
    expect(f.tensors.get("h")!.dtype).toBe("F16");
    expect([...f.getF32("a")]).toEqual([1, -2]);
    expect([...f.getF32("h")]).toEqual([1, -2]);
    expect([...f.getF32("b")]).toEqual([1]);
    expect([...f.getF32("e")]).toEqual([]);
    expect([...f.getI32("i")]).toEqual([-5]);
    expect([...f.getI32("l")]).toEqual([7, -1]);
  });

  it("accepts a header padded with spaces and an empty header", () => {
    const f = readSafetensors(file(`{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}      `, F32_ONE), "p");
    expect(f.tensors.get("x")!.shape).toEqual([]);
    expect([...f.getF32("x")]).toEqual([1]);
    expect(readSafetensors(file("{}"), "empty").tensors.size).toBe(0);
  });

  const t1 = (entry: unknown) => JSON.stringify({ w: entry });
  it.each<[string, Uint8Array, RegExp, string | undefined]>([
    ["a file shorter than 8 bytes", new Uint8Array(5), /5 bytes; expected at least 8/, undefined],
    ["a huge header length", file("{}", [], 2 ** 40), /header length is 1099511627776 bytes; expected at most 100000000/, undefined],
    ["a header longer than the file", file("{}", [], 50), /header length is 50 bytes but the file has only 2/, undefined],
    ["invalid UTF-8", (() => { const b = file('{"a":1}'); b[10] = 0xff; return b; })(), /not valid UTF-8/, undefined],
    ["invalid JSON", file('{"a":'), /not valid JSON/, undefined],
    ["a JSON array", file("[1,2]"), /must be a JSON object; found an array of length 2/, undefined],
    ["non-string metadata", file('{"__metadata__":{"k":3}}'), /__metadata__ entry "k" must be a string; found number 3/, undefined],
    ["an entry that is not an object", file(t1(5)), /tensor "w": entry must be an object/, "w"],
    ["an unsupported dtype", file(t1({ dtype: "F64", shape: [1], data_offsets: [0, 8] }), Array(8).fill(0)), /tensor "w": unsupported dtype F64/, "w"],
    ["a non-string dtype", file(t1({ dtype: 4, shape: [1], data_offsets: [0, 4] }), F32_ONE), /dtype must be a string; found number 4/, "w"],
    ["a negative dimension", file(t1({ dtype: "F32", shape: [-1], data_offsets: [0, 4] }), F32_ONE), /shape must be an array of non-negative integers; found \[-1\]/, "w"],
    ["a fractional dimension", file(t1({ dtype: "F32", shape: [1.5], data_offsets: [0, 4] }), F32_ONE), /non-negative integers; found \[1.5\]/, "w"],
    ["a shape that is not an array", file(t1({ dtype: "F32", shape: "1", data_offsets: [0, 4] }), F32_ONE), /found the string "1"/, "w"],
    ["a shape too large to address", file(t1({ dtype: "F32", shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] }), F32_ONE), /more elements than can be addressed/, "w"],
    ["offsets of the wrong length", file(t1({ dtype: "F32", shape: [1], data_offsets: [0] }), F32_ONE), /data_offsets must be \[begin, end\].*found \[0\]/, "w"],
    ["missing offsets", file(t1({ dtype: "F32", shape: [1] }), F32_ONE), /data_offsets must be \[begin, end\].*found nothing/, "w"],
    ["negative offsets", file(t1({ dtype: "F32", shape: [1], data_offsets: [-4, 0] }), F32_ONE), /non-negative integers; found \[-4,0\]/, "w"],
    ["begin after end", file(t1({ dtype: "F32", shape: [0], data_offsets: [4, 0] }), F32_ONE), /data_offsets \[4, 0\] has begin after end/, "w"],
    ["an end beyond the data", file(t1({ dtype: "F32", shape: [2], data_offsets: [0, 8] }), F32_ONE), /ends beyond the data section of 4 bytes/, "w"],
    ["a byte count that does not match the shape", file(t1({ dtype: "F16", shape: [3], data_offsets: [0, 4] }), F32_ONE), /F16 shape \[3\] needs 6 bytes; data_offsets \[0, 4\] give 4/, "w"],
  ])("rejects %s", (_what, bytes, message, tensor) => {
    const e = thrown(() => readSafetensors(bytes, "bad.safetensors"));
    expect(e.message).toMatch(/^bad\.safetensors: /);
    expect(e.message).toMatch(message);
    expect(e.file).toBe("bad.safetensors");
    expect(e.tensor).toBe(tensor);
  });

  it("rejects overlapping tensors, naming both", () => {
    const header = JSON.stringify({
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
      z: { dtype: "F32", shape: [0], data_offsets: [4, 4] }, // empty: overlaps nothing
    });
    const e = thrown(() => readSafetensors(file(header, [...F32_ONE, ...F32_ONE]), "o.st"));
    expect(e.message).toMatch(/tensors "a" and "b" overlap/);
  });

  it("accessors fail with SafetensorsError", () => {
    const header = JSON.stringify({
      f: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      i: { dtype: "I32", shape: [1], data_offsets: [4, 8] },
      big: { dtype: "I64", shape: [2], data_offsets: [8, 24] },
    });
    const data = [...F32_ONE, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]; // I64 0, then 2^31
    const f = readSafetensors(file(header, data), "acc.st");
    expect(thrown(() => f.getF32("i")).message).toMatch(/tensor "i" has dtype I32; expected a float dtype/);
    expect(thrown(() => f.getI32("f")).message).toMatch(/tensor "f" has dtype F32; expected an integer dtype/);
    const e = thrown(() => f.getI32("big"));
    expect(e.message).toMatch(/I64 value 2147483648 at index 1 does not fit in I32/);
    expect(e.tensor).toBe("big");
    expect(thrown(() => f.getF32("nope")).message).toMatch(/has no tensor "nope"/);
  });

  it("reports a missing file and a directory", () => {
    const e = thrown(() => readSafetensors("/nonexistent/dir/w.safetensors"));
    expect(e.message).toBe("/nonexistent/dir/w.safetensors: cannot read the safetensors file (no such file).");
    expect(thrown(() => readSafetensors(tmpdir(), "dir")).message).toBe("dir: cannot read the safetensors file (it is a directory).");
  });

  it("reads a file larger than 2 GiB (sparse) without loading it whole", () => {
    const dir = mkdtempSync(join(tmpdir(), "moec-st-"));
    try {
      const path = join(dir, "big.safetensors");
      const at = 3 * 2 ** 30; // data offset beyond what one Node buffer read can hold
      const head = file(JSON.stringify({ far: { dtype: "F32", shape: [1], data_offsets: [at, at + 4] } }));
      const fd = openSync(path, "w");
      writeSync(fd, head, 0, head.length, 0);
      writeSync(fd, new Uint8Array(F32_MINUS_TWO), 0, 4, head.length + at);
      closeSync(fd);
      expect([...readSafetensors(path).getF32("far")]).toEqual([-2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("validates a file on disk the same way as bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "moec-st-"));
    try {
      const path = join(dir, "short.safetensors");
      writeFileSync(path, file(JSON.stringify({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }), F32_ONE));
      expect(thrown(() => readSafetensors(path, "short")).message).toMatch(/^short: tensor "w": data_offsets \[0, 8\] ends beyond the data section of 4 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("encodeSafetensors / writeSafetensors", () => {
  it("writes sorted names, contiguous data and a space-padded 8-aligned header", () => {
    const bytes = encodeSafetensors({ b: { dtype: "F32", shape: [1], data: [-2] }, a: { dtype: "I32", shape: [2], data: [1, -1] } });
    const json = '{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    // 8 + 108 = 116 → padded to 120, so the header is 112 bytes: the JSON then 4 spaces.
    expect(json.length).toBe(108);
    const expected = file(json + "    ", [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, ...F32_MINUS_TWO]);
    expect([...bytes]).toEqual([...expected]);
  });

  it("round-trips every dtype and the metadata through a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "moec-st-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "rt.safetensors");
    writeSafetensors(path, new Map([
      ["f32", { dtype: "F32", shape: [2, 2], data: [1, 2.5, -3, 1e-30] }],
      ["f16", { dtype: "F16", shape: [3], data: [1, 1 / 3, 70000] }],
      ["bf16", { dtype: "BF16", shape: [2], data: [Math.PI, -0.5] }],
      ["i32", { dtype: "I32", shape: [2], data: new Int32Array([-7, 2147483647]) }],
      ["i64", { dtype: "I64", shape: [2], data: new BigInt64Array([5n, -(2n ** 40n)]) }],
      ["raw", { dtype: "F16", shape: [1], bytes: new Uint8Array([0x00, 0xc0]) }],
    ] as const), { zeta: "1", alpha: "x" });
    const f = readSafetensors(path);
    expect(f.metadata).toEqual({ alpha: "x", zeta: "1" });
    expect(f.tensors.get("f32")!.shape).toEqual([2, 2]);
    expect([...f.getF32("f32")]).toEqual([1, 2.5, -3, Math.fround(1e-30)]);
    expect([...f.getF32("f16")]).toEqual([1, 1365 / 4096, Infinity]);
    expect([...f.getF32("bf16")]).toEqual([3.140625, -0.5]);
    expect([...f.getI32("i32")]).toEqual([-7, 2147483647]);
    expect(thrown(() => f.getI32("i64")).message).toMatch(/-1099511627776 at index 1 does not fit in I32/);
    expect([...f.getF32("raw")]).toEqual([-2]);
    const raw = f.tensors.get("i64")!.bytes;
    expect([...raw.subarray(8)]).toEqual([0, 0, 0, 0, 0, 0xff, 0xff, 0xff]); // -(2^40) little-endian
  });

  it.each<[string, Parameters<typeof encodeSafetensors>[0], RegExp]>([
    ["a value count that does not match the shape", { w: { dtype: "F32", shape: [2, 2], data: [1, 2, 3] } }, /shape \[2, 2\] has 4 elements; 3 values given/],
    ["an I32 value out of range", { w: { dtype: "I32", shape: [2], data: [0, 2 ** 31] } }, /value 2147483648 at index 1 is not an integer that fits in I32/],
    ["a fractional integer", { w: { dtype: "I64", shape: [1], data: [0.5] } }, /value 0.5 at index 0/],
    ["raw bytes of the wrong size", { w: { dtype: "F32", shape: [2], bytes: new Uint8Array(4) } }, /needs 8 bytes; 4 given/],
    ["an unsupported dtype", { w: { dtype: "F64" as "F32", shape: [1], data: [1] } }, /unsupported dtype F64/],
    ["a negative dimension", { w: { dtype: "F32", shape: [-1], data: [] } }, /shape must be non-negative integers/],
  ])("refuses %s", (_what, entries, message) => {
    const e = thrown(() => encodeSafetensors(entries, undefined, "out.st"));
    expect(e.message).toMatch(message);
    expect(e.tensor).toBe("w");
  });
});
