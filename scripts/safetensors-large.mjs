#!/usr/bin/env node
// Writes a safetensors file past 4 GiB with the streaming writer and checks it: a 4 GiB + 64 byte
// F32 tensor (a hole of zeros, then 16 known values) followed by a small tensor whose data starts
// past 2^32. The holes keep the file sparse, so it needs a few KiB of RAM and almost no disk.
// Checked independently of the writer: the header parsed by hand, the bytes read at their offsets,
// and the reader's lazy open (which validates every offset against the file's size).
// Usage: node scripts/safetensors-large.mjs [DIR]   (needs `npx tsc -b` first)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openSafetensors, writeSafetensorsStream } from "../dist/runtime/safetensors/index.js";

const dir = fs.mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), "moec-large-"));
const file = path.join(dir, "large.safetensors");
const FOUR_GIB = 2 ** 32;
const tail = new Float32Array(16).map((_, i) => i + 1);
const small = new Float32Array([-1, 2.5, 1e-3, 7]);
const t0 = performance.now();
try {
  writeSafetensorsStream(file, new Map([
    ["a_big", { dtype: "F32", shape: [FOUR_GIB / 4 + 16], chunks: () => [{ zeros: FOUR_GIB }, new Uint8Array(tail.buffer)] }],
    ["b_small", { dtype: "F32", shape: [4], chunks: () => [new Uint8Array(small.buffer)] }],
  ]));
  const ms = performance.now() - t0;
  const fd = fs.openSync(file, "r");
  const prefix = Buffer.alloc(8);
  fs.readSync(fd, prefix, 0, 8, 0);
  const headerLen = Number(prefix.readBigUInt64LE(0));
  const headerBuf = Buffer.alloc(headerLen);
  fs.readSync(fd, headerBuf, 0, headerLen, 8);
  const header = JSON.parse(headerBuf.toString("utf8"));
  const dataStart = 8 + headerLen;
  const expectRanges = { a_big: [0, FOUR_GIB + 64], b_small: [FOUR_GIB + 64, FOUR_GIB + 80] };
  for (const [name, range] of Object.entries(expectRanges)) {
    if (JSON.stringify(header[name].data_offsets) !== JSON.stringify(range)) throw new Error(`${name}: data_offsets ${JSON.stringify(header[name].data_offsets)}, expected ${JSON.stringify(range)}`);
  }
  const size = fs.fstatSync(fd).size;
  if (size !== dataStart + FOUR_GIB + 80) throw new Error(`file size ${size}, expected ${dataStart + FOUR_GIB + 80}`);
  const read = (at, n) => { const b = Buffer.alloc(n); fs.readSync(fd, b, 0, n, at); return new Float32Array(b.buffer, b.byteOffset, n / 4); };
  const same = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!same(read(dataStart, 16), new Float32Array(4))) throw new Error("the hole at the start does not read as zeros");
  if (!same(read(dataStart + FOUR_GIB, 64), tail)) throw new Error("the values after 4 GiB differ");
  if (!same(read(dataStart + FOUR_GIB + 64, 16), small)) throw new Error("the small tensor after 4 GiB differs");
  fs.closeSync(fd);
  const lazy = openSafetensors(file);
  if (!same(new Float32Array(lazy.tensors.get("b_small").read().slice().buffer), small)) throw new Error("the reader's b_small differs");
  const onDisk = fs.statSync(file).blocks * 512;
  console.log(`ok: ${(size / 2 ** 30).toFixed(3)} GiB file written in ${ms.toFixed(0)} ms (${(onDisk / 1024).toFixed(0)} KiB on disk), offsets past 2^32 exact, values read back at their offsets and by the reader`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
