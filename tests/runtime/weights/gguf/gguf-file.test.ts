// The GGUF container: a file built byte by byte in this test (independently of moec's writer)
// read back with its dims reversed; moec's writer read by @huggingface/gguf's parser and by
// openGguf (metadata, tensor infos, block bytes exactly); bad files each give a named GgufError.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gguf } from "@huggingface/gguf";
import { afterAll, describe, expect, it } from "vitest";
import { GgufError } from "../../../../runtime/weights/gguf/gguf-error.js";
import { openGguf } from "../../../../runtime/weights/gguf/gguf-file.js";
import { writeGguf, type GgufValue } from "../../../../runtime/weights/gguf/gguf-writer.js";
import { encodeQ4_0 } from "../../../../runtime/weights/quant/q4_0.js";
import { encodeQ4K } from "../../../../runtime/weights/quant/q4_k.js";
import { encodeQ8_0 } from "../../../../runtime/weights/quant/q8_0.js";
import { normals, rng } from "../../../helpers/random.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-gguf-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const file = (bytes: Uint8Array) => {
  const p = path.join(root, `f${n++}.gguf`);
  writeFileSync(p, bytes);
  return p;
};

/** A little-endian byte builder for hand-made files. */
class Bytes {
  out: number[] = [];
  u32(v: number) { for (let i = 0; i < 4; i++) this.out.push((v >>> (8 * i)) & 0xff); return this; }
  u64(v: number | bigint) { let b = BigInt(v); for (let i = 0; i < 8; i++) { this.out.push(Number(b & 0xffn)); b >>= 8n; } return this; }
  str(s: string) { this.u64(s.length); for (const c of s) this.out.push(c.charCodeAt(0)); return this; }
  f32(v: number) { const b = new Uint8Array(new Float32Array([v]).buffer); this.out.push(...b); return this; }
  padTo(a: number) { while (this.out.length % a) this.out.push(0); return this; }
  bytes() { return Uint8Array.from(this.out); }
}

/** GGUF v3 with one KV (general.architecture = "llama") and one F32 tensor `t` of ne = [2, 3]. */
function handMadeFile(): Bytes {
  const b = new Bytes().u32(0x46554747).u32(3).u64(1).u64(1);
  b.str("general.architecture").u32(8).str("llama");
  b.str("t").u32(2).u64(2).u64(3).u32(0).u64(0); // name, n_dims, ne[0] = 2, ne[1] = 3, F32, offset 0
  b.padTo(32);
  for (let i = 0; i < 6; i++) b.f32(i + 0.5);
  return b;
}

describe("reading GGUF", () => {
  it("reverses ne into a row-major shape: ne = [2, 3] is 3 rows of 2", async () => {
    const f = await openGguf(file(handMadeFile().bytes()));
    const t = f.tensors.get("t")!;
    expect(f.architecture).toBe("llama");
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(f.readF32(t))).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    // Rows 1..2 alone (whole rows, by element offset): elements 2..5.
    expect(Array.from(f.readF32(t, 2, 4))).toEqual([2.5, 3.5, 4.5, 5.5]);
  });

  it("round-trips moec's writer: metadata, dims and block bytes, read by @huggingface/gguf and openGguf", async () => {
    const r = rng(5);
    const x8 = normals(r, 2 * 64), x4 = normals(r, 3 * 32), xk = normals(r, 256 * 2);
    const meta = new Map<string, GgufValue>([
      ["general.architecture", { type: "string", value: "qwen2" }],
      ["general.alignment", { type: "u32", value: 64 }],
      ["qwen2.attention.head_count", { type: "u32", value: 4 }],
      ["qwen2.rope.freq_base", { type: "f32", value: 10000 }],
      ["moec.flag", { type: "bool", value: true }],
      ["tokenizer.ggml.tokens", { type: "string[]", value: ["a", "b"] }],
    ]);
    const q8 = encodeQ8_0(x8), q4 = encodeQ4_0(x4), qk = encodeQ4K(xk);
    const p = path.join(root, "written.gguf");
    writeGguf(p, meta, [
      { name: "a", shape: [2, 64], type: 8, encode: () => q8 },
      { name: "b", shape: [3, 32], type: 2, encode: () => q4 },
      { name: "c", shape: [2, 256], type: 12, encode: () => qk },
      { name: "d", shape: [5], type: 0, encode: () => new Uint8Array(new Float32Array([1, 2, 3, 4, 5]).buffer) },
    ]);
    const lib = await gguf(p, { allowLocalFile: true });
    expect(lib.metadata["general.architecture"]).toBe("qwen2");
    expect(lib.metadata["qwen2.attention.head_count"]).toBe(4);
    expect(lib.metadata["moec.flag"]).toBe(true);
    expect(lib.metadata["tokenizer.ggml.tokens"]).toEqual(["a", "b"]);
    expect(lib.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype])).toEqual([["a", [64, 2], 8], ["b", [32, 3], 2], ["c", [256, 2], 12], ["d", [5], 0]]);
    // Each tensor's data offset is a multiple of the alignment, and the data starts aligned.
    for (const t of lib.tensorInfos) expect(Number(t.offset) % 64).toBe(0);
    expect(Number(lib.tensorDataOffset) % 64).toBe(0);
    const f = await openGguf(p);
    expect(f.alignment).toBe(64);
    expect(f.readBytes(f.tensors.get("a")!)).toEqual(q8);
    expect(f.readBytes(f.tensors.get("b")!)).toEqual(q4);
    expect(f.readBytes(f.tensors.get("c")!)).toEqual(qk);
    expect(Array.from(f.readF32(f.tensors.get("d")!))).toEqual([1, 2, 3, 4, 5]);
    expect(readFileSync(p).byteLength % 64).toBe(0);
  });
});

