// A hand-computed agents-as-experts case (LANGUAGE.md §11.1) shared by the reference and GPU
// tests: member 0 is a layer whose expert choice sees only the two tokens routed to it, so its
// capacity is max(1, ⌊0.5 · 2 / 1⌋) = 1 (over all four tokens it would be 2 and pick token 2 too).
export const AGENT_POOL_HAND = `layer pick(x: [T, D], D = 2) {
  experts E[1] = lowrank(rank = 1)
  router q = linear |> choose(capacity = 0.5)
  return moe(x, q, E)
}
layer agents(x: [T, D], D = 2) {
  experts A = [pick(), identity()]
  router r = linear |> softmax |> topk(1)
  return moe(x, r, A)
}`;

/** r.weight = I (scores are x); member 0: q.weight = [1, 0], a = [1, 0], b = [1, 1]: y = [x₀, x₀]. */
export const AGENT_HAND_WEIGHTS = new Map<string, Float32Array>([
  ["r.weight", Float32Array.from([1, 0, 0, 1])],
  ["A.0.q.weight", Float32Array.from([1, 0])],
  ["A.0.E.a", Float32Array.from([1, 0])],
  ["A.0.E.b", Float32Array.from([1, 1])],
]);

/** Tokens 0 and 2 go to member 0, tokens 1 and 3 to identity. */
export const AGENT_HAND_X = Float32Array.from([3, 0, 0, 1, 2, 0, 0, 2]);

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** Token 0: σ(3) · (q-score 3) · [3, 3]; token 1: σ(1) · [0, 1]; token 2: not chosen by member 0's
 *  expert choice (capacity 1 of its 2 tokens); token 3: σ(2) · [0, 2]. */
export const AGENT_HAND_Y = [sigmoid(3) * 9, sigmoid(3) * 9, 0, sigmoid(1), 0, 0, 0, 2 * sigmoid(2)];
