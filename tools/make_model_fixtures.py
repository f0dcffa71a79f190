#!/usr/bin/python3
"""make_model_fixtures.py — golden model fixtures for the engine's tests.

Writes tests/fixtures/models/ (see the README.md there): five tiny random-weight DeiT/ViT
models in timm's safetensors layout, one preprocessed input each with its logits (computed in
float64), image-based goldens, and PyTorch dynamic-int8 logits (qnnpack, onednn); then copies of
two of them in the transformers layout (HF_MODELS: vit.* / deit.* names, config.json with
layer_norm_eps and id2label, preprocessor_config.json), with their own goldens.

Deterministic: fixed seeds, one thread; rerunning reproduces identical files (same machine and
Debian PyTorch/PIL versions). Every run also checks the torch reference against an independent
numpy forward with explicit matmuls, and PyTorch's dynamic-int8 Linear layers against a numpy
emulation of the documented quantization scheme.

    /usr/bin/python3 tools/make_model_fixtures.py [--out tests/fixtures/models]
"""

import argparse
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402

torch.set_num_threads(1)

GRAY_MEAN, GRAY_STD = (0.2860,), (0.3530,)

IMAGENET_CONFIG = dict(crop_pct=0.875, interpolation="bicubic", mean=vr.IMAGENET_MEAN,
                       std=vr.IMAGENET_STD)

# name, arch args, storage dtype, config (None = no config.json), seed
MODELS = [
    dict(name="tiny-p16", arch="vit_test_tiny_patch16_32",
         args=dict(img_size=32, patch_size=16, in_chans=3, embed_dim=64, depth=2, num_heads=2,
                   num_classes=10, distilled=False),
         dtype="F32", config=IMAGENET_CONFIG,
         images=True, quant=True, seed=1001),
    dict(name="tiny-p8-distilled", arch="deit_test_tiny_distilled_patch8_32",
         args=dict(img_size=32, patch_size=8, in_chans=3, embed_dim=64, depth=2, num_heads=1,
                   num_classes=7, distilled=True),
         dtype="F32", config=IMAGENET_CONFIG,
         images=False, quant=True, seed=1002),
    dict(name="tiny-p4-f16", arch="vit_test_tiny_patch4_16",
         args=dict(img_size=16, patch_size=4, in_chans=3, embed_dim=32, depth=3, num_heads=1,
                   num_classes=5, distilled=False),
         dtype="F16", config=IMAGENET_CONFIG,
         images=False, quant=False, seed=1003),
    dict(name="tiny-bf16-noconfig", arch=None,
         args=dict(img_size=24, patch_size=8, in_chans=3, embed_dim=64, depth=1, num_heads=1,
                   num_classes=4, distilled=False),
         dtype="BF16", config=None, images=False, quant=False, seed=1004),
    dict(name="gray-p4", arch="deit_test_gray_distilled_patch4_28",
         args=dict(img_size=28, patch_size=4, in_chans=1, embed_dim=32, depth=2, num_heads=1,
                   num_classes=10, distilled=True),
         dtype="F32", config=dict(crop_pct=1.0, interpolation="bilinear",
                                  mean=GRAY_MEAN, std=GRAY_STD),
         images=True, quant=False, seed=1005),
]

# Copies of MODELS in the transformers layout (Hugging Face's ViTForImageClassification,
# DeiTForImageClassificationWithTeacher): the same weights, LayerNorm eps from config.json, and
# DeiTImageProcessor's preprocessing (a fixed-size resize, then the crop). size / crop_size are
# written as given: an int (the legacy form, a square) or {"height", "width"}.
HF_MODELS = [
    dict(name="tiny-p16-hf", base="tiny-p16", prefix="vit", ln_eps=1e-12,
         size=40, crop_size=32, resample=3, quant=True,
         labels=["tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark",
                 "tiger shark, Galeocerdo cuvieri", "hammerhead", "electric ray", "stingray",
                 "cock", "hen", "ostrich, Struthio camelus"]),
    # eps 1e-2, not facebook's 1e-12: large enough that a LayerNorm ignoring it (timm's 1e-6)
    # misses the goldens by well over the fp32 tolerance (ln_eps_effect in cases.json)
    dict(name="tiny-p8-distilled-hf", base="tiny-p8-distilled", prefix="deit", ln_eps=1e-2,
         size={"height": 40, "width": 40}, crop_size={"height": 32, "width": 32}, resample=2,
         quant=True,
         labels=["Egyptian cat", "Persian cat", "tabby, tabby cat", "lynx, catamount",
                 "Siamese cat, Siamese", "snow leopard, ounce, Panthera uncia",
                 "\u72fc (wolf), \u00e9t\u00e9"]),
]

