#!/usr/bin/python3
"""vit_reference.py — a timm-identical DeiT / ViT in plain PyTorch (no timm), plus the file
formats and preprocessing the engine has to match.

Developer-only (Debian's python3-torch 1.13 / torchvision 0.14 / PIL 9.4 at /usr/bin/python3).

* VisionTransformer: module and parameter names are timm's, so state_dict() keys (and their
  order) are what timm's `deit_*` / `vit_*` models produce:
      cls_token (1,1,D), pos_embed (1,T,D), [dist_token (1,1,D)],
      patch_embed.proj.{weight (D,C,p,p), bias (D)},
      blocks.N.norm1, blocks.N.attn.qkv (3D,D), blocks.N.attn.proj (D,D), blocks.N.norm2,
      blocks.N.mlp.fc1 (4D,D), blocks.N.mlp.fc2 (D,4D), norm, head (K,D), [head_dist (K,D)]
  (timm's VisionTransformerDistilled re-assigns pos_embed after adding dist_token, so dist_token
  comes after pos_embed in its state_dict; we register them in the same order.)
* save_safetensors / load_safetensors: the safetensors format written by hand.
* write_timm_config: timm's Hugging Face hub config.json.
* preprocess: torchvision's Resize -> CenterCrop -> ToTensor -> Normalize, as timm's eval
  transform does it for a pretrained_cfg.
* The transformers layout (Hugging Face's ViTForImageClassification and
  DeiTForImageClassificationWithTeacher, as the facebook/deit-* hub repositories hold them):
  to_hf_state_dict, write_hf_config, write_hf_preprocessor_config, preprocess_hf. The network is
  the same; LayerNorm's eps is a model argument (ln_eps: timm 1e-6, transformers 1e-12).
"""

import json
import math
import os
import struct
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ---------------------------------------------------------------------------------------------
# The model


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.img_size = (img_size, img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        # x (B,C,H,W) -> conv (B,D,H/p,W/p) -> (B,N,D), patches in row-major (y, x) order
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        assert dim % num_heads == 0, "dim should be divisible by num_heads"
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        # the softmax probabilities pass through here (no parameters, state_dict unchanged): a
        # forward hook on it sees them, as attention_rollout does
        self.attn_probs = nn.Identity()

    def forward(self, x):
        B, N, C = x.shape
        # qkv (B,N,3D) -> (B,N,3,heads,hd) -> (3,B,heads,N,hd): rows of qkv.weight are
        # [q of head 0..H-1 | k of all heads | v of all heads]
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * self.scale
        attn = self.attn_probs((q @ k.transpose(-2, -1)).softmax(dim=-1))  # (B,heads,N,N)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)  # heads concatenated per token
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()  # exact (erf) GELU, timm's default
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, ln_eps=1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=ln_eps)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=ln_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class VisionTransformer(nn.Module):
    """timm's VisionTransformer (class_token, global_pool='token') and, with distilled=True,
    deit's VisionTransformerDistilled (eval-mode output (head(x0) + head_dist(x1)) / 2)."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=768,
                 depth=12, num_heads=12, mlp_ratio=4.0, distilled=False, ln_eps=1e-6):
        super().__init__()
        self.img_size = img_size
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.num_classes = num_classes
        self.embed_dim = self.num_features = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.distilled = distilled
        self.num_prefix_tokens = 2 if distilled else 1

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches
        # registration order = timm's state_dict order
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + self.num_prefix_tokens,
                                                  embed_dim))
        if distilled:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.ln_eps = ln_eps
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio, ln_eps)
                                      for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=ln_eps)
        self.head = nn.Linear(embed_dim, num_classes)
        if distilled:
            self.head_dist = nn.Linear(embed_dim, num_classes)
        init_weights_timm(self)

    def forward_features(self, x):
        x = self.patch_embed(x)  # (B,N,D)
        prefix = [self.cls_token.expand(x.shape[0], -1, -1)]
        if self.distilled:
            prefix.append(self.dist_token.expand(x.shape[0], -1, -1))
        x = torch.cat(prefix + [x], dim=1)  # [cls, (dist,) patches] (B,T,D)
        x = x + self.pos_embed
        x = self.blocks(x)
        return self.norm(x)

    def forward_head(self, x):
        if self.distilled:
            return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2
        return self.head(x[:, 0])

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def attention_rollout(model, x):
    """Attention rollout (Abnar & Zuidema, 2020) of one input x (C,H,W), as the engine defines
    it: per block l, A_l = the softmax probabilities averaged over heads (T,T), taken by forward
    hooks on each block's attn.attn_probs; A^_l = 0.5 A_l + 0.5 I; r = e_cls A^_L ... A^_1 (for
    distilled models the mean of the cls and dist rows); r over the patch tokens, reshaped to the
    patch grid (G,G), divided by its maximum. Runs in the model's dtype; returns (G,G)."""
    probs = []
    hooks = [b.attn.attn_probs.register_forward_hook(
        lambda mod, inp, out: probs.append(out[0].mean(dim=0))) for b in model.blocks]
    try:
        with torch.no_grad():
            model(x.to(next(model.parameters()).dtype)[None])
    finally:
        for h in hooks:
            h.remove()
    T = probs[0].shape[0]
    prefix = model.num_prefix_tokens
    r = torch.zeros(T, dtype=probs[0].dtype)
    r[:prefix] = 1.0 / prefix
    eye = torch.eye(T, dtype=r.dtype)
    for a in reversed(probs):  # r (1,T) @ A^_L, then A^_(L-1), ...
        r = r @ (0.5 * a + 0.5 * eye)
    g = model.patch_embed.grid_size
    grid = r[prefix:].reshape(g[0], g[1])
    return grid / grid.max()


