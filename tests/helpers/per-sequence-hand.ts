// The hand-computed `per sequence` case (LANGUAGE.md §11.1) shared by the reference and GPU tests:
// two tokens that would route to different experts alone, whose mean routes to expert 0.

export const PER_SEQUENCE_HAND = (unit: string) => `layer l(x: [T, D], D = 2) {
  experts E[2] = lowrank(rank = 1)
  router r = linear |> softmax |> topk(1) ${unit}
  return moe(x, r, E)
}`;

/** r.weight = I, so the scores are the router's input itself; expert e: y = b_e · (a_e · x). */
export const HAND_WEIGHTS = new Map<string, Float32Array>([
  ["r.weight", Float32Array.from([1, 0, 0, 1])],
  ["E.a", Float32Array.from([1, 1, 0, 1])], // a_0 = [1, 1], a_1 = [0, 1]   ([N, R, D])
  ["E.b", Float32Array.from([2, 0, 0, 5])], // b_0 = [2, 0], b_1 = [0, 5]   ([N, D, R])
]);
/** Token 0 leans to expert 0, token 1 to expert 1; their mean [1.5, 0.5] to expert 0. */
export const HAND_X = Float32Array.from([3, 0, 0, 1]);
/** softmax([1.5, 0.5])_0 = 1 / (1 + e^−1). */
export const HAND_P = 1 / (1 + Math.exp(-1));
/** Expert 0 on each token's own row: b_0 · (a_0 · x_t) = [6, 0] and [2, 0], times p. */
export const HAND_Y_SEQUENCE = [6 * HAND_P, 0, 2 * HAND_P, 0];
