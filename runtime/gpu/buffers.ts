// Buffer helpers: sizes padded to 4 bytes (WebGPU copies and f16 arrays need it), element types
// per storage dtype, uploads that convert to f16 on the host.

import { toF16 } from "./f16.js";

export type StorageDtype = "f32" | "f16";

export const bytesPer = (dtype: StorageDtype): number => (dtype === "f16" ? 2 : 4);

export function padTo4(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

export function createBuffer(device: GPUDevice, bytes: number, usage: number, label: string): GPUBuffer {
  return device.createBuffer({ size: padTo4(bytes), usage, label });
}

export const STORAGE_USAGE = (): number =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** Uploads f32 data in the given storage dtype into a new storage buffer. */
export function uploadFloats(device: GPUDevice, data: Float32Array, dtype: StorageDtype, label: string): GPUBuffer {
  const buf = createBuffer(device, data.length * bytesPer(dtype), STORAGE_USAGE(), label);
  writeFloats(device, buf, 0, data, dtype);
  return buf;
}

export function writeFloats(device: GPUDevice, buf: GPUBuffer, byteOffset: number, data: Float32Array, dtype: StorageDtype): void {
  const view: ArrayBufferView = dtype === "f16" ? toF16(data) : data;
  const bytes = view.byteLength;
  if (bytes === 0) return;
  if (bytes % 4 === 0) {
    device.queue.writeBuffer(buf, byteOffset, view.buffer, view.byteOffset, bytes);
  } else {
    // writeBuffer needs a multiple of 4 bytes: copy into a padded staging array.
    const padded = new Uint8Array(padTo4(bytes));
    padded.set(new Uint8Array(view.buffer, view.byteOffset, bytes));
    device.queue.writeBuffer(buf, byteOffset, padded);
  }
}

export function uniformBuffer(device: GPUDevice, words: ArrayLike<number>, label: string): GPUBuffer {
  // Uniform structs are padded to 16 bytes.
  const size = Math.max(16, Math.ceil(words.length / 4) * 16);
  const buf = device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label });
  const data = new Uint32Array(size / 4);
  data.set(Array.from(words));
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}
