// Programs for the `moec export onnx` tests beyond the family models of tiny-families.ts.

/** A window, interleaved rotary, YaRN (its frequencies and cos/sin factor), layer norm, q/k/v
 *  biases, a geglu dense FFN and gelu, relu experts with biases routed `topk |> softmax |> scale`
 *  by a biased router, a shared pool of three with biases. */
export const FEATURES = `layer block(x: [T, D], D = 32, N = 4, I = 8, K = 2) {
  experts E[N] = ffn(hidden = I, act = relu, bias = true)
  router r = linear(bias = true) |> topk(K) |> softmax |> scale(1.5)
  shared S[3] = ffn(hidden = 4, bias = true)
  return moe(x, r, E) + S(x)
}
model feat(tokens: [T], V = 48, D = 32, H = 4, KV = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let n0 = layernorm(embed_tokens, eps = 1e-5)
  let attn = attention(n0, heads = H, kv_heads = KV, bias = true, rope = interleaved, window = 3, rope_theta = 500.0)
  let attn2 = attention(n0, heads = H, kv_heads = H, rope_scaling = yarn, rope_factor = 4.0, rope_original = 4, yarn_mscale = 1.0, yarn_mscale_all_dim = 0.5)
  let h = embed_tokens + attn + attn2
  let n1 = rmsnorm(h, eps = 1e-5)
  let mlp = ffn(n1, hidden = 24, act = geglu)
  h = h + gelu(mlp)
  let n2 = rmsnorm(h, eps = 1e-5)
  let b = block(n2)
  h = h - b * 0.5
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;