# Without config.json the engine must use: crop = img_size, resize = floor(img_size / 0.875),
# bicubic, ImageNet mean/std (documented in tiny-bf16-noconfig/README.md).
NOCONFIG_PRE = dict(crop_pct=0.875, interpolation="bicubic", mean=vr.IMAGENET_MEAN,
                    std=vr.IMAGENET_STD)

IMAGES = ["grad-45x37.png", "blobs-20x50.png"]
QUANT_ENGINES = ["qnnpack", "onednn"]
# The 6 largest logits are at least this far apart (5x more on images, whose resize the engine
# may not reproduce bit for bit).
MIN_TOP_MARGIN = 2e-3


# ---------------------------------------------------------------------------------------------
# helpers


def write_f32(path, t):
    arr = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
    with open(path, "wb") as f:
        f.write(arr.tobytes())


def top_k(logits, k=5):
    v = np.asarray(logits, dtype=np.float64)
    return [int(i) for i in np.argsort(-v, kind="stable")[:k]]


def top_margin(logits, k=6):
    v = np.sort(np.asarray(logits, dtype=np.float64))[::-1][:k]
    return float(np.min(v[:-1] - v[1:])) if len(v) > 1 else math.inf


def rel(path, root):
    return os.path.relpath(path, root)


# ---------------------------------------------------------------------------------------------
# an independent forward in numpy float64 with explicit matmuls (checks vit_reference)


def numpy_forward(sd, a, x, eps=1e-6):
    """sd: name -> float64 ndarray; a: arch args; x: (C,H,W) ndarray. Returns (K,) logits."""
    erf = np.vectorize(math.erf)
    C, p, D, heads = a["in_chans"], a["patch_size"], a["embed_dim"], a["num_heads"]
    g = a["img_size"] // p
    hd = D // heads

    def ln(v, w, b):  # LayerNorm over the last dim, biased variance
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + eps) * w + b

    # patches (N, C*p*p), row-major over the grid, each patch flattened as (c, y, x)
    patches = x.reshape(C, g, p, g, p).transpose(1, 3, 0, 2, 4).reshape(g * g, C * p * p)
    tok = patches @ sd["patch_embed.proj.weight"].reshape(D, -1).T + sd["patch_embed.proj.bias"]
    prefix = [sd["cls_token"].reshape(1, D)]
    if a["distilled"]:
        prefix.append(sd["dist_token"].reshape(1, D))
    h = np.concatenate(prefix + [tok], 0) + sd["pos_embed"].reshape(-1, D)  # (T,D)
    T = h.shape[0]
    for i in range(a["depth"]):
        pre = "blocks.%d." % i
        y = ln(h, sd[pre + "norm1.weight"], sd[pre + "norm1.bias"])
        qkv = y @ sd[pre + "attn.qkv.weight"].T + sd[pre + "attn.qkv.bias"]  # (T,3D)
        out = np.zeros((T, D))
        for hh in range(heads):
            q = qkv[:, hh * hd:(hh + 1) * hd]
            k = qkv[:, D + hh * hd:D + (hh + 1) * hd]
            v = qkv[:, 2 * D + hh * hd:2 * D + (hh + 1) * hd]
            s = (q @ k.T) / math.sqrt(hd)
            s = np.exp(s - s.max(1, keepdims=True))
            s /= s.sum(1, keepdims=True)
            out[:, hh * hd:(hh + 1) * hd] = s @ v
        h = h + out @ sd[pre + "attn.proj.weight"].T + sd[pre + "attn.proj.bias"]
        y = ln(h, sd[pre + "norm2.weight"], sd[pre + "norm2.bias"])
        z = y @ sd[pre + "mlp.fc1.weight"].T + sd[pre + "mlp.fc1.bias"]
        z = 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))
        h = h + z @ sd[pre + "mlp.fc2.weight"].T + sd[pre + "mlp.fc2.bias"]
    h = ln(h, sd["norm.weight"], sd["norm.bias"])
    logits = h[0] @ sd["head.weight"].T + sd["head.bias"]
    if a["distilled"]:
        logits = (logits + h[1] @ sd["head_dist.weight"].T + sd["head_dist.bias"]) / 2
    return logits


