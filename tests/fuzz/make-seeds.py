#!/usr/bin/python3
"""make-seeds.py — write the seed corpora of the fuzz harnesses (tests/fuzz/corpus/fuzz-*/).

Developer tool, stdlib only; its output is committed. Seeds are small on purpose (libFuzzer
mutates small inputs faster): tiny synthetic models, the smaller fixture images, short IDX files.

    tests/fuzz/make-seeds.py [VITLENS_CLI]     (the CLI is used to export the .vitq seeds)
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, "fuzz-" + harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


class Rng:
    def __init__(self, seed):
        self.s = seed

    def f(self):
        self.s = (self.s * 1664525 + 1013904223) & 0xFFFFFFFF
        return ((self.s >> 8) / 16777216.0 - 0.5) * 0.2


def f16(x):
    return struct.pack("<e", x)


def bf16(x):
    return struct.pack("<f", x)[2:]


def safetensors(tensors, metadata=None, dtype="F32"):
    """tensors: list of (name, shape); values from an LCG, norm weights near 1."""
    rng = Rng(7)
    header, blobs, off = {}, [], 0
    for name, shape in tensors:
        n = 1
        for s in shape:
            n *= s
        vals = [rng.f() + (1.0 if "norm" in name and "weight" in name else 0.0) for _ in range(n)]
        if dtype == "F32":
            b = struct.pack("<%df" % n, *vals)
        elif dtype == "F16":
            b = b"".join(f16(v) for v in vals)
        else:
            b = b"".join(bf16(v) for v in vals)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def vit_tensors(D, C, P, grid, depth, H, K, distilled=False):
    t = [("patch_embed.proj.weight", (D, C, P, P)), ("patch_embed.proj.bias", (D,)),
         ("cls_token", (1, 1, D))]
    if distilled:
        t.append(("dist_token", (1, 1, D)))
    t.append(("pos_embed", (1, grid * grid + 1 + int(distilled), D)))
    for b in range(depth):
        p = "blocks.%d." % b
        t += [(p + "norm1.weight", (D,)), (p + "norm1.bias", (D,)),
              (p + "attn.qkv.weight", (3 * D, D)), (p + "attn.qkv.bias", (3 * D,)),
              (p + "attn.proj.weight", (D, D)), (p + "attn.proj.bias", (D,)),
              (p + "norm2.weight", (D,)), (p + "norm2.bias", (D,)),
              (p + "mlp.fc1.weight", (H, D)), (p + "mlp.fc1.bias", (H,)),
              (p + "mlp.fc2.weight", (D, H)), (p + "mlp.fc2.bias", (D,))]
    t += [("norm.weight", (D,)), ("norm.bias", (D,)), ("head.weight", (K, D)), ("head.bias", (K,))]
    if distilled:
        t += [("head_dist.weight", (K, D)), ("head_dist.bias", (K,))]
    return t


def config(C, img, K, heads, **extra):
    c = {"architecture": "seed", "num_classes": K, "model_args": {"num_heads": heads},
         "pretrained_cfg": {"input_size": [C, img, img], "crop_pct": 0.875,
                            "interpolation": "bicubic", "mean": [0.5] * C, "std": [0.25] * C}}
    c["pretrained_cfg"].update(extra)
    return json.dumps(c)


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "app", "cli", "vitlens-cli")
    # regenerate the seeds, keep the regression inputs (regress-*)
    for root, _, names in os.walk(OUT):
        for n in names:
            if not n.startswith("regress-"):
                os.unlink(os.path.join(root, n))

    # ---- safetensors: tiny models (the harness adds a config with 2 heads, so D=8 loads)
    models = {
        "d8-rgb-f32": (vit_tensors(8, 3, 2, 2, 1, 16, 3), None, "F32"),
        "d8-gray-f16": (vit_tensors(8, 1, 2, 2, 1, 16, 2), None, "F16"),
        "d8-rgb-bf16-distilled": (vit_tensors(8, 3, 2, 2, 2, 8, 3, True), None, "BF16"),
        "d8-labels-meta": (vit_tensors(8, 3, 2, 1, 1, 8, 2),
                           {"labels": json.dumps(["cat", "dog"]), "format": "pt"}, "F32"),
        "d64-gray-bf16": (vit_tensors(64, 1, 2, 1, 1, 64, 2), None, "BF16"),
    }
    for name, (t, meta, dt) in models.items():
        put("safetensors", name + ".safetensors", safetensors(t, meta, dt))
    put("safetensors", "empty-header.safetensors", struct.pack("<Q", 8) + b"{}      ")

    # ---- config.json: matching the harness's model (3x8x8, patch 4, D 64, 3 classes) and the
    # fixture models' own configs
    put("config", "match.json", config(3, 8, 3, 2))
    put("config", "match-labels.json",
        json.dumps({"num_classes": 3, "label_names": ["a", "b", "c"],
                    "model_args": {"num_heads": 4}, "input_size": [3, 8, 8],
                    "interpolation": "nearest", "crop_pct": 1.0, "mean": [0.1, 0.2, 0.3],
                    "std": [0.3, 0.2, 0.1]}))
    put("config", "resize.json", config(3, 8, 3, 1, vitlens_resize_size=11, interpolation="bilinear"))
    put("config", "empty.json", "{}")
    for m in ("tiny-p16", "tiny-p4-f16", "tiny-p8-distilled", "gray-p4"):
        shutil.copy(os.path.join(FIX, "models", m, "config.json"),
                    os.path.join(OUT, "fuzz-config", m + ".json"))

    # ---- .vitq: the tiny models exported by the CLI (per-tensor and per-channel)
    with tempfile.TemporaryDirectory() as tmp:
        for name, C, K, distilled in (("rgb", 3, 3, False), ("gray-distilled", 1, 2, True)):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            with open(os.path.join(d, "model.safetensors"), "wb") as f:
                f.write(safetensors(vit_tensors(8, C, 2, 2, 1, 16, K, distilled)))
            with open(os.path.join(d, "config.json"), "w") as f:
                f.write(config(C, 4, K, 2))
            with open(os.path.join(d, "labels.txt"), "w") as f:
                f.write("".join("class %d\n" % i for i in range(K)))
            # .vitl: packed for the scalar kernel (every checksum recomputable by the harness)
            # and for this machine's kernel
            for pc, kernel in ((0, "scalar"), (1, "scalar"), (0, "")):
                out = os.path.join(tmp, "%s-%s-%s.vitl" % (name, "pc" if pc else "pt", kernel or "native"))
                subprocess.run([cli, "export", "--variant", "optimized", "--model",
                                os.path.join(d, "model.safetensors"), "-o", out]
                               + (["--per-channel"] if pc else []), check=True,
                               stdout=subprocess.DEVNULL, env=dict(os.environ, VIT_KERNEL=kernel))
                with open(out, "rb") as f:
                    put("vitl", os.path.basename(out), f.read())
            for pc in (0, 1):
                out = os.path.join(tmp, "%s-%s.vitq" % (name, "pc" if pc else "pt"))
                subprocess.run([cli, "export", "--variant", "int8", "--model",
                                os.path.join(d, "model.safetensors"), "-o", out]
                               + (["--per-channel"] if pc else []), check=True,
                               stdout=subprocess.DEVNULL)
                with open(out, "rb") as f:
                    put("vitq", os.path.basename(out), f.read())

    # ---- images: the fixture PNGs and JPEGs up to 10 kB
    imgs = os.path.join(FIX, "images")
    for f in sorted(os.listdir(imgs)):
        p = os.path.join(imgs, f)
        if os.path.getsize(p) > 10000:
            continue
        if f.endswith(".png"):
            put("png", f, open(p, "rb").read())
        elif f.endswith(".jpg"):
            put("jpeg", f, open(p, "rb").read())
    for f in ("grad-45x37.png", "blobs-20x50.png"):
        put("png", f, open(os.path.join(FIX, "models", "images", f), "rb").read())

    # ---- IDX (plain and gzip): images (n, rows, cols), labels (n), 2 and 4 dims
    imgs3 = idx([2, 4, 3], range(24))
    put("idx", "images-2x4x3.idx", imgs3)
    put("idx", "images-2x4x3.idx.gz", gzip.compress(imgs3, mtime=0))
    put("idx", "labels-5.idx.gz", gzip.compress(idx([5], [0, 1, 2, 9, 3]), mtime=0))
    put("idx", "labels-5.idx", idx([5], [0, 1, 2, 9, 3]))
    put("idx", "matrix-3x2.idx", idx([3, 2], range(6)))
    put("idx", "four-dims.idx", idx([1, 2, 2, 2], range(8)))

    # ---- labels (the harness's model has 3 classes)
    put("labels", "plain.txt", "cat\ndog\nbird\n")
    put("labels", "crlf.txt", "cat\r\ndog\r\nbird")
    put("labels", "trailing-blank.txt", "a\nb\nc\n\n\n")
    put("labels", "utf8.txt", "猫\nchien\nVogel 🐦\n")
    put("labels", "too-few.txt", "one\ntwo\n")
    put("labels", "empty-names.txt", "\n\n\n")


if __name__ == "__main__":
    main()