def init_weights_timm(model):
    """timm's default ('jax'-less) init: trunc_normal(.02) for Linear weights, pos_embed and the
    cls/dist tokens (timm: cls_token normal(1e-6) in newer versions; .02 here as in DeiT), zeros
    for biases, LayerNorm 1/0. The conv keeps PyTorch's default init, as in timm."""
    with torch.no_grad():
        nn.init.trunc_normal_(model.pos_embed, std=.02)
        nn.init.trunc_normal_(model.cls_token, std=.02)
        if model.distilled:
            nn.init.trunc_normal_(model.dist_token, std=.02)
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def init_weights_fixture(model, gen):
    """Random weights for golden fixtures: every tensor random and activations O(1), so the
    tests exercise every tensor (LayerNorm affine, biases) and non-uniform attention.
    Linear/conv weights normal(std=fan_in**-0.5) (not clipped, so each tensor has its own
    max |w| and int8 scale), tokens and pos_embed normal(0.5), LayerNorm weight normal(1, 0.1),
    bias normal(0, 0.1), all biases normal(0, 0.1).
    `gen` is a torch.Generator; the draw order is the state_dict order."""
    with torch.no_grad():
        for name, p in model.state_dict(keep_vars=True).items():
            leaf = name.rsplit(".", 1)[-1]
            owner = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
            if isinstance(owner, nn.LayerNorm):
                base = 1.0 if leaf == "weight" else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            elif leaf == "bias":
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif leaf == "weight":
                fan_in = int(np.prod(p.shape[1:]))
                std = fan_in ** -0.5
                p.copy_(std * torch.randn(p.shape, generator=gen))
            else:  # cls_token, dist_token, pos_embed
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))


def build_model(img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads,
                mlp_ratio=4.0, distilled=False, ln_eps=1e-6):
    return VisionTransformer(img_size=img_size, patch_size=patch_size, in_chans=in_chans,
                             num_classes=num_classes, embed_dim=embed_dim, depth=depth,
                             num_heads=num_heads, mlp_ratio=mlp_ratio, distilled=distilled,
                             ln_eps=ln_eps)