# ---------------------------------------------------------------------------------------------
# PyTorch dynamic int8 and a numpy emulation of it (see README.md, "Quantization")


def choose_qparams(xmin, xmax, qmin, qmax):
    """quant_utils::ChooseQuantizationParams(min, max, qmin, qmax, preserve_sparsity=false,
    force_scale_power_of_two=false) after reduce_range has been applied to qmin/qmax.
    Returns (scale as double, zero_point int)."""
    xmin = float(np.float32(min(float(xmin), 0.0)))
    xmax = float(np.float32(max(float(xmax), 0.0)))
    scale = (xmax - xmin) / (qmax - qmin)
    if np.float32(scale) == 0 or np.isinf(np.float32(1.0) / np.float32(scale)):
        scale = 0.1
    if scale < np.float32(6.1e-5):  # SMALL_SCALE_THRESHOLD
        org = scale
        scale = float(np.float32(6.1e-5))
        if xmin == 0.0:
            xmax = scale * (qmax - qmin)
        elif xmax == 0.0:
            xmin = -scale * (qmax - qmin)
        else:
            amp = float(np.float32(scale / org))
            xmin, xmax = xmin * amp, xmax * amp
    zp_from_min = qmin - xmin / scale
    zp_from_max = qmax - xmax / scale
    err_min = abs(qmin) - abs(xmin / scale)
    err_max = abs(qmax) - abs(xmax / scale)
    zp0 = zp_from_min if err_min < err_max else zp_from_max
    if zp0 < qmin:
        zp = qmin
    elif zp0 > qmax:
        zp = qmax
    else:
        zp = int(np.rint(zp0))
    return scale, zp


def emulate_dynamic_linear(x, wq, w_scale, bias, engine):
    """One quantized::linear_dynamic call (DynamicQuantizedLinear, reduce_range=True passed).
    x (..., K) float32; wq (N, K) int8 values; w_scale float32; bias (N,) float32."""
    X = np.asarray(x, dtype=np.float32).reshape(-1, x.shape[-1])
    qmax = 255 if engine == "qnnpack" else 127  # qnnpack ignores reduce_range; onednn: 255/2
    s, zp = choose_qparams(X.min(), X.max(), 0, qmax)
    if engine == "qnnpack":  # at::quantize_per_tensor: zp + nearbyint(x * (1.0f/(float)scale))
        inv = np.float32(1.0) / np.float32(s)
        xq = np.clip(np.rint(X * inv) + zp, 0, 255)
    else:  # oneDNN reorder: saturate(nearbyint(fma(x, (float)(1.0/scale), zp)))
        inv = np.float32(1.0 / s)
        xq = np.clip(np.rint((X.astype(np.float64) * np.float64(inv) + zp).astype(np.float32)),
                     0, 255)
    acc = (xq.astype(np.int64) - zp) @ np.asarray(wq, dtype=np.int64).T  # exact int32 sums
    deq = np.float32(np.float32(s) * np.float32(w_scale))
    return acc.astype(np.float32) * deq + np.asarray(bias, dtype=np.float32)


def quantize_and_run(model, x, engine):
    """quantize_dynamic with `engine`, run on x (1,C,H,W) fp32. Returns (logits, per-layer
    worst |torch - emulation|, weight scales)."""
    torch.backends.quantized.engine = engine
    q = torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    recs = []
    hooks = []
    for name, mod in q.named_modules():
        if hasattr(mod, "_packed_params"):
            hooks.append(mod.register_forward_hook(
                lambda m, i, o, name=name: recs.append((name, m, i[0].detach().clone(),
                                                        o.detach().clone()))))
    with torch.inference_mode():
        y = q(x)
    worst = 0.0
    scales = OrderedDict()
    for name, m, i, o in recs:
        w = m.weight()
        scales[name] = float(w.q_scale())
        assert w.q_zero_point() == 0 and w.qscheme() == torch.per_tensor_affine
        e = emulate_dynamic_linear(i.numpy(), w.int_repr().numpy(), np.float32(w.q_scale()),
                                   m.bias().detach().numpy(), engine)
        d = np.abs(e - o.numpy().reshape(e.shape))
        worst = max(worst, float(d.max() / max(1.0, float(np.abs(e).max()))))
    for h in hooks:
        h.remove()
    return y[0], worst, scales


