// Hash layers (Roller et al., 2021): every token goes to a fixed expert chosen by a hash, with
// no learned router. moec's routers see the layer input x, not token ids, so the hash is of x:
// the signs of its first min(D, 32) features, mixed with a seed. At an embedding layer equal
// token ids give equal x, so this is exactly a token-id hash; deeper in a model it hashes the
// representation (robust to rounding: only a sign change moves a token).
//
//   router r = hash(seed = 7) |> topk(1)      // score 1 for the hashed expert, 0 elsewhere
import { API_VERSION, definePlugin } from "@moec/plugin-api";

/** murmur3's 32-bit finalizer. */
export function mix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The expert of input x among E, for a seed (the float64 reference of the WGSL below). */
export function hashExpert(x, E, seed) {
  let bits = 0;
  for (let k = 0; k < Math.min(x.length, 32); k++) if (x[k] > 0) bits = (bits | (1 << k)) >>> 0;
  return mix32((bits ^ Math.imul(seed >>> 0, 0x9e3779b9)) >>> 0) % E;
}

const WGSL_HELPERS = /* wgsl */ `
fn hash_mix32(v: u32) -> u32 {
  var h = v;
  h = h ^ (h >> 16u);
  h = h * 0x85ebca6bu;
  h = h ^ (h >> 13u);
  h = h * 0xc2b2ae35u;
  h = h ^ (h >> 16u);
  return h;
}
fn hash_bits(t: u32, D: u32) -> u32 {
  var s = 0u;
  for (var k = 0u; k < min(D, 32u); k++) { if (x_at(t, k) > 0.0) { s = s | (1u << k); } }
  return s;
}
`;

export default definePlugin({
  apiVersion: API_VERSION,
  name: "hash-routing",
  version: "1.0.0",
  description: "Hash routing (Roller et al. 2021): a fixed expert per input, no router weights",
  stages: [
    {
      name: "hash",
      kind: "score",
      doc: "Score 1 for the expert hash(sign bits of x[0..32), seed) mod E, 0 for the others; no weights.",
      params: [{ name: "seed", type: "int", default: 0, min: 0, max: 65535, positional: true, doc: "hash seed (different layers, different assignments)" }],
      nonNegative: true,
      reference: {
        score(x, ctx) {
          const z = new Float64Array(ctx.E);
          z[hashExpert(x, ctx.E, ctx.args.seed)] = 1;
          return z;
        },
      },
      // The same hash in int64 (exact mod 2³²: each product is split so it never overflows).
      torch: {
        score: [
          "M = 0xFFFFFFFF",
          "",
          "def mul32(h, c):",
          "    return (h * (c & 0xFFFF) + (((h * (c >> 16)) & 0xFFFF) << 16)) & M",
          "",
          "def mix32(h):",
          "    h = h ^ (h >> 16)",
          "    h = mul32(h, 0x85EBCA6B)",
          "    h = h ^ (h >> 13)",
          "    h = mul32(h, 0xC2B2AE35)",
          "    return h ^ (h >> 16)",
          "",
          "n = min(ctx.D, 32)",
          "bits = ((x[:, :n] > 0).long() << torch.arange(n, device=x.device)).sum(dim=-1)",
          "expert = mix32(bits ^ ((int(ctx.args[\"seed\"]) * 0x9E3779B9) & M)) % ctx.E",
          "return F.one_hot(expert, ctx.E).to(x.dtype)",
        ].join("\n"),
      },
      wgsl: {
        score: {
          expr: "select(0.0, 1.0, hash_mix32(hash_bits(t, D) ^ (u32(seed) * 0x9e3779b9u)) % E == e)",
          helpers: WGSL_HELPERS,
        },
      },
    },
  ],
});
