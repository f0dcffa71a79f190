#!/usr/bin/python3
"""make_deit_models.py — random-weight DeiTs in timm's hub layout, for benchmarks (not tests).

For each model writes DIR/<name>/model.safetensors (F32, timm's tensor names, ordered like the
`safetensors` library writes the real hub files: __metadata__ first, tensors sorted by name)
and DIR/<name>/config.json (timm's real hub values for that architecture). The weights use
timm's default init (trunc_normal std .02, zero biases, LayerNorm 1/0), seeded. The files are
big (deit_base: 346 MB): keep them outside the repository.

    /usr/bin/python3 tools/make_deit_models.py --out /var/tmp/vitlens-models \\
        [--models deit_tiny_patch16_224,deit_small_patch16_224,...] [--seed 0] [--force]
"""

import argparse
import os
import sys
import time
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402

# timm's deit.py: embed_dim, depth, num_heads; pretrained_cfg of the fb_in1k tags.
_SIZES = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12)}
ARCHS = {}
for _size, (_d, _depth, _heads) in _SIZES.items():
    for _dist in (False, True):
        _mid = "_distilled" if _dist else ""
        ARCHS["deit_%s%s_patch16_224" % (_size, _mid)] = dict(
            img_size=224, patch_size=16, embed_dim=_d, depth=_depth, num_heads=_heads,
            distilled=_dist, crop_pct=0.875)
for _dist in (False, True):
    _mid = "_distilled" if _dist else ""
    ARCHS["deit_base%s_patch16_384" % _mid] = dict(
        img_size=384, patch_size=16, embed_dim=768, depth=12, num_heads=12, distilled=_dist,
        crop_pct=1.0)

DEFAULT_MODELS = ["deit_tiny_patch16_224", "deit_small_patch16_224", "deit_base_patch16_224",
                  "deit_tiny_distilled_patch16_224"]


def make(name, out, seed, order):
    a = ARCHS[name]
    torch.manual_seed(seed)
    model = vr.build_model(a["img_size"], a["patch_size"], 3, 1000, a["embed_dim"], a["depth"],
                           a["num_heads"], distilled=a["distilled"])  # timm init inside
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.safetensors")
    tmp = path + ".tmp"
    vr.save_safetensors(tmp, model.state_dict(), dtype="F32", metadata={"format": "pt"},
                        order=order)
    os.replace(tmp, path)
    # real hub configs (timm/deit_*.fb_in1k) carry no model_args: heads = D / 64 holds for DeiT
    vr.write_timm_config(d, name, model, (3, a["img_size"], a["img_size"]), a["crop_pct"],
                         "bicubic", vr.IMAGENET_MEAN, vr.IMAGENET_STD, tag="fb_in1k")
    return path, sum(p.numel() for p in model.state_dict().values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory (outside the repository)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated; known: " + ", ".join(sorted(ARCHS)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--order", choices=["sorted", "state_dict"], default="sorted",
                    help="tensor order in the file (sorted = like the safetensors library)")
    ap.add_argument("--force", action="store_true", help="rewrite models that already exist")
    args = ap.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        if n not in ARCHS:
            ap.error("unknown model %r (known: %s)" % (n, ", ".join(sorted(ARCHS))))
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        path = os.path.join(args.out, n, "model.safetensors")
        if os.path.exists(path) and os.path.exists(os.path.join(args.out, n, "config.json")) \
                and not args.force:
            print("%-34s exists (use --force to rewrite)" % n)
            continue
        t0 = time.time()
        path, params = make(n, args.out, args.seed * 1000003 + zlib.crc32(n.encode()),
                             args.order)
        print("%-34s %11d params  %7.1f MB  %.1f s" % (n, params, os.path.getsize(path) / 1e6,
                                                       time.time() - t0))


if __name__ == "__main__":
    main()