# ---------------------------------------------------------------------------------------------
# images


def make_images(img_dir):
    from PIL import Image
    os.makedirs(img_dir, exist_ok=True)
    rs = np.random.RandomState(4242)
    # 45x37 RGB: diagonal colour gradients plus noise
    h, w = 37, 45
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * xx / (w - 1)
    g = 255 * yy / (h - 1)
    b = 255 * (1 - (xx + yy) / (w + h - 2))
    img = np.stack([r, g, b], -1) + rs.normal(0, 25, (h, w, 3))
    Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB").save(
        os.path.join(img_dir, IMAGES[0]))
    # 20x50 RGB (portrait): soft blobs on a dark background, plus noise
    h, w = 50, 20
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.full((h, w, 3), 30.0)
    for cy, cx, rad, col in [(12, 6, 6, (250, 80, 40)), (30, 14, 8, (40, 220, 90)),
                             (42, 5, 5, (60, 90, 250))]:
        m = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rad ** 2))[..., None]
        img = img * (1 - m) + np.array(col) * m
    img += rs.normal(0, 12, (h, w, 3))
    Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB").save(
        os.path.join(img_dir, IMAGES[1]))


# ---------------------------------------------------------------------------------------------


def image_inputs(spec, img_dir):
    p = pre_cfg(spec)
    return [vr.preprocess(os.path.join(img_dir, img), p["resize_size"], p["crop"],
                          p["interpolation"], p["mean"], p["std"], p["channels"])
            for img in IMAGES]


def build_fixture_model(spec, img_dir):
    """Random weights (seeded), rounded to the storage dtype: returns (fp32 model, input,
    float64 logits, seed used). The seed is bumped until the top-6 logits are well apart, on
    the random input and (for models with image goldens) on the images."""
    seed = spec["seed"]
    imgs = image_inputs(spec, img_dir) if spec["images"] else []
    while True:
        gen = torch.Generator().manual_seed(seed)
        model = vr.build_model(**spec["args"]).eval()
        vr.init_weights_fixture(model, gen)
        if spec["dtype"] != "F32":
            tdt = {"F16": torch.float16, "BF16": torch.bfloat16}[spec["dtype"]]
            sd = OrderedDict((k, v.to(tdt).float()) for k, v in model.state_dict().items())
            model.load_state_dict(sd)
        a = spec["args"]
        x = torch.randn(a["in_chans"], a["img_size"], a["img_size"], generator=gen)
        with torch.no_grad():
            ref = model.double()(x.double()[None])[0]
            margins = [top_margin(ref.numpy())]
            margins += [top_margin(model(t.double()[None])[0].numpy()) / 5 for t in imgs]
        model.float()
        if min(margins) >= MIN_TOP_MARGIN:
            return model, x, ref, seed
        seed += 100


