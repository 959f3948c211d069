// A checkpoint directory whose config.json has a `quantization_config` (LANGUAGE.md §13.3): its
// quantized linear weights, seen as the F32 `PREFIX.weight` tensors the family map names, each
// dequantized on the host when the upload reads it (quant/: gptq.ts, awq.ts, fp8-e4m3.ts).
//   gptq  `PREFIX.qweight` I32 [in/8, out], `.qzeros` I32 [groups, out/8], `.scales` [groups, out],
//         `.g_idx` I32 [in] (optional); bits 4; checkpoint_format "gptq" (zeros stored − 1) or
//         "gptq_v2" (stored as they are); group_size −1 means one group.
//   awq   `PREFIX.qweight` I32 [in, out/8], `.qzeros` I32 [groups, out/8], `.scales` [groups, out];
//         bits 4, version "gemm", zero_point true.
//   fp8   `PREFIX.weight` F8_E4M3 [out, in] with `PREFIX.weight_scale_inv` [⌈out/br⌉, ⌈in/bc⌉],
//         fmt e4m3, weight_block_size [br, bc] (DeepSeek-V3: [128, 128]).
// Every problem (an unknown method or setting, a missing part, a wrong shape or dtype, a g_idx
// out of range) names config.json's field or the tensor and its shard.

import { decodeFloats, decodeI32, isFloatDtype } from "../safetensors/dtype.js";
import type { LazySafetensorsTensor } from "../safetensors/reader.js";
import type { BindError } from "./bind-messages.js";
import type { LazyTensorLike } from "./bind-weights.js";
import type { CheckpointDir } from "./open-checkpoint.js";
import { dequantizeAwq } from "./quant/awq.js";
import { dequantizeFp8Blocks, FP8_BLOCK, fp8RowScales } from "./quant/fp8-e4m3.js";
import { dequantizeGptq } from "./quant/gptq.js";

export const QUANT_METHODS = ["gptq", "awq", "fp8"] as const;

type View = { ok: true; dir: CheckpointDir; method?: string } | { ok: false; errors: BindError[] };

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;
const asBytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const floats = (t: LazySafetensorsTensor) => decodeFloats(t.dtype as "F32" | "F16" | "BF16", t.read());

/** The directory with its quantized weights replaced by dequantizing F32 views (unchanged without a quantization_config). */
export function dequantizedCheckpoint(dir: CheckpointDir): View {
  const q = dir.config?.["quantization_config"];
  if (q === undefined || q === null) return { ok: true, dir };
  const where = `${dir.label}/config.json: quantization_config`;
  if (typeof q !== "object" || Array.isArray(q)) return fail(`${where} must be an object; found ${JSON.stringify(q)}.`);
  const cfg = q as Record<string, unknown>;
  const method = cfg["quant_method"];
  if (method === "gptq" || method === "awq") return int4(dir, cfg, method, where);
  if (method === "fp8") return fp8(dir, cfg, where);
  return fail(`${where}.quant_method ${JSON.stringify(method)} cannot be read: moec reads ${QUANT_METHODS.join(", ")} checkpoints (and GGUF files).`);
}

function fail(message: string, tensor = ""): View {
  return { ok: false, errors: [{ tensor, message }] };
}

