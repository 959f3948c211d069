// The Python helpers of the attention blocks (LANGUAGE.md §13.0), ported from the float64
// reference (runtime/reference/ref-attention.ts) and its rotary tables (compiler/ir/rope.ts):
// YaRN's frequencies and mscale as Hugging Face's _compute_yarn_parameters, rotary `half`
// (rotate_half) and `interleaved` (pairs 2i, 2i+1) on the first r values of each head, GQA
// (query head h reads kv head h // (H / KV)), causal and sliding-window masks, softmax in at least
// f32, and MLA with DeepSeek's row orders and mscale² softmax factor.

export const PRELUDE_ATTENTION = String.raw`
# ---- rotary positions and attention (LANGUAGE.md §13.0) ----


def yarn_mscale(scale, mscale=1.0):
    """get_mscale of Hugging Face and DeepSeek: 0.1 · mscale · ln(scale) + 1 above scale 1."""
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def rope_tables(theta, dim, yarn=None):
    """Inverse frequencies θ^(−2i/r), i < r/2 (YaRN-blended when given), and cos/sin's factor."""
    n = dim // 2
    extrapolation = [1.0 / math.pow(theta, (2 * i) / dim) for i in range(n)]
    if yarn is None:
        return extrapolation, 1.0
    factor, original = yarn["factor"], yarn["original"]
    interpolation = [f / factor for f in extrapolation]

    def correction_dim(rotations):
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(theta))

    low = max(math.floor(correction_dim(yarn["beta_fast"])), 0)
    high = min(math.ceil(correction_dim(yarn["beta_slow"])), dim - 1)
    if low == high:
        high += 0.001
    inv_freq = []
    for i in range(n):
        ramp = min(1.0, max(0.0, (i - low) / (high - low)))
        keep = 1 - ramp
        inv_freq.append(interpolation[i] * (1 - keep) + extrapolation[i] * keep)
    if yarn["mscale"] and yarn["mscale_all_dim"]:
        scale = yarn_mscale(factor, yarn["mscale"]) / yarn_mscale(factor, yarn["mscale_all_dim"])
    else:
        scale = yarn_mscale(factor)
    return inv_freq, scale


def apply_rope(x, kind, theta, dim, yarn=None):
    """Rotary positions on the first dim values of each head of x [T, heads, hd], t = 0, 1, …"""
    if kind == "none" or dim == 0:
        return x
    inv_freq, scale = rope_tables(theta, dim, yarn)
    n = len(inv_freq)
    positions = torch.arange(x.shape[0], dtype=torch.float64)
    angles = positions[:, None] * torch.tensor(inv_freq, dtype=torch.float64)[None, :]
    cos = (torch.cos(angles) * scale).to(x.dtype).to(x.device)[:, None, :]
    sin = (torch.sin(angles) * scale).to(x.dtype).to(x.device)[:, None, :]
    if kind == "half":
        a, b = x[..., :n], x[..., n : 2 * n]
        rotated = torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)
    else:
        a, b = x[..., 0 : 2 * n : 2], x[..., 1 : 2 * n : 2]
        rotated = torch.stack([a * cos - b * sin, b * cos + a * sin], dim=-1).flatten(-2)
    return torch.cat([rotated, x[..., 2 * n :]], dim=-1)


def attend(scores, window):
    """Causal softmax over s ≤ t (and s > t − window when window > 0) of scores [H, T, T]."""
    T = scores.shape[-1]
    t = torch.arange(T, device=scores.device)
    visible = t[None, :] <= t[:, None]
    if window > 0:
        visible = visible & (t[None, :] > t[:, None] - window)
    scores = scores.masked_fill(~visible, float("-inf"))
    low = scores.dtype in (torch.float16, torch.bfloat16)
    return torch.softmax(scores.float() if low else scores, dim=-1).to(scores.dtype)


def peer_attention(z0, peers, w, heads):
    """Mixture of Thoughts (§11.1): the primary's latent z0 [T, ds] queries every peer's [T, ds].

    Head m uses rows [m·hd, (m+1)·hd), hd = ds / heads, of q = wq·z0, k_j = wk·z_j, v_j = wv·z_j;
    scores scaled by 1/√hd; ONE softmax per head and position t over every (peer, s ≤ t); then wo.
    """
    T, ds = z0.shape
    hd = ds // heads
    q = F.linear(z0, w["wq"]).view(T, heads, hd)
    k = torch.cat([F.linear(z, w["wk"]).view(T, heads, hd) for z in peers], dim=0)
    v = torch.cat([F.linear(z, w["wv"]).view(T, heads, hd) for z in peers], dim=0)
    # keys: peer 0's T rows, then peer 1's, …
    scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd)
    t = torch.arange(T, device=z0.device)
    position = t.repeat(len(peers))
    scores = scores.masked_fill(~(position[None, :] <= t[:, None]), float("-inf"))
    low = scores.dtype in (torch.float16, torch.bfloat16)
    p = torch.softmax(scores.float() if low else scores, dim=-1).to(scores.dtype)
    out = torch.einsum("hts,shd->thd", p, v).reshape(T, ds)
    return F.linear(out, w["wo"])


def attention(x, w, heads, kv_heads, head_dim, qk_norm, qk_eps, rope, window):
    """Causal self-attention with grouped-query heads; w holds wq, wk, wv, wo (bq…, q_norm…)."""
    T = x.shape[0]
    q = F.linear(x, w["wq"], w.get("bq"))
    k = F.linear(x, w["wk"], w.get("bk"))
    v = F.linear(x, w["wv"], w.get("bv"))
    if qk_norm == "full":
        q, k = rms_norm(q, w["q_norm"], qk_eps), rms_norm(k, w["k_norm"], qk_eps)
    q = q.view(T, heads, head_dim)
    k = k.view(T, kv_heads, head_dim)
    v = v.view(T, kv_heads, head_dim)
    if qk_norm == "head":
        q, k = rms_norm(q, w["q_norm"], qk_eps), rms_norm(k, w["k_norm"], qk_eps)
    q = apply_rope(q, *rope)
    k = apply_rope(k, *rope)
    group = heads // kv_heads
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    p = attend(torch.einsum("thd,shd->hts", q, k) / math.sqrt(head_dim), window)
    out = torch.einsum("hts,shd->thd", p, v).reshape(T, heads * head_dim)
    return F.linear(out, w["wo"])


def mla(x, w, heads, q_rank, kv_rank, nope_dim, rope_dim, v_dim, norm_eps, rope):
    """Multi-head latent attention (DeepSeek-V2/V3) with DeepSeek's row orders."""
    T = x.shape[0]
    if q_rank == 0:
        q = F.linear(x, w["wq"])
    else:
        q = F.linear(rms_norm(F.linear(x, w["wq_a"]), w["q_norm"], norm_eps), w["wq_b"])
    q = q.view(T, heads, nope_dim + rope_dim)
    q_nope, q_pe = q[..., :nope_dim], q[..., nope_dim:]
    ckv = F.linear(x, w["wkv_a"])
    latent, k_pe = ckv[:, :kv_rank], ckv[:, kv_rank:]
    kv = F.linear(rms_norm(latent, w["kv_norm"], norm_eps), w["wkv_b"])
    kv = kv.view(T, heads, nope_dim + v_dim)
    k_nope, v = kv[..., :nope_dim], kv[..., nope_dim:]
    q_pe = apply_rope(q_pe, *rope)
    k_pe = apply_rope(k_pe[:, None, :], *rope)
    kind, theta, dim, yarn = rope
    scale = 1.0 / math.sqrt(nope_dim + rope_dim)
    if yarn is not None and yarn["mscale_all_dim"]:
        scale *= yarn_mscale(yarn["factor"], yarn["mscale_all_dim"]) ** 2
    scores = torch.einsum("thd,shd->hts", q_nope, k_nope)
    scores = scores + torch.einsum("thd,sd->hts", q_pe, k_pe[:, 0, :])
    p = attend(scores * scale, 0)
    out = torch.einsum("hts,shd->thd", p, v).reshape(T, heads * v_dim)
    return F.linear(out, w["wo"])
`.trimStart();