def model_from_state_dict(sd, num_heads=None, img_size=None):
    """Infer the architecture from tensor shapes (as the engine does without config.json):
    heads = D / 64 unless given. Returns an fp32 VisionTransformer with the weights loaded."""
    D, C, p, _ = sd["patch_embed.proj.weight"].shape
    distilled = "dist_token" in sd
    T = sd["pos_embed"].shape[1]
    n = T - (2 if distilled else 1)
    grid = int(round(math.sqrt(n)))
    assert grid * grid == n, "non-square patch grid"
    depth = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    hidden = sd["blocks.0.mlp.fc1.weight"].shape[0]
    K = sd["head.weight"].shape[0]
    model = build_model(img_size or grid * p, p, C, K, D, depth, num_heads or D // 64,
                        mlp_ratio=hidden / D, distilled=distilled)
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    return model.eval()


# ---------------------------------------------------------------------------------------------
# safetensors, by hand

_ST_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
              "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "I8": torch.int8,
              "U8": torch.uint8}
_ST_SIZES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I8": 1, "U8": 1}


def _tensor_bytes(t, dtype):
    t = t.detach().cpu().contiguous()
    if dtype == "BF16":
        # torch rounds to nearest even; raw 16-bit patterns, little endian
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    return t.to(_ST_DTYPES[dtype]).numpy().tobytes()


def save_safetensors(path, state_dict, dtype="F32", metadata=None, order="state_dict"):
    """Write `state_dict` as safetensors: u64 LE header length N, N bytes of JSON (space-padded
    to a multiple of 8), then the raw little-endian data; data_offsets are [begin, end) relative
    to the start of the data section.

    order="state_dict": tensors (header and data) in the dict's order, "__metadata__" last.
    order="sorted": as the `safetensors` library writes (all one dtype): "__metadata__" first,
    then tensors sorted by name, data in the same order."""
    if metadata is None:
        metadata = {"format": "pt"}
    names = list(state_dict.keys())
    if order == "sorted":
        names = sorted(names)
    header = OrderedDict()
    if order == "sorted" and metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name in names:
        t = state_dict[name]
        data = _tensor_bytes(t, dtype)
        assert len(data) == t.numel() * _ST_SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if order != "sorted" and metadata:
        header["__metadata__"] = metadata
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_safetensors(path, with_metadata=False):
    """Read a safetensors file into an OrderedDict name -> torch tensor (its stored dtype), in
    the order of the header. With with_metadata=True, returns (tensors, metadata)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    data = memoryview(blob)[8 + n:]
    metadata = header.pop("__metadata__", None)
    out = OrderedDict()
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = info["dtype"]
        raw = bytes(data[b:e])
        if dt == "BF16":
            arr = np.frombuffer(raw, dtype="<i2").copy()
            t = torch.from_numpy(arr).view(torch.bfloat16)
        else:
            npdt = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4",
                    "I8": "i1", "U8": "u1"}[dt]
            t = torch.from_numpy(np.frombuffer(raw, dtype=npdt).copy())
        out[name] = t.reshape(info["shape"])
    return (out, metadata) if with_metadata else out


# ---------------------------------------------------------------------------------------------
# timm's hub config.json


def write_timm_config(dir, arch, model, input_size, crop_pct, interpolation, mean, std,
                      tag=None, model_args=None):
    """timm's config.json (as timm.models.push_to_hub / save_for_hf writes it). `model_args`,
    when given, is written as timm does ({"num_heads": ...} etc.), so a reader can learn what
    the architecture name does not tell."""
    classifier = ["head", "head_dist"] if getattr(model, "distilled", False) else "head"
    cfg = OrderedDict()
    cfg["architecture"] = arch
    cfg["num_classes"] = model.num_classes
    cfg["num_features"] = model.embed_dim
    cfg["global_pool"] = "token"
    if model_args:
        cfg["model_args"] = model_args
    pc = OrderedDict()
    pc["tag"] = tag
    pc["custom_load"] = False
    pc["input_size"] = list(input_size)
    pc["fixed_input_size"] = True
    pc["interpolation"] = interpolation
    pc["crop_pct"] = crop_pct
    pc["crop_mode"] = "center"
    pc["mean"] = list(mean)
    pc["std"] = list(std)
    pc["num_classes"] = model.num_classes
    pc["pool_size"] = None
    pc["first_conv"] = "patch_embed.proj"
    pc["classifier"] = classifier
    cfg["pretrained_cfg"] = pc
    os.makedirs(dir, exist_ok=True)
    with open(os.path.join(dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    return cfg


def resize_size_for(img_size, crop_pct):
    """timm's eval transform: scale_size = floor(img_size / crop_pct)."""
    return int(math.floor(img_size / crop_pct))