function int4(dir: CheckpointDir, cfg: Record<string, unknown>, method: "gptq" | "awq", where: string): View {
  const bits = cfg["bits"] ?? cfg["w_bit"];
  if (bits !== 4) return fail(`${where}.bits is ${bits === undefined ? "absent" : JSON.stringify(bits)}; moec reads 4-bit ${method} weights only.`);
  const gsRaw = cfg["group_size"] ?? cfg["q_group_size"];
  if (typeof gsRaw !== "number" || !Number.isInteger(gsRaw) || (gsRaw < 1 && gsRaw !== -1)) return fail(`${where}.group_size must be a positive integer (or −1 for one group); found ${JSON.stringify(gsRaw)}.`);
  let zeroOffset = 1;
  if (method === "gptq") {
    const format = cfg["checkpoint_format"] ?? "gptq";
    if (format !== "gptq" && format !== "gptq_v2") return fail(`${where}.checkpoint_format ${JSON.stringify(format)} is not one moec reads (gptq, gptq_v2).`);
    zeroOffset = format === "gptq" ? 1 : 0;
  } else {
    const version = String(cfg["version"] ?? "gemm").toLowerCase();
    if (version !== "gemm") return fail(`${where}.version ${JSON.stringify(cfg["version"])}: moec reads AutoAWQ's GEMM packing only.`);
    if (cfg["zero_point"] === false) return fail(`${where}.zero_point false: moec reads AWQ weights with zero points only.`);
  }
  const errors: BindError[] = [];
  const tensors = new Map(dir.tensors);
  for (const [name, qweight] of dir.tensors) {
    const m = /^(.*)\.qweight$/.exec(name);
    if (!m) continue;
    const prefix = m[1]!;
    const part = (p: string) => dir.tensors.get(`${prefix}.${p}`);
    const bad = (tensor: string, message: string) => errors.push({ tensor, message });
    const [qzeros, scales, gIdxT] = [part("qzeros"), part("scales"), method === "gptq" ? part("g_idx") : undefined];
    if (!qzeros || !scales) {
      bad(name, `${qweight.file}: ${name} has no ${!qzeros ? `${prefix}.qzeros` : `${prefix}.scales`} beside it; a ${method} linear layer stores qweight, qzeros and scales.`);
      continue;
    }
    if (dir.tensors.has(`${prefix}.weight`)) {
      bad(`${prefix}.weight`, `${qweight.file}: ${prefix} has both a float weight and a ${method} qweight.`);
      continue;
    }
    for (const [t, want] of [[qweight, "I32"], [qzeros, "I32"], ...(gIdxT ? [[gIdxT, "I32"] as const] : [])] as const) {
      if (t.dtype !== want) bad(t.name, `Tensor ${t.name} in ${t.file} has dtype ${t.dtype}; ${method} stores it as ${want}.`);
    }
    if (!isFloatDtype(scales.dtype)) bad(scales.name, `Tensor ${scales.name} in ${scales.file} has dtype ${scales.dtype}; scales are F16, BF16 or F32.`);
    if (qweight.shape.length !== 2 || scales.shape.length !== 2 || qzeros.shape.length !== 2) {
      bad(name, `${qweight.file}: ${prefix}'s qweight ${shapeText(qweight.shape)}, qzeros ${shapeText(qzeros.shape)} and scales ${shapeText(scales.shape)} must all be matrices.`);
      continue;
    }
    const [groups, N] = scales.shape as [number, number];
    const K = method === "gptq" ? qweight.shape[0]! * 8 : qweight.shape[0]!;
    const gs = gsRaw === -1 ? K : gsRaw;
    const wantQ = method === "gptq" ? [K / 8, N] : [K, N / 8];
    const wantGroups = Math.ceil(K / gs);
    if (N % 8 !== 0 || qweight.shape.join() !== wantQ.join() || qzeros.shape.join() !== [wantGroups, N / 8].join() || groups !== wantGroups) {
      bad(name, `${qweight.file}: ${prefix} does not fit ${method}'s layout at group_size ${gsRaw}: qweight ${shapeText(qweight.shape)} (expected ${shapeText(wantQ)}), qzeros ${shapeText(qzeros.shape)} (expected ${shapeText([wantGroups, N / 8])}), scales ${shapeText(scales.shape)} (expected ${shapeText([wantGroups, N])}).`);
      continue;
    }
    let gIdx: Int32Array | undefined;
    if (gIdxT) {
      if (gIdxT.shape.join() !== String(K)) {
        bad(gIdxT.name, `Tensor ${gIdxT.name} in ${gIdxT.file} has shape ${shapeText(gIdxT.shape)}; g_idx has one group per input, [${K}].`);
        continue;
      }
      gIdx = decodeI32(gIdxT.read());
      const outside = gIdx.findIndex((g) => g < 0 || g >= groups);
      if (outside >= 0) {
        bad(gIdxT.name, `Tensor ${gIdxT.name} in ${gIdxT.file}: g_idx[${outside}] = ${gIdx[outside]} is not a group (0…${groups - 1}).`);
        continue;
      }
    }
    if (errors.length) continue;
    const groupOf = gIdx ?? Int32Array.from({ length: K }, (_, k) => Math.floor(k / gs));
    const read = () => {
      const common = { inFeatures: K, outFeatures: N, qweight: decodeI32(qweight.read()), qzeros: decodeI32(qzeros.read()), scales: floats(scales) };
      return method === "gptq" ? dequantizeGptq({ ...common, gIdx: groupOf, zeroOffset }) : dequantizeAwq({ ...common, groupSize: gs });
    };
    for (const p of ["qweight", "qzeros", "scales", "g_idx"]) tensors.delete(`${prefix}.${p}`);
    tensors.set(`${prefix}.weight`, { name: `${prefix}.weight`, dtype: "F32", shape: [N, K], byteLength: 4 * N * K, file: qweight.file, read: () => asBytes(read()) });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, dir: { ...dir, tensors }, method };
}