describe("bad GGUF files: a named GgufError, no crash, no huge allocation", () => {
  const expectGgufError = async (p: string, pattern: RegExp) => {
    const e = await openGguf(p).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(GgufError);
    expect((e as Error).message).toMatch(pattern);
    expect((e as Error).message).toContain(p);
  };
  it("refuses a short file, a wrong magic and an unknown version", async () => {
    await expectGgufError(file(new Uint8Array(10)), /too short/);
    await expectGgufError(file(new Bytes().u32(0x12345678).u32(3).u64(0).u64(0).bytes()), /not a GGUF file/);
    await expectGgufError(file(new Bytes().u32(0x46554747).u32(7).u64(0).u64(0).bytes()), /GGUF version 7/);
  });
  it("bounds the tensor and KV counts by the file size before parsing", async () => {
    await expectGgufError(file(new Bytes().u32(0x46554747).u32(3).u64(2n ** 60n).u64(0).bytes()), /claims 1152921504606846976 tensors/);
    await expectGgufError(file(new Bytes().u32(0x46554747).u32(3).u64(0).u64(1_000_000).bytes()), /claims 1000000 metadata entries/);
  });
  it("refuses a string length larger than the file", async () => {
    const b = new Bytes().u32(0x46554747).u32(3).u64(0).u64(1).u64(2n ** 40n).u32(0);
    b.out.push(...new Uint8Array(64));
    await expectGgufError(file(b.bytes()), /cannot be parsed/);
  });
  it("names the tensor whose type, rows, offset or extent is wrong", async () => {
    const one = (ne: number[], type: number, offset: number, data = 64) => {
      const b = new Bytes().u32(0x46554747).u32(3).u64(1).u64(0).str("w").u32(ne.length);
      for (const d of ne) b.u64(d);
      b.u32(type).u64(offset).padTo(32);
      b.out.push(...new Uint8Array(data));
      return file(b.bytes());
    };
    await expectGgufError(one([32], 3, 0), /tensor w has ggml type Q4_1, which moec cannot decode/);
    await expectGgufError(one([30], 8, 0), /tensor w has rows of 30 values \(ne\[0\]\), not whole Q8_0 blocks of 32/);
    await expectGgufError(one([8], 0, 4), /not a multiple of the alignment 32/);
    await expectGgufError(one([32, 2], 8, 0), /past the end of the file/);
    await expectGgufError(one([2 ** 31, 2 ** 31], 0, 0), /past the end of the file|cannot be parsed/);
  });
  it("every truncation of a valid file is a GgufError", async () => {
    const full = handMadeFile().bytes();
    for (let len = 0; len < full.length; len += 3) {
      const e = await openGguf(file(full.subarray(0, len))).then(() => undefined, (x: unknown) => x);
      expect(e, `truncated to ${len} bytes`).toBeInstanceOf(GgufError);
    }
  });
  it("garbled bytes give a GgufError or a file whose tensors read within their bounds", async () => {
    const r = rng(11);
    const full = handMadeFile().bytes();
    for (let trial = 0; trial < 150; trial++) {
      const g = full.slice();
      for (let k = 0; k < 3; k++) g[Math.floor(r() * g.length)] = Math.floor(r() * 256);
      try {
        const f = await openGguf(file(g));
        for (const t of f.tensors.values()) expect(f.readF32(t).length).toBe(t.shape.reduce((a, d) => a * d, 1));
      } catch (e) {
        expect(e, `trial ${trial}: ${(e as Error).message}`).toBeInstanceOf(GgufError);
      }
    }
  });
});
