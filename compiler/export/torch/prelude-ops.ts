// The Python helpers every exported module shares (modeling_moec.py's first part): imports, the
// expert activations, one expert applied as an FFN, routed and shared pools, norms, the embedding
// with its range check, and safetensors read and written with torch alone (8-byte header length,
// JSON header, raw little-endian bytes through torch.frombuffer). Each is the PyTorch form of the
// float64 reference (runtime/reference/) it is tested against.

export const PRELUDE_OPS = String.raw`
import json
import math
import os
import struct

import torch
import torch.nn.functional as F
from torch import nn


# ---- expert activations (LANGUAGE.md §4): gated swiglu/geglu apply silu/gelu to the gate ----

ACTIVATIONS = {
    "swiglu": F.silu,
    "geglu": lambda v: F.gelu(v),
    "silu": F.silu,
    "gelu": lambda v: F.gelu(v),
    "relu": F.relu,
    "identity": lambda v: v,
}
GATED = ("swiglu", "geglu")


def ffn(x, up, down, act, gate=None, b_up=None, b_gate=None, b_down=None):
    """One expert as an FFN: down · (act(gate·x) ⊙ (up·x)) when gated, else down · act(up·x).

    x [T, D]; up, gate [h, D]; down [D, h]; biases [h] and [D] (PyTorch [out, in] layout).
    """
    u = F.linear(x, up, b_up)
    h = ACTIVATIONS[act](F.linear(x, gate, b_gate)) * u if act in GATED else ACTIVATIONS[act](u)
    return F.linear(h, down, b_down)


def routed(x, gates, mask, expert):
    """Σ over the selected experts e of gates[t, e] · expert(x[t], e); zero for a token with none.

    Each expert runs once, on the rows routed to it (gathered, then added back in place).
    """
    out = torch.zeros_like(x)
    for e in range(mask.shape[1]):
        rows = mask[:, e].nonzero().squeeze(1)
        if rows.numel() == 0:
            continue
        y = expert(x.index_select(0, rows), e)
        if y is not None:
            out = out.index_add(0, rows, y * gates.index_select(0, rows)[:, e : e + 1])
    return out


def routed_agents(x, gates, mask, agents, out_dim, stats):
    """Agents as experts (§11.1): agent j runs once on its routed rows, in position order (its T
    is their count), and each token gets Σ over its agents j of gates[t, j] · agent_j's row."""
    out = x.new_zeros(x.shape[0], out_dim)
    for j, agent in enumerate(agents):
        rows = mask[:, j].nonzero().squeeze(1)
        if rows.numel() == 0:
            continue
        y = agent(x.index_select(0, rows), stats)
        out = out.index_add(0, rows, y * gates.index_select(0, rows)[:, j : j + 1])
    return out


def shared(x, expert, count):
    """A shared pool: the sum of all its experts applied to x (weights 1)."""
    out = torch.zeros_like(x)
    for e in range(count):
        y = expert(x, e)
        if y is not None:
            out = out + y
    return out


def rms_norm(x, weight, eps):
    """x / sqrt(mean(x²) + eps) · weight over the last dimension (Hugging Face's RMSNorm)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def layer_norm(x, weight, bias, eps):
    """(x − mean) / sqrt(var + eps) · weight + bias, population variance (nn.LayerNorm)."""
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def embed(ids, weight, where):
    """Rows of weight [V, D] at ids [T]; an id outside 0…V−1 is an error naming its position."""
    vocab = weight.shape[0]
    bad = ((ids < 0) | (ids >= vocab)).nonzero()
    if bad.numel() > 0:
        t = int(bad[0, 0])
        raise ValueError(
            f"{where}: token {t} is id {int(ids[t])}, outside the vocabulary 0…{vocab - 1}"
        )
    return F.embedding(ids.long(), weight)


# ---- safetensors with torch alone ----

SAFETENSORS_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
}


def load_safetensors(path):
    """{name: tensor} of a safetensors file: u64 header length, JSON header, raw bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    body = memoryview(data)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor '{name}' has dtype {info['dtype']}, not read here")
        begin, end = info["data_offsets"]
        if end > len(body) or begin > end:
            raise ValueError(f"{path}: tensor '{name}' lies outside the file")
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


def tensor_bytes(t):
    """The raw little-endian bytes of a contiguous CPU tensor (numpy when present, else a list)."""
    if t.numel() == 0:
        return b""
    flat = t.reshape(-1).view(torch.uint8)
    try:
        return flat.numpy().tobytes()
    except (ImportError, RuntimeError):
        return bytes(flat.tolist())


def save_safetensors(path, tensors):
    """Writes {name: tensor} as safetensors (little-endian), atomically."""
    names = {v: k for k, v in SAFETENSORS_DTYPES.items()}
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = tensor_bytes(t)
        header[name] = {
            "dtype": names[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)
`.trimStart();
