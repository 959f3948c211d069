// Writes one safetensors file tensor by tensor: the header is laid out from the shapes alone
// (the same layout as encodeSafetensors: tensors sorted by name, data 8-byte aligned), then each
// tensor's values are produced, converted to the file's float dtype and written, and let go
// before the next, so memory holds one tensor, not the file. Used for checkpoint shards.

import { closeSync, openSync, writeSync } from "node:fs";
import { DTYPE_SIZE, encodeFloats } from "./dtype.js";
import { SafetensorsError } from "./errors.js";

export interface StreamedTensor {
  name: string;
  shape: readonly number[];
  /** f32 values, asked for once, when the tensor is written. */
  values(): Float32Array;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Writes `tensors` to `path` (created or truncated) in `dtype`; returns the data bytes written. */
export function writeSafetensorsStreamed(path: string, tensors: readonly StreamedTensor[], dtype: "F32" | "F16" | "BF16", metadata?: Record<string, string>, label = path): number {
  const list = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header["__metadata__"] = Object.fromEntries(Object.keys(metadata).sort().map((k) => [k, metadata[k]!]));
  let offset = 0;
  for (const t of list) {
    const bytes = numel(t.shape) * DTYPE_SIZE[dtype];
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const head = new Uint8Array(8 + headerLen);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.byteLength);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, head);
    for (const t of list) {
      const values = t.values();
      if (values.length !== numel(t.shape)) throw new SafetensorsError(label, `${label}: tensor ${JSON.stringify(t.name)}: ${values.length} values for shape [${t.shape.join(", ")}]`, t.name);
      const bytes = encodeFloats(dtype, values);
      for (let at = 0; at < bytes.byteLength; ) at += writeSync(fd, bytes, at, bytes.byteLength - at);
    }
  } finally {
    closeSync(fd);
  }
  return offset;
}
