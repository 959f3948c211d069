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

/** `93.4 GiB`, `128 KiB`, `512 B` (IEC binary units). */
export function humanBytes(n: number): string {
  const units: [number, string][] = [[2 ** 40, "TiB"], [2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"]];
  for (const [v, s] of units) if (n >= v) return `${(n / v).toFixed(n / v >= 100 ? 0 : n / v >= 10 ? 1 : 2)} ${s}`;
  return `${n} B`;
}
