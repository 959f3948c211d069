// The shape classes the tuning table is keyed by: a dense product by its row class (the plan's
// power-of-two capacity: 1, 2–4, 5–8, 9–64, 65+) × its K class, and the grouped expert GEMM by its
// K class. N is not part of a class: the callers of gemm-shape.ts do not pass it, and a column
// count changes how many workgroups run, not which per-workgroup shape streams K fastest.

/** K (the reduced length) up to this many elements is the `small` class; above, `large`. */
export const K_SMALL_MAX = 1024;

export const ROW_CLASSES = ["1", "2-4", "5-8", "9-64", "65+"] as const;
export type RowClass = (typeof ROW_CLASSES)[number];
export const K_CLASSES = ["small", "large"] as const;
export type KClass = (typeof K_CLASSES)[number];

/** A class name as stored in the table: `dense/r1/k-small`, `grouped/k-large`. */
export type ShapeClass = string;

export function rowClass(rows: number): RowClass {
  if (rows <= 1) return "1";
  if (rows <= 4) return "2-4";
  if (rows <= 8) return "5-8";
  return rows <= 64 ? "9-64" : "65+";
}

export const kClass = (K: number): KClass => (K <= K_SMALL_MAX ? "small" : "large");

export const denseClass = (rows: number, K: number): ShapeClass => denseClassOf(rowClass(rows), kClass(K));
export const denseClassOf = (r: RowClass, k: KClass): ShapeClass => `dense/r${r}/k-${k}`;
export const groupedClass = (K: number): ShapeClass => groupedClassOf(kClass(K));
export const groupedClassOf = (k: KClass): ShapeClass => `grouped/k-${k}`;

/** Every class the search measures, dense first. */
export function allClasses(): ShapeClass[] {
  return [...ROW_CLASSES.flatMap((r) => K_CLASSES.map((k) => denseClassOf(r, k))), ...K_CLASSES.map(groupedClassOf)];
}

/** The largest row count of a row class that a plan's capacity (a power of two) reaches. */
export function classRows(r: RowClass): number {
  return { "1": 1, "2-4": 4, "5-8": 8, "9-64": 64, "65+": 256 }[r];
}
