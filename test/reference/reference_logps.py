#!/usr/bin/env python3
"""Independent float32 numpy forward pass of Llama / Qwen2 / Qwen3 / Mistral / GPT-2 checkpoints.

Written from the Hugging Face transformers modelling code (modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py,
modeling_mistral.py, modeling_gpt2.py), sharing nothing with the TypeScript implementation but
the file format. It reads config.json and model.safetensors of each case prepared by
makeReferenceModels.ts and prints, for each token sequence, log p(x[t+1] | x[..t]) for every t.

    node --import tsx test/reference/makeReferenceModels.ts /tmp/dpo-reference
    python3 test/reference/reference_logps.py /tmp/dpo-reference > test/reference/fixtures/reference_logps.json

Only numpy is needed.
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np

F32 = np.float32


# ------------------------------------------------------------------------------------------
# safetensors
# ------------------------------------------------------------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    start = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[start + begin : start + end]
        dtype = info["dtype"]
        if dtype == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dtype == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(F32)
        elif dtype == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(F32)
        else:
            raise ValueError(f"{name}: dtype {dtype}")
        tensors[name] = arr.reshape(info["shape"]).astype(F32)
    return tensors


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(folder, name)))
    return weights


# ------------------------------------------------------------------------------------------
# shared pieces
# ------------------------------------------------------------------------------------------

def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    z = x - m
    return (z - np.log(np.exp(z).sum(axis=-1, keepdims=True))).astype(F32)


def softmax(x):
    m = x.max(axis=-1, keepdims=True)
    e = np.exp(x - m)
    return (e / e.sum(axis=-1, keepdims=True)).astype(F32)


def act(name, x):
    if name in ("silu", "swish"):
        return (x / (F32(1) + np.exp(-x))).astype(F32)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return (F32(0.5) * x * (F32(1) + np.tanh(F32(math.sqrt(2.0 / math.pi)) * (x + F32(0.044715) * x**3)))).astype(F32)
    raise ValueError(name)


def causal_mask(T, window=None):
    q = np.arange(T)[:, None]
    k = np.arange(T)[None, :]
    allowed = k <= q
    if window is not None:
        allowed &= k > q - window  # transformers' sliding_window_overlay
    return allowed


# ------------------------------------------------------------------------------------------
# Llama / Qwen2 / Mistral
# ------------------------------------------------------------------------------------------

def rope_inv_freq(cfg, head_dim):
    base = cfg.get("rope_theta", 10000.0)
    inv = F32(1.0) / (F32(base) ** (np.arange(0, head_dim, 2, dtype=np.int64).astype(F32) / F32(head_dim)))
    inv = inv.astype(F32)
    scaling = cfg.get("rope_scaling")
    if scaling:
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind == "linear":
            inv = (inv / F32(scaling["factor"])).astype(F32)
        elif kind == "llama3":
            factor = scaling["factor"]
            low = scaling["low_freq_factor"]
            high = scaling["high_freq_factor"]
            old = scaling["original_max_position_embeddings"]
            low_wavelen = old / low
            high_wavelen = old / high
            wavelen = 2 * math.pi / inv
            inv_l = np.where(wavelen > low_wavelen, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
            medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
            inv = np.where(medium, smoothed, inv_l).astype(F32)
        elif kind != "default":
            raise ValueError(kind)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rms_norm(x, w, eps):
    var = (x * x).mean(axis=-1, keepdims=True)
    return (w * (x / np.sqrt(var + F32(eps)))).astype(F32)


def linear(x, W, b=None):
    y = x @ W.T
    if b is not None:
        y = y + b
    return y.astype(F32)


def llama_logits(cfg, W, ids):
    arch = cfg["architectures"][0]
    D = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads", H)
    hd = cfg.get("head_dim") or D // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    T = len(ids)
    window = cfg.get("sliding_window") if arch == "MistralForCausalLM" else None
    allowed = causal_mask(T, window)

    inv = rope_inv_freq(cfg, hd)
    pos = np.arange(T, dtype=F32)
    freqs = (pos[:, None] * inv[None, :]).astype(F32)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb).astype(F32), np.sin(emb).astype(F32)

    x = W["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = linear(h, W[p + "self_attn.q_proj.weight"], W.get(p + "self_attn.q_proj.bias"))
        k = linear(h, W[p + "self_attn.k_proj.weight"], W.get(p + "self_attn.k_proj.bias"))
        v = linear(h, W[p + "self_attn.v_proj.weight"], W.get(p + "self_attn.v_proj.bias"))
        q = q.reshape(T, H, hd).transpose(1, 0, 2)
        k = k.reshape(T, Hkv, hd).transpose(1, 0, 2)
        v = v.reshape(T, Hkv, hd).transpose(1, 0, 2)
        if arch == "Qwen3ForCausalLM":
            # modeling_qwen3.py: q_norm / k_norm, RMSNorm over head_dim, before the rotation.
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q = (q * cos + rotate_half(q) * sin).astype(F32)
        k = (k * cos + rotate_half(k) * sin).astype(F32)
        rep = H // Hkv
        k = np.repeat(k, rep, axis=0)  # repeat_kv: head h uses kv head h // rep
        v = np.repeat(v, rep, axis=0)
        scores = (q @ k.transpose(0, 2, 1)) * F32(hd**-0.5)
        scores = np.where(allowed[None], scores, -np.inf)
        att = softmax(scores) @ v
        att = att.transpose(1, 0, 2).reshape(T, H * hd)
        x = (x + linear(att, W[p + "self_attn.o_proj.weight"], W.get(p + "self_attn.o_proj.bias"))).astype(F32)
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = act(cfg.get("hidden_act", "silu"), linear(h, W[p + "mlp.gate_proj.weight"]))
        up = linear(h, W[p + "mlp.up_proj.weight"])
        x = (x + linear(gate * up, W[p + "mlp.down_proj.weight"])).astype(F32)
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return (x @ head.T).astype(F32)


# ------------------------------------------------------------------------------------------
# GPT-2
# ------------------------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + F32(eps)) * w + b).astype(F32)


def gpt2_logits(cfg, W, ids):
    W = {k if k.startswith("transformer.") or k == "lm_head.weight" else "transformer." + k: v for k, v in W.items()}
    D = cfg["n_embd"]
    H = cfg["n_head"]
    hd = D // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    T = len(ids)
    allowed = causal_mask(T)
    x = (W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][np.arange(T)]).astype(F32)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        qkv = (h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]).astype(F32)  # Conv1D: [in, out]
        q, k, v = np.split(qkv, 3, axis=-1)
        q, k, v = (t.reshape(T, H, hd).transpose(1, 0, 2) for t in (q, k, v))
        scores = (q @ k.transpose(0, 2, 1)) / F32(hd**0.5)
        if cfg.get("scale_attn_by_inverse_layer_idx"):
            scores = scores / F32(i + 1)
        scores = np.where(allowed[None], scores, -np.inf)
        att = (softmax(scores) @ v).transpose(1, 0, 2).reshape(T, D)
        x = (x + att @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]).astype(F32)
        h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        m = act(cfg.get("activation_function", "gelu_new"), (h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]).astype(F32))
        x = (x + m @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]).astype(F32)
    x = layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps)
    head = W["lm_head.weight"] if cfg.get("tie_word_embeddings") is False else W["transformer.wte.weight"]
    return (x @ head.T).astype(F32)


# ------------------------------------------------------------------------------------------

def token_logps(cfg, W, ids):
    arch = cfg["architectures"][0]
    if arch == "GPT2LMHeadModel":
        logits = gpt2_logits(cfg, W, ids)
    elif arch in ("LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "MistralForCausalLM"):
        logits = llama_logits(cfg, W, ids)
    else:
        raise ValueError(arch)
    lp = log_softmax(logits[:-1])
    return [float(lp[t, ids[t + 1]]) for t in range(len(ids) - 1)]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)["cases"]
    out = []
    for case in cases:
        folder = os.path.join(root, case["name"])
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        W = read_weights(folder)
        out.append({
            "name": case["name"],
            "init": case["init"],
            "weights_sha256": sha256(os.path.join(folder, "model.safetensors")),
            "sequences": case["sequences"],
            "logps": [token_logps(cfg, W, seq) for seq in case["sequences"]],
        })
    json.dump({
        "generated_by": "node --import tsx test/reference/makeReferenceModels.ts DIR && python3 test/reference/reference_logps.py DIR",
        "numpy": np.__version__,
        "cases": out,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