function fp8(dir: CheckpointDir, cfg: Record<string, unknown>, where: string): View {
  const fmt = cfg["fmt"] ?? "e4m3";
  if (fmt !== "e4m3") return fail(`${where}.fmt ${JSON.stringify(fmt)}: moec reads FP8 E4M3 (e4m3fn) weights only.`);
  const block = cfg["weight_block_size"];
  if (!Array.isArray(block) || block.length !== 2 || !block.every((b) => typeof b === "number" && Number.isInteger(b) && b >= 1)) {
    return fail(`${where}.weight_block_size must be [rows, cols] of positive integers (DeepSeek-V3: [128, 128]); found ${JSON.stringify(block)}.`);
  }
  const [br, bc] = block as [number, number];
  const errors: BindError[] = [];
  const tensors = new Map(dir.tensors);
  for (const [name, w] of dir.tensors) {
    const scaleName = `${name}_scale_inv`;
    const s = dir.tensors.get(scaleName);
    if (w.dtype !== "F8_E4M3") {
      if (/_scale_inv$/.test(name) && !dir.tensors.has(name.replace(/_scale_inv$/, ""))) errors.push({ tensor: name, message: `${w.file}: ${name} scales a weight ${name.replace(/_scale_inv$/, "")} that the checkpoint does not hold.` });
      continue;
    }
    if (!s) {
      errors.push({ tensor: name, message: `${w.file}: ${name} is F8_E4M3 but has no ${scaleName} beside it (block-scaled FP8 stores one per weight).` });
      continue;
    }
    if (w.shape.length !== 2) {
      errors.push({ tensor: name, message: `Tensor ${name} in ${w.file} has shape ${shapeText(w.shape)}; an FP8 weight is a matrix [out, in].` });
      continue;
    }
    const [rows, cols] = w.shape as [number, number];
    const want = [Math.ceil(rows / br), Math.ceil(cols / bc)];
    if (!isFloatDtype(s.dtype) || s.shape.join() !== want.join()) {
      errors.push({ tensor: scaleName, message: `Tensor ${scaleName} in ${s.file} is ${s.dtype} ${shapeText(s.shape)}; the block scales of ${name} ${shapeText(w.shape)} at weight_block_size [${br}, ${bc}] are F32, BF16 or F16 ${shapeText(want)}.` });
      continue;
    }
    tensors.delete(scaleName);
    const view: LazySafetensorsTensor & Pick<LazyTensorLike, "fp8"> = { name, dtype: "F32", shape: [rows, cols], byteLength: 4 * rows * cols, file: w.file, read: () => asBytes(dequantizeFp8Blocks(w.read(), rows, cols, floats(s), [br, bc])) };
    // The bytes and scales as they are, for a device that keeps FP8 (weightFormat fp8_e4m3): its
    // scales are per row and 128-column block, so any row block size is replicated exactly; other
    // column blocks are not its layout, and such a weight is re-quantized from the f32 view instead.
    if (bc === FP8_BLOCK) view.fp8 = () => ({ rows, cols, bytes: w.read(), rowScales: fp8RowScales(floats(s), rows, cols, br) });
    tensors.set(name, view);
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, dir: { ...dir, tensors }, method: "fp8" };
}