# ---------------------------------------------------------------------------------------------
# preprocessing


def preprocess(path, resize_size, crop, interpolation="bicubic", mean=IMAGENET_MEAN,
               std=IMAGENET_STD, channels=3):
    """torchvision Resize(resize_size, interpolation) -> CenterCrop(crop) -> ToTensor ->
    Normalize(mean, std), on PIL.ImageOps.exif_transpose(Image.open(path)).convert("RGB"/"L").
    Returns a float32 tensor (channels, crop, crop)."""
    from PIL import Image, ImageOps
    from torchvision import transforms
    from torchvision.transforms import InterpolationMode

    modes = {"bicubic": InterpolationMode.BICUBIC, "bilinear": InterpolationMode.BILINEAR,
             "nearest": InterpolationMode.NEAREST}
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB" if channels == 3 else "L")
    tf = transforms.Compose([
        transforms.Resize(resize_size, interpolation=modes[interpolation]),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(mean=list(mean), std=list(std)),
    ])
    return tf(im)


# ---------------------------------------------------------------------------------------------
# The transformers layout


def to_hf_state_dict(sd, prefix):
    """timm's state dict -> transformers' names, in transformers' state_dict order. prefix "vit"
    (ViTForImageClassification: classifier.*) or "deit" (DeiTForImageClassificationWithTeacher
    when there is a dist_token: cls_classifier.* and distillation_classifier.*; else
    classifier.*). timm's qkv (rows q | k | v) is split into query, key and value."""
    distilled = "dist_token" in sd
    P = prefix + "."
    out = OrderedDict()
    out[P + "embeddings.cls_token"] = sd["cls_token"]
    if distilled:
        out[P + "embeddings.distillation_token"] = sd["dist_token"]
    out[P + "embeddings.position_embeddings"] = sd["pos_embed"]
    out[P + "embeddings.patch_embeddings.projection.weight"] = sd["patch_embed.proj.weight"]
    out[P + "embeddings.patch_embeddings.projection.bias"] = sd["patch_embed.proj.bias"]
    depth = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    for i in range(depth):
        b, L = "blocks.%d." % i, P + "encoder.layer.%d." % i
        for leaf in ("weight", "bias"):
            q, k, v = sd[b + "attn.qkv." + leaf].chunk(3, dim=0)
            out[L + "attention.attention.query." + leaf] = q.clone()
            out[L + "attention.attention.key." + leaf] = k.clone()
            out[L + "attention.attention.value." + leaf] = v.clone()
        for leaf in ("weight", "bias"):
            out[L + "attention.output.dense." + leaf] = sd[b + "attn.proj." + leaf]
        for leaf in ("weight", "bias"):
            out[L + "intermediate.dense." + leaf] = sd[b + "mlp.fc1." + leaf]
        for leaf in ("weight", "bias"):
            out[L + "output.dense." + leaf] = sd[b + "mlp.fc2." + leaf]
        for leaf in ("weight", "bias"):
            out[L + "layernorm_before." + leaf] = sd[b + "norm1." + leaf]
        for leaf in ("weight", "bias"):
            out[L + "layernorm_after." + leaf] = sd[b + "norm2." + leaf]
    out[P + "layernorm.weight"] = sd["norm.weight"]
    out[P + "layernorm.bias"] = sd["norm.bias"]
    head = "cls_classifier" if prefix == "deit" and distilled else "classifier"
    out[head + ".weight"] = sd["head.weight"]
    out[head + ".bias"] = sd["head.bias"]
    if distilled:
        out["distillation_classifier.weight"] = sd["head_dist.weight"]
        out["distillation_classifier.bias"] = sd["head_dist.bias"]
    return out