def write_noconfig_readme(d, spec):
    a, p = spec["args"], pre_cfg(spec)
    text = """# %(name)s: a model without config.json

Written by tools/make_model_fixtures.py. `model.safetensors` only (BF16, tensors in the order
the `safetensors` library writes them: `__metadata__` first, then sorted by name), no
`config.json`, no labels. The engine must infer everything from the tensor shapes:

| what | from | value |
| --- | --- | --- |
| embed_dim D, in_chans, patch | `patch_embed.proj.weight` (D, C, p, p) | %(embed_dim)d, %(in_chans)d, %(patch_size)d |
| num_patches, img_size | `pos_embed` (1, T, D): T - 1 (- 1 if `dist_token`), sqrt(N) * p | %(np)d, %(img_size)d |
| depth | highest `blocks.N.` + 1 | %(depth)d |
| mlp hidden | `blocks.0.mlp.fc1.weight` rows | %(hidden)d |
| num_classes | `head.weight` rows | %(num_classes)d |
| distilled | `dist_token` present | no |
| num_heads | not in the shapes: D / 64 (the head dim of every DeiT/ViT) | %(heads)d |

Preprocessing without a config: the crop is the model's img_size, the resize is
floor(img_size / 0.875) (timm's default crop_pct), bicubic, ImageNet mean/std:
Resize(%(resize)d, bicubic) -> CenterCrop(%(crop)d) -> ToTensor -> Normalize(%(mean)s, %(std)s).
(Not the tutorial's Resize(256) -> CenterCrop(224), which only fits 224-pixel models.)

`input.f32` is already preprocessed (a random normal tensor, (3, %(img_size)d, %(img_size)d)
little-endian float32); `logits.f32` are its %(num_classes)d logits, computed in float64 from the
BF16 weights widened to float and cast to float32.
""" % dict(name=spec["name"], embed_dim=a["embed_dim"], in_chans=a["in_chans"],
           patch_size=a["patch_size"], np=(a["img_size"] // a["patch_size"]) ** 2,
           img_size=a["img_size"], depth=a["depth"], hidden=4 * a["embed_dim"],
           num_classes=a["num_classes"], heads=a["embed_dim"] // 64, resize=p["resize_size"],
           crop=p["crop"], mean=list(p["mean"]), std=list(p["std"]))
    assert a["num_heads"] == a["embed_dim"] // 64
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(text)


def pre_cfg(spec):
    c = spec["config"] or NOCONFIG_PRE
    a = spec["args"]
    return OrderedDict(resize_size=vr.resize_size_for(a["img_size"], c["crop_pct"]),
                       crop=a["img_size"], interpolation=c["interpolation"],
                       mean=list(c["mean"]), std=list(c["std"]), channels=a["in_chans"])


def arch_fields(c, a, sd):
    """The architecture numbers of a cases.json entry."""
    for k in ("img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads"):
        c[k] = a[k]
    c["head_dim"] = a["embed_dim"] // a["num_heads"]
    c["mlp_hidden"] = 4 * a["embed_dim"]
    c["num_classes"] = a["num_classes"]
    c["distilled"] = a["distilled"]
    c["num_patches"] = (a["img_size"] // a["patch_size"]) ** 2
    c["num_tokens"] = c["num_patches"] + (2 if a["distilled"] else 1)
    c["num_params"] = int(sum(v.numel() for v in sd.values()))


def image_goldens(model, d, root, img_dir, prep):
    """<image>.input.f32 (prep(path)) and <image>.logits.f32 (float64) in d for each of IMAGES;
    returns their cases.json entries."""
    out = []
    for img in IMAGES:
        stem = img.rsplit(".", 1)[0]
        t = prep(os.path.join(img_dir, img))
        with torch.no_grad():
            lg = model.double()(t.double()[None])[0]
        model.float()
        write_f32(os.path.join(d, stem + ".input.f32"), t)
        write_f32(os.path.join(d, stem + ".logits.f32"), lg.float())
        out.append(OrderedDict(
            image=rel(os.path.join(img_dir, img), root),
            input=rel(os.path.join(d, stem + ".input.f32"), root),
            logits=rel(os.path.join(d, stem + ".logits.f32"), root),
            top5=top_k(lg.numpy()), top6_min_gap=top_margin(lg.numpy())))
    return out


def quant_goldens(model, x, ref, name, root):
    """quant/<name>.<engine>.logits.f32 for QUANT_ENGINES; returns the cases.json entry."""
    q = OrderedDict()
    for eng in QUANT_ENGINES:
        y, worst, scales = quantize_and_run(model, x[None], eng)
        assert worst < 1e-5, "%s/%s: emulation differs by %g" % (name, eng, worst)
        f = os.path.join(root, "quant", "%s.%s.logits.f32" % (name, eng))
        write_f32(f, y)
        q[eng] = OrderedDict(
            file=rel(f, root), top5=top_k(y.numpy()),
            max_abs_diff_vs_fp32=float(torch.max(torch.abs(y.double() - ref))),
            emulation_max_rel_err=worst)
    q["weight_scales"] = scales
    return q


def write_hf_fixture(root, img_dir, spec, base, timm_model, x, ref_timm):
    """The transformers-layout copy of a fixture model: the same weights under transformers'
    names, config.json (layer_norm_eps, id2label), preprocessor_config.json; logits in float64
    with the model's eps on the base's input.f32 and on the images after DeiTImageProcessor's
    preprocessing; dynamic-int8 logits when spec["quant"]. Returns its cases.json entry."""
    name, a = spec["name"], base["args"]
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    eps = spec["ln_eps"]
    model = vr.build_model(**a, ln_eps=eps).eval()
    model.load_state_dict(timm_model.state_dict())
    sd = model.state_dict()
    with torch.no_grad():
        ref = model.double()(x.double()[None])[0]
        model.float()
        f32 = model(x[None])[0]
    npsd = {k: v.double().numpy() for k, v in sd.items()}
    chk = numpy_forward(npsd, a, x.double().numpy(), eps)
    err = float(np.max(np.abs(chk - ref.numpy())))
    assert err < 1e-9, "%s: numpy forward differs from the reference by %g" % (name, err)
    f32_err = float(torch.max(torch.abs(f32.double() - ref)))
    eps_effect = float(torch.max(torch.abs(ref - ref_timm)))

    hsd = vr.to_hf_state_dict(sd, spec["prefix"])
    vr.save_safetensors(os.path.join(d, "model.safetensors"), hsd, dtype="F32",
                        metadata={"format": "pt"})
    back = vr.load_safetensors(os.path.join(d, "model.safetensors"))
    assert list(back) == list(hsd) and all(torch.equal(back[k], hsd[k]) for k in hsd)
    labels = spec["labels"]
    assert len(labels) == a["num_classes"]
    vr.write_hf_config(d, model, spec["prefix"], "vitlens-test/" + name, labels, eps)
    mean, std = base["config"]["mean"], base["config"]["std"]
    vr.write_hf_preprocessor_config(d, spec["size"], spec["crop_size"], spec["resample"], mean,
                                    std)
    write_f32(os.path.join(d, "input.f32"), x)
    write_f32(os.path.join(d, "logits.f32"), ref.float())

    c = OrderedDict()
    c["dir"] = name
    c["layout"] = "transformers"
    c["timm_copy_of"] = spec["base"]
    c["dtype"] = "F32"
    c["has_config"] = True
    c["architecture"] = "vitlens-test/" + name
    arch_fields(c, a, sd)
    c["ln_eps"] = eps
    c["labels"] = labels
    h, w = vr.hf_size(spec["size"])
    crop = vr.hf_size(spec["crop_size"])[0]
    interp = {0: "nearest", 2: "bilinear", 3: "bicubic"}[spec["resample"]]
    c["preprocess"] = OrderedDict(resize_size=min(h, w), resize_height=h, resize_width=w,
                                  crop=crop, interpolation=interp, mean=list(mean),
                                  std=list(std), channels=a["in_chans"])
    c["input"] = OrderedDict(file=rel(os.path.join(d, "input.f32"), root),
                             shape=[a["in_chans"], a["img_size"], a["img_size"]])
    c["logits"] = OrderedDict(file=rel(os.path.join(d, "logits.f32"), root),
                              top5=top_k(ref.numpy()),
                              top5_values=[float(np.float32(ref[i])) for i in top_k(ref.numpy())],
                              top6_min_gap=top_margin(ref.numpy()),
                              torch_fp32_max_abs_err=f32_err,
                              numpy_check_max_abs_err=err,
                              ln_eps_effect=eps_effect)
    c["images"] = image_goldens(
        model, d, root, img_dir,
        lambda f: vr.preprocess_hf(f, h, w, crop, spec["resample"], mean, std))
    if spec["quant"]:
        c["quant"] = quant_goldens(model, x, ref, name, root)
    print("%-20s (transformers, eps %g) top5 %s  fp32 err %.2g  eps effect %.2g  image gaps %s" %
          (name, eps, c["logits"]["top5"], f32_err, eps_effect,
           ["%.3g" % i["top6_min_gap"] for i in c["images"]]))
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "models"))
    args = ap.parse_args()
    root = os.path.normpath(args.out)
    os.makedirs(root, exist_ok=True)
    img_dir = os.path.join(root, "images")
    make_images(img_dir)
    os.makedirs(os.path.join(root, "quant"), exist_ok=True)

    cases = OrderedDict()
    cases["generator"] = "tools/make_model_fixtures.py"
    cases["torch"] = torch.__version__.split("+")[0]
    cases["images"] = [rel(os.path.join(img_dir, n), root) for n in IMAGES]
    cases["models"] = OrderedDict()
    built = {}
    for spec in MODELS:
        name, a = spec["name"], spec["args"]
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        model, x, ref, seed = build_fixture_model(spec, img_dir)
        built[name] = (model, x, ref)
        sd = model.state_dict()

        # independent check: explicit-matmul numpy forward vs the torch reference, float64
        npsd = {k: v.double().numpy() for k, v in sd.items()}
        chk = numpy_forward(npsd, a, x.double().numpy())
        err = float(np.max(np.abs(chk - ref.numpy())))
        assert err < 1e-9, "%s: numpy forward differs from the reference by %g" % (name, err)
        with torch.no_grad():
            f32 = model(x[None])[0]
        f32_err = float(torch.max(torch.abs(f32.double() - ref)))

        order = "sorted" if spec["dtype"] == "BF16" else "state_dict"
        vr.save_safetensors(os.path.join(d, "model.safetensors"), sd, dtype=spec["dtype"],
                            metadata={"format": "pt"}, order=order)
        back = vr.load_safetensors(os.path.join(d, "model.safetensors"))
        assert all(torch.equal(back[k].float(), sd[k]) for k in sd), "safetensors round trip"
        if spec["config"]:
            c = spec["config"]
            vr.write_timm_config(d, spec["arch"], model, (a["in_chans"], a["img_size"],
                                                          a["img_size"]),
                                 c["crop_pct"], c["interpolation"], c["mean"], c["std"],
                                 tag="test", model_args=OrderedDict(
                                     (k, a[k]) for k in ("img_size", "patch_size", "in_chans",
                                                         "embed_dim", "depth", "num_heads")))
        else:
            if os.path.exists(os.path.join(d, "config.json")):
                os.remove(os.path.join(d, "config.json"))
            write_noconfig_readme(d, spec)
        write_f32(os.path.join(d, "input.f32"), x)
        write_f32(os.path.join(d, "logits.f32"), ref.float())

        c = OrderedDict()
        c["dir"] = name
        c["seed"] = seed
        c["dtype"] = spec["dtype"]
        c["safetensors_order"] = order
        c["has_config"] = bool(spec["config"])
        c["architecture"] = spec["arch"]
        arch_fields(c, a, sd)
        c["preprocess"] = pre_cfg(spec)
        c["input"] = OrderedDict(file=rel(os.path.join(d, "input.f32"), root),
                                 shape=[a["in_chans"], a["img_size"], a["img_size"]])
        c["logits"] = OrderedDict(file=rel(os.path.join(d, "logits.f32"), root),
                                  top5=top_k(ref.numpy()),
                                  top5_values=[float(np.float32(ref[i])) for i in
                                               top_k(ref.numpy())],
                                  top6_min_gap=top_margin(ref.numpy()),
                                  torch_fp32_max_abs_err=f32_err,
                                  numpy_check_max_abs_err=err)

        # attention rollout of input.f32, float64 (vit_reference.attention_rollout)
        roll = vr.attention_rollout(model.double(), x.double())
        model.float()
        write_f32(os.path.join(d, "rollout.f32"), roll.float())
        c["rollout"] = OrderedDict(file=rel(os.path.join(d, "rollout.f32"), root),
                                   grid=list(roll.shape))

        if spec["images"]:
            p = c["preprocess"]
            c["images"] = image_goldens(
                model, d, root, img_dir,
                lambda f: vr.preprocess(f, p["resize_size"], p["crop"], p["interpolation"],
                                        p["mean"], p["std"], p["channels"]))

        if spec["quant"]:
            c["quant"] = quant_goldens(model, x, ref, name, root)
        cases["models"][name] = c
        print("%-20s seed %d  params %6d  top5 %s  fp32 err %.2g" %
              (name, seed, c["num_params"], c["logits"]["top5"], f32_err))
        for eng in QUANT_ENGINES if spec["quant"] else []:
            q = c["quant"][eng]
            print("%20s %-8s top5 %s  |q - fp32| %.3g  emulation %.2g" %
                  ("", eng, q["top5"], q["max_abs_diff_vs_fp32"], q["emulation_max_rel_err"]))

    for spec in HF_MODELS:
        base = MODELS[[m["name"] for m in MODELS].index(spec["base"])]
        model, x, ref_timm = built[spec["base"]]
        cases["models"][spec["name"]] = write_hf_fixture(root, img_dir, spec, base, model, x,
                                                         ref_timm)

    with open(os.path.join(root, "cases.json"), "w") as f:
        json.dump(cases, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
