// Bytes per element of the storage types a designer asks about, and weight memory at each.
// int4 is half a byte per weight; quantization scales and zero points are not included.

export const DTYPE_BYTES: Record<string, number> = { f32: 4, f16: 2, bf16: 2, fp8: 1, int8: 1, int4: 0.5 };

export const WEIGHT_DTYPES = ["f32", "f16", "bf16", "int8", "int4"] as const;

export function dtypeBytes(name: string): number | undefined {
  return DTYPE_BYTES[name.toLowerCase()];
}

export function weightMemory(params: number): Record<(typeof WEIGHT_DTYPES)[number], number> {
  return Object.fromEntries(WEIGHT_DTYPES.map((d) => [d, params * DTYPE_BYTES[d]!])) as Record<(typeof WEIGHT_DTYPES)[number], number>;
}

/** Device bytes per weight of `--weight-format`'s block formats, scales included (the device form
 *  of runtime/weights/quant/gpu-blocks.ts, which the compiler does not import): Q8_0 34 and Q4_0
 *  18 bytes per 32 values; FP8 E4M3 a byte a value and an f32 scale per 128. */
export const BLOCK_FORMAT_BYTES = { q8_0: 34 / 32, q4_0: 18 / 32, fp8_e4m3: 1 + 4 / 128 } as const;

export type BlockFormatName = keyof typeof BLOCK_FORMAT_BYTES;

/** Weight memory if every weight were kept in each block format. */
export function blockMemory(params: number): Record<BlockFormatName, number> {
  return Object.fromEntries(Object.entries(BLOCK_FORMAT_BYTES).map(([f, b]) => [f, params * b])) as Record<BlockFormatName, number>;
}

/** `93.4 GiB`, `128 KiB`, `512 B` (IEC binary units). */
export function humanBytes(n: number): string {
  const units: [number, string][] = [[2 ** 40, "TiB"], [2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"]];
  for (const [v, s] of units) if (n >= v) return `${(n / v).toFixed(n / v >= 100 ? 0 : n / v >= 10 ? 1 : 2)} ${s}`;
  return `${n} B`;
}
