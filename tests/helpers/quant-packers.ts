// Test-side packers for quantized checkpoints, written straight from the AutoGPTQ / AutoAWQ pack
// loops and the float8_e4m3fn definition (independently of runtime/weights/quant): GPTQ packs 8
// inputs per int32 along the input dim and stores zeros − 1; AWQ packs 8 outputs per int32 in
// the order [0, 2, 4, 6, 1, 3, 5, 7]; e4m3fn is bias 7 with subnormals and NaN at S.1111.111.

/** AutoGPTQ: qweight[row, n] |= q[8·row + j][n] << 4j; qzeros[g, col] |= (z[g][8·col + j] − 1) << 4j. */
export function packGptq(q: number[][] /* [in][out] */, z: number[][] /* [groups][out] */): { qweight: Int32Array; qzeros: Int32Array } {
  const K = q.length, N = q[0]!.length, G = z.length;
  const qweight = new Int32Array((K / 8) * N), qzeros = new Int32Array(G * (N / 8));
  for (let row = 0; row < K / 8; row++) for (let n = 0; n < N; n++) for (let j = 0; j < 8; j++) qweight[row * N + n]! |= q[8 * row + j]![n]! << (4 * j);
  for (let g = 0; g < G; g++) for (let col = 0; col < N / 8; col++) for (let j = 0; j < 8; j++) qzeros[g * (N / 8) + col]! |= (z[g]![8 * col + j]! - 1) << (4 * j);
  return { qweight, qzeros };
}

/** AutoAWQ: for output word col, nibble i holds column 8·col + [0,2,4,6,1,3,5,7][i]. */
export function packAwq(v: number[][] /* [rows][out] */): Int32Array {
  const order = [0, 2, 4, 6, 1, 3, 5, 7];
  const R = v.length, N = v[0]!.length;
  const out = new Int32Array(R * (N / 8));
  for (let r = 0; r < R; r++) for (let col = 0; col < N / 8; col++) for (let i = 0; i < 8; i++) out[r * (N / 8) + col]! |= v[r]![8 * col + order[i]!]! << (4 * i);
  return out;
}

/** float8_e4m3fn byte → value, from the definition. */
export function e4m3(b: number): number {
  const s = b >= 128 ? -1 : 1, e = (b >> 3) & 15, m = b & 7;
  if (e === 15 && m === 7) return NaN;
  return e === 0 ? s * m * 2 ** -9 : s * (8 + m) * 2 ** (e - 10);
}

/** The e4m3fn byte nearest to x (|x| ≤ 448), by search over all non-NaN bytes. */
export function nearestE4m3(x: number): number {
  let best = 0, err = Infinity;
  for (let b = 0; b < 256; b++) {
    const v = e4m3(b);
    if (Number.isNaN(v)) continue;
    if (Math.abs(v - x) < err) [best, err] = [b, Math.abs(v - x)];
  }
  return best;
}