def write_hf_config(dir, model, prefix, name_or_path, labels, ln_eps):
    """transformers' config.json (ViTConfig / DeiTConfig as save_pretrained writes it)."""
    distilled = model.distilled
    arch = ("DeiTForImageClassificationWithTeacher" if distilled else "DeiTForImageClassification") \
        if prefix == "deit" else "ViTForImageClassification"
    cfg = OrderedDict()
    cfg["_name_or_path"] = name_or_path
    cfg["architectures"] = [arch]
    cfg["attention_probs_dropout_prob"] = 0.0
    cfg["encoder_stride"] = model.patch_size
    cfg["hidden_act"] = "gelu"
    cfg["hidden_dropout_prob"] = 0.0
    cfg["hidden_size"] = model.embed_dim
    cfg["id2label"] = OrderedDict((str(i), l) for i, l in enumerate(labels))
    cfg["image_size"] = model.img_size
    cfg["initializer_range"] = 0.02
    cfg["intermediate_size"] = int(model.embed_dim * model.mlp_ratio)
    cfg["label2id"] = OrderedDict((l, i) for i, l in enumerate(labels))
    cfg["layer_norm_eps"] = ln_eps
    cfg["model_type"] = prefix
    cfg["num_attention_heads"] = model.num_heads
    cfg["num_channels"] = model.in_chans
    cfg["num_hidden_layers"] = model.depth
    cfg["patch_size"] = model.patch_size
    cfg["qkv_bias"] = True
    cfg["torch_dtype"] = "float32"
    cfg["transformers_version"] = "4.26.0"
    os.makedirs(dir, exist_ok=True)
    with open(os.path.join(dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return cfg


def write_hf_preprocessor_config(dir, size, crop_size, resample, mean, std):
    """DeiTImageProcessor's preprocessor_config.json; size / crop_size as given (an int, the
    legacy form meaning a square, or {"height", "width"})."""
    cfg = OrderedDict()
    cfg["crop_size"] = crop_size
    cfg["do_center_crop"] = True
    cfg["do_normalize"] = True
    cfg["do_rescale"] = True
    cfg["do_resize"] = True
    cfg["image_mean"] = list(mean)
    cfg["image_processor_type"] = "DeiTImageProcessor"
    cfg["image_std"] = list(std)
    cfg["resample"] = resample
    cfg["rescale_factor"] = 1 / 255
    cfg["size"] = size
    with open(os.path.join(dir, "preprocessor_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    return cfg


def hf_size(v):
    """transformers' get_size_dict for the ViT/DeiT image processors (default_to_square): an int
    n is n x n. Returns (height, width)."""
    return (v, v) if isinstance(v, int) else (v["height"], v["width"])


def preprocess_hf(path, height, width, crop, resample, mean, std):
    """DeiTImageProcessor: resize to (height, width) with PIL's filter `resample` (2 bilinear,
    3 bicubic), center crop, rescale 1/255, normalize; here with torchvision: Resize((h, w)) ->
    CenterCrop(crop) -> ToTensor -> Normalize on exif_transpose(Image.open(f)).convert("RGB").
    transformers' center_crop takes the offset floor((side - crop) / 2) where torchvision rounds
    half to even; they agree when side - crop is even (asserted). Returns (3, crop, crop)."""
    from PIL import Image, ImageOps
    from torchvision import transforms
    from torchvision.transforms import InterpolationMode

    assert (height - crop) % 2 == 0 and (width - crop) % 2 == 0
    modes = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
             3: InterpolationMode.BICUBIC}
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    tf = transforms.Compose([
        transforms.Resize((height, width), interpolation=modes[resample]),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(mean=list(mean), std=list(std)),
    ])
    return tf(im)
