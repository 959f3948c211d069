// Non-finite values (NaN, ±Inf) in a tensor, counted and described by tensor: a NaN score is never
// selected by a router and NaN weights can give an all-zero output with exit 0, so moec run says
// where they are instead of passing them on silently.

export interface NonFiniteCount {
  nan: number;
  posInf: number;
  negInf: number;
  /** The flat index of the first one. */
  first: number;
}

/** The non-finite values of `data`, or undefined when every value is finite. */
export function countNonFinite(data: ArrayLike<number>): NonFiniteCount | undefined {
  let nan = 0, posInf = 0, negInf = 0, first = -1;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x === 0) continue; // finite (NaN - NaN and Inf - Inf are NaN)
    if (first < 0) first = i;
    if (x !== x) nan++;
    else if (x > 0) posInf++;
    else negInf++;
  }
  return first < 0 ? undefined : { nan, posInf, negInf, first };
}

/** "`x` has 3 non-finite values (2 NaN, 1 +Inf), the first at [1, 4]": rows of `width` values. */
export function describeNonFinite(name: string, n: NonFiniteCount, width?: number): string {
  const total = n.nan + n.posInf + n.negInf;
  const kinds = [[n.nan, "NaN"], [n.posInf, "+Inf"], [n.negInf, "-Inf"]].filter(([c]) => (c as number) > 0).map(([c, k]) => `${c} ${k}`).join(", ");
  const at = width && width > 0 ? `[${Math.floor(n.first / width)}, ${n.first % width}]` : `[${n.first}]`;
  return `\`${name}\` has ${total} non-finite value${total === 1 ? "" : "s"} (${kinds}), the first at ${at}`;
}
