"""Hugging Face's attention forward, re-typed in plain PyTorch (no transformers, no safetensors),
as the independent side of tests/runtime/reference/torch-crosscheck.test.ts.

It follows the transformers modeling code step by step, in float64 instead of the checkpoints'
dtypes:
  - rotary tables: modeling_rope_utils.py `_compute_default_rope_parameters` and
    `_compute_yarn_parameters` (attention factor, find_correction_range with truncation,
    linear_ramp_factor), then the RotaryEmbedding forward: cos/sin of cat(freqs, freqs) times the
    attention factor;
  - Llama-family attention (LlamaAttention / Qwen2 with bias / Qwen3 with per-head q_norm, k_norm /
    OLMoE with q_norm, k_norm over the whole projection): q_proj, k_proj, v_proj, the norms,
    apply_rotary_pos_emb with `rotate_half` on the first rotary_dim values (partial rotary as the
    models with partial_rotary_factor do), GLM's `rotate_half_llm` with repeat_interleave'd cos/sin
    for interleaved rotary, repeat_kv, eager_attention_forward, o_proj;
  - masks: masking_utils.py `causal_mask_function` and, with a window, `sliding_window_overlay`
    (kv_idx > q_idx - sliding_window) and-ed with it;
  - DeepSeek-V3 MLA: modeling_deepseek_v3.py `DeepseekV3Attention.forward` (q_a_proj, q_a_layernorm,
    q_b_proj or q_proj; kv_a_proj_with_mqa split [kv_lora_rank, qk_rope_head_dim]; kv_a_layernorm;
    kv_b_proj split per head [qk_nope_head_dim, v_head_dim]; `apply_rotary_pos_emb_interleave` when
    rope_interleave, which permutes to [x0, x2, …, x1, x3, …] before rotate_half; scaling
    qk_head_dim^-0.5 times yarn_get_mscale(factor, mscale_all_dim)^2).

stdin: {"cases": [{"name", "kind": "attention" | "mla", "desc": <the IR descriptor>, "T", "D",
"x": [T*D], "w": {tensor: [values]}}]}; stdout: {name: [T*D outputs]}.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def rms_norm(x, weight, eps):  # LlamaRMSNorm / DeepseekV3RMSNorm.forward, without the dtype casts
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def get_mscale(scale, mscale=1.0):
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def rope_parameters(rope):
    """(inv_freq, attention_factor) as _compute_default_rope_parameters / _compute_yarn_parameters."""
    base, dim = rope["theta"], rope["dim"]
    yarn = rope.get("yarn")
    if yarn is None:
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(torch.float64) / dim))
        return inv_freq, 1.0
    factor, original = yarn["factor"], yarn["original"]
    mscale, mscale_all_dim = yarn["mscale"], yarn["mscaleAllDim"]
    if mscale and mscale_all_dim:
        attention_factor = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
    else:
        attention_factor = get_mscale(factor)
    beta_fast, beta_slow = yarn["betaFast"] or 32, yarn["betaSlow"] or 1

    def find_correction_dim(num_rotations):
        return (dim * math.log(original / (num_rotations * 2 * math.pi))) / (2 * math.log(base))

    low = max(math.floor(find_correction_dim(beta_fast)), 0)  # truncate = True (the default)
    high = min(math.ceil(find_correction_dim(beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low), 0, 1)
    pos_freqs = base ** (torch.arange(0, dim, 2).to(torch.float64) / dim)
    inv_freq_extrapolation = 1.0 / pos_freqs
    inv_freq_interpolation = 1.0 / (factor * pos_freqs)
    extrapolation_factor = 1 - ramp
    inv_freq = inv_freq_interpolation * (1 - extrapolation_factor) + inv_freq_extrapolation * extrapolation_factor
    return inv_freq, attention_factor


def cos_sin(rope, T):  # the RotaryEmbedding forward at position_ids 0…T-1, shape [1, T, dim]
    inv_freq, attention_factor = rope_parameters(rope)
    position_ids = torch.arange(T, dtype=torch.float64)[None, :]
    freqs = (inv_freq[None, :, None] @ position_ids[:, None, :]).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * attention_factor, emb.sin() * attention_factor


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rotate_half_llm(x):  # GLM's interleaved form
    x1 = x[..., 0::2]
    x2 = x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def apply_rotary_pos_emb(q, k, cos, sin, interleaved):
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    if interleaved:
        cos = cos[..., : cos.shape[-1] // 2].repeat_interleave(2, dim=-1)
        sin = sin[..., : sin.shape[-1] // 2].repeat_interleave(2, dim=-1)
    rot = rotate_half_llm if interleaved else rotate_half
    rotary_dim = cos.shape[-1]
    q_rot, q_pass = q[..., :rotary_dim], q[..., rotary_dim:]
    k_rot, k_pass = k[..., :rotary_dim], k[..., rotary_dim:]
    q_embed = (q_rot * cos) + (rot(q_rot) * sin)
    k_embed = (k_rot * cos) + (rot(k_rot) * sin)
    return torch.cat([q_embed, q_pass], dim=-1), torch.cat([k_embed, k_pass], dim=-1)


def apply_rotary_pos_emb_interleave(q, k, cos, sin):  # DeepSeek-V3's, verbatim in meaning
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    b, h, s, d = q.shape
    q = q.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    b, h, s, d = k.shape
    k = k.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def causal_mask(T, window):  # additive [1, 1, T, T] mask from masking_utils' predicates
    q_idx = torch.arange(T)[:, None]
    kv_idx = torch.arange(T)[None, :]
    allowed = kv_idx <= q_idx
    if window:
        allowed = allowed & (kv_idx > q_idx - window)
    zero = torch.zeros((), dtype=torch.float64)
    return torch.where(allowed, zero, torch.tensor(torch.finfo(torch.float64).min))[None, None]


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def eager_attention_forward(query, key, value, mask, scaling, n_rep):
    key_states = repeat_kv(key, n_rep)
    value_states = repeat_kv(value, n_rep)
    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling + mask
    attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float64)
    attn_output = torch.matmul(attn_weights, value_states)
    return attn_output.transpose(1, 2).contiguous()


def attention(d, T, x, w):
    H, KV, hd = d["heads"], d["kvHeads"], d["headDim"]
    bias = d["bias"]
    q = F.linear(x, w["wq"], w["bq"] if bias else None)
    k = F.linear(x, w["wk"], w["bk"] if bias else None)
    v = F.linear(x, w["wv"], w["bv"] if bias else None)
    if d["qkNorm"] == "full":  # OlmoeAttention: q_norm(q_proj(x)) over H·hd
        q, k = rms_norm(q, w["q_norm"], d["qkEps"]), rms_norm(k, w["k_norm"], d["qkEps"])
    q, k, v = q.view(1, T, H, hd), k.view(1, T, KV, hd), v.view(1, T, KV, hd)
    if d["qkNorm"] == "head":  # Qwen3Attention: q_norm(q_proj(x).view(…, head_dim))
        q, k = rms_norm(q, w["q_norm"], d["qkEps"]), rms_norm(k, w["k_norm"], d["qkEps"])
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    rope = d["rope"]
    if rope["kind"] != "none" and rope["dim"] > 0:
        cos, sin = cos_sin(rope, T)
        q, k = apply_rotary_pos_emb(q, k, cos, sin, rope["kind"] == "interleaved")
    out = eager_attention_forward(q, k, v, causal_mask(T, d["window"]), hd ** -0.5, H // KV)
    return F.linear(out.reshape(1, T, H * hd), w["wo"])


def mla(d, T, x, w):
    H, Rq, Rkv = d["heads"], d["qRank"], d["kvRank"]
    Dn, Dr, Dv = d["nopeDim"], d["ropeDim"], d["vDim"]
    qk_head_dim = Dn + Dr
    if Rq == 0:
        q_states = F.linear(x, w["wq"])
    else:
        q_states = F.linear(rms_norm(F.linear(x, w["wq_a"]), w["q_norm"], d["normEps"]), w["wq_b"])
    q_states = q_states.view(1, T, -1, qk_head_dim).transpose(1, 2)
    q_pass, q_rot = torch.split(q_states, [Dn, Dr], dim=-1)
    compressed_kv = F.linear(x, w["wkv_a"])
    k_pass, k_rot = torch.split(compressed_kv, [Rkv, Dr], dim=-1)
    k_pass = F.linear(rms_norm(k_pass, w["kv_norm"], d["normEps"]), w["wkv_b"]).view(1, T, -1, Dn + Dv).transpose(1, 2)
    k_pass, value_states = torch.split(k_pass, [Dn, Dv], dim=-1)
    k_rot = k_rot.view(1, 1, T, Dr)
    rope = d["rope"]
    if rope["kind"] != "none":
        cos, sin = cos_sin(rope, T)
        if rope["kind"] == "interleaved":  # config.rope_interleave
            q_rot, k_rot = apply_rotary_pos_emb_interleave(q_rot, k_rot, cos, sin)
        else:
            q_rot, k_rot = apply_rotary_pos_emb(q_rot, k_rot, cos, sin, False)
    k_rot = k_rot.expand(*k_pass.shape[:-1], -1)
    query_states = torch.cat((q_pass, q_rot), dim=-1)
    key_states = torch.cat((k_pass, k_rot), dim=-1)
    scaling = qk_head_dim ** (-0.5)
    yarn = rope.get("yarn")
    if yarn is not None and yarn["mscaleAllDim"]:
        m = get_mscale(yarn["factor"], yarn["mscaleAllDim"])
        scaling = scaling * m * m
    out = eager_attention_forward(query_states, key_states, value_states, causal_mask(T, 0), scaling, 1)
    return F.linear(out.reshape(1, T, H * Dv), w["wo"])


def main():
    req = json.load(sys.stdin)
    res = {}
    for c in req["cases"]:
        T, D = c["T"], c["D"]
        x = torch.tensor(c["x"], dtype=torch.float64).view(1, T, D)
        w = {}
        for name, values in c["w"].items():
            w[name] = torch.tensor(values, dtype=torch.float64)
        shapes = {name: tuple(s) for name, s in c["shapes"].items()}
        w = {name: t.view(shapes[name]) for name, t in w.items()}
        fn = attention if c["kind"] == "attention" else mla
        res[c["name"]] = fn(c["desc"], T, x, w).reshape(-1).tolist()
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
