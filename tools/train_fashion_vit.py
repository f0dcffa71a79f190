#!/usr/bin/python3
"""Train ViT Lens' embedded default model: a small distilled ViT on Fashion-MNIST.

Developer-only tool (needs PyTorch; run it with /usr/bin/python3).

Pipeline (DeiT recipe, scaled down to 28x28 gray images):
  1. train a small CNN teacher (conv + BN) with the same augmentation;
  2. train a ViT student with timm's exact DeiT-distilled architecture and
     state-dict names (cls + dist tokens, head + head_dist) using hard-label
     distillation: loss = (CE_smooth(head(cls), y) + CE(head_dist(dist), argmax teacher)) / 2;
  3. export F32 safetensors (written by hand, no safetensors package needed),
     timm-hub style config.json, labels.txt and TRAINING.md;
  4. --verify re-reads the safetensors with an independent reader, loads it into a
     fresh model (strict) and into a pure-numpy forward pass, and checks that the
     logits and the test accuracy are reproduced.

Checkpoints go to --work-dir (default /var/tmp/vitlens-train), one per epoch, so an
interrupted run can continue with --resume.  --export-only writes the output files
from the latest student checkpoint.  --quick is a smoke test (1 epoch on 2000 images).

Typical use (from the repository root):
  mkdir -p /var/tmp/vitlens-train
  nohup /usr/bin/python3 tools/train_fashion_vit.py --budget-min 100 \
      > /var/tmp/vitlens-train/train.log 2>&1 &
"""

import argparse
import gzip
import json
import math
import os
import random
import struct
import sys
import time

# The 2 cores are shared with other work: with the default (spinning) OpenMP wait policy a
# 2-thread step is up to 7x slower as soon as another process occupies a core, so make
# idle OpenMP threads sleep.  (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are left alone.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ARCH = "vit_fashion_distilled_patch4_28"
IMG = 28
PATCH = 4

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, flush=True)


# --------------------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, "only unsigned-byte IDX files supported"
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(shape).copy()


def load_fashion(data_dir):
    def p(n):
        return os.path.join(data_dir, n)
    xtr = read_idx(p("train-images-idx3-ubyte.gz"))
    ytr = read_idx(p("train-labels-idx1-ubyte.gz"))
    xte = read_idx(p("t10k-images-idx3-ubyte.gz"))
    yte = read_idx(p("t10k-labels-idx1-ubyte.gz"))
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    return (torch.from_numpy(xtr), torch.from_numpy(ytr).long(),
            torch.from_numpy(xte), torch.from_numpy(yte).long())


def augment(x, gen):
    """Batched augmentation of (B,1,28,28) float images in [0,1] (object bright on black).

    Random polarity inversion (photos: dark object on a light background), affine
    (scale / shift / small rotation, like RandomResizedCrop + RandomAffine), horizontal
    flip, contrast / brightness / gamma jitter, a little noise.  All randomness comes
    from `gen`, so a given epoch is reproducible (also after --resume)."""
    B = x.shape[0]

    def U(lo, hi, n=B):
        return torch.rand(n, generator=gen) * (hi - lo) + lo

    # affine: output pixel (normalised coords) samples input at A @ [u, v, 1]
    scale = torch.exp(U(math.log(0.85), math.log(1.15)))      # object size factor
    rot = U(-10, 10) * math.pi / 180
    tx = U(-0.15, 0.15)                                         # +-2.1 px
    ty = U(-0.15, 0.15)
    aspect = torch.exp(U(math.log(0.93), math.log(1.07)))
    flip = torch.rand(B, generator=gen) < 0.5
    sx = 1.0 / (scale * aspect.sqrt())
    sy = 1.0 / (scale / aspect.sqrt())
    sx = torch.where(flip, -sx, sx)
    cos, sin = torch.cos(rot), torch.sin(rot)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = cos * sx
    theta[:, 0, 1] = -sin * sy
    theta[:, 1, 0] = sin * sx
    theta[:, 1, 1] = cos * sy
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    # keep ~40% of the images geometrically clean (apart from the flip)
    keep = torch.rand(B, generator=gen) < 0.4
    ident = torch.zeros(B, 2, 3)
    ident[:, 0, 0] = torch.where(flip, -1.0, 1.0)
    ident[:, 1, 1] = 1.0
    theta = torch.where(keep.view(B, 1, 1), ident, theta)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    # photometric
    inv = (torch.rand(B, generator=gen) < 0.3).view(B, 1, 1, 1)
    x = torch.where(inv, 1.0 - x, x)
    x0 = x.clamp(0, 1)
    gamma = torch.exp(U(math.log(0.75), math.log(1.33))).view(B, 1, 1, 1)
    x = x.clamp(0, 1) ** gamma
    contrast = U(0.7, 1.2).view(B, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean
    x = x + U(-0.10, 0.10).view(B, 1, 1, 1)
    noise_amp = U(0.0, 0.03).view(B, 1, 1, 1)
    x = x + noise_amp * torch.randn(x.shape, generator=gen)
    x = x.clamp(0, 1)
    # keep ~40% of the images photometrically clean (apart from the inversion)
    clean = (torch.rand(B, generator=gen) < 0.4).view(B, 1, 1, 1)
    return torch.where(clean, x0, x)


def to_input(xu8, mean, std):
    return (xu8.float().unsqueeze(1) / 255.0 - mean) / std


# --------------------------------------------------------------------------- models

class Teacher(nn.Module):
    def __init__(self, w=32):
        super().__init__()

        def cbr(i, o):
            return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(
            *cbr(1, w), *cbr(w, w), nn.MaxPool2d(2),             # 14
            *cbr(w, 2 * w), *cbr(2 * w, 2 * w), nn.MaxPool2d(2),  # 7
            *cbr(2 * w, 4 * w), *cbr(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(4 * w, 10))

    def forward(self, x):
        return self.fc(self.features(x))


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, PATCH, stride=PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        a = (q * self.scale) @ k.transpose(-2, -1)
        a = a.softmax(dim=-1)
        x = (a @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DistilledViT(nn.Module):
    """timm VisionTransformerDistilled (DeiT) layout / state-dict names."""

    def __init__(self, dim=96, depth=6, heads=3, mlp_ratio=4.0, in_chans=1, num_classes=10):
        super().__init__()
        n = (IMG // PATCH) ** 2
        self.patch_embed = PatchEmbed(in_chans, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 2, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)
        self.head_dist = nn.Linear(dim, num_classes)
        for p in (self.cls_token, self.dist_token, self.pos_embed):
            nn.init.trunc_normal_(p, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_heads(self, x):
        x = self.patch_embed(x)
        B = x.shape[0]
        x = torch.cat([self.cls_token.expand(B, -1, -1), self.dist_token.expand(B, -1, -1), x], 1)
        x = self.blocks(x + self.pos_embed)
        x = self.norm(x)
        return self.head(x[:, 0]), self.head_dist(x[:, 1])

    def forward(self, x):
        a, b = self.forward_heads(x)
        return (a + b) / 2


def make_student(args):
    return DistilledViT(args.embed_dim, args.depth, args.heads, 4.0)


def no_decay(name, p):
    return p.ndim <= 1 or name in ("cls_token", "dist_token", "pos_embed")


# --------------------------------------------------------------------------- train utils

def lr_at(step, total, warmup, base, min_lr):
    if step < warmup:
        return base * (step + 1) / warmup
    if total is None:
        return base
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_lr + 0.5 * (base - min_lr) * (1 + math.cos(math.pi * p))


@torch.no_grad()
def evaluate(model, x, y, mean, std, bs=500, heads=False):
    model.eval()
    correct = np.zeros(3)
    for i in range(0, len(x), bs):
        xb = to_input(x[i:i + bs], mean, std)
        if heads:
            a, b = model.forward_heads(xb)
            outs = [(a + b) / 2, a, b]
        else:
            outs = [model(xb)]
        for j, o in enumerate(outs):
            correct[j] += (o.argmax(1) == y[i:i + bs]).sum().item()
    acc = 100.0 * correct / len(x)
    return acc if heads else acc[0]


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def epoch_batches(n, bs, seed, epoch):
    g = torch.Generator().manual_seed(seed * 1000 + epoch)
    perm = torch.randperm(n, generator=g)
    nb = n // bs  # drop last partial batch
    return [perm[i * bs:(i + 1) * bs] for i in range(nb)], g


def train_teacher(args, data, mean, std, state):
    xtr, ytr, xte, yte = data
    ck = os.path.join(args.work_dir, "teacher.pt")
    torch.manual_seed(args.seed)
    model = Teacher()
    opt = torch.optim.AdamW(model.parameters(), lr=args.teacher_lr, weight_decay=5e-4)
    bs = args.batch_size
    steps_per_epoch = len(xtr) // bs
    total = steps_per_epoch * args.teacher_epochs
    warm = max(1, steps_per_epoch // 2)
    start = 0
    hist = []
    if args.resume and os.path.exists(ck):
        c = torch.load(ck)
        model.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        start, hist = c["epoch"], c["hist"]
        state["elapsed_before"] = c["elapsed"]
        log(f"teacher: resumed after epoch {start}")
        if c.get("done"):
            return model, hist
    for ep in range(start, args.teacher_epochs):
        t0 = time.time()
        model.train()
        batches, g = epoch_batches(len(xtr), bs, args.seed + 17, ep)
        tl, tc, seen = 0.0, 0, 0
        for i, idx in enumerate(batches):
            step = ep * steps_per_epoch + i
            for pg in opt.param_groups:
                pg["lr"] = lr_at(step, total, warm, args.teacher_lr, 1e-5)
            xb = augment(xtr[idx].float().unsqueeze(1) / 255.0, g)
            xb = (xb - mean) / std
            out = model(xb)
            loss = F.cross_entropy(out, ytr[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tl += loss.item() * len(idx)
            tc += (out.argmax(1) == ytr[idx]).sum().item()
            seen += len(idx)
        acc = evaluate(model, xte, yte, mean, std)
        dt = time.time() - t0
        hist.append({"epoch": ep + 1, "loss": tl / seen, "train_aug_acc": 100.0 * tc / seen,
                     "test_top1": acc, "sec": dt})
        log(f"teacher epoch {ep + 1}/{args.teacher_epochs} loss {tl / seen:.4f} "
            f"train(aug) {100.0 * tc / seen:.2f}% test top1 {acc:.2f}% ({dt:.0f}s)")
        atomic_save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": ep + 1,
                     "hist": hist, "elapsed": elapsed(state),
                     "done": ep + 1 == args.teacher_epochs}, ck)
    return model, hist


def elapsed(state):
    return state["elapsed_before"] + (time.time() - state["t_start"])


def train_student(args, data, mean, std, teacher, state):
    xtr, ytr, xte, yte = data
    ck = os.path.join(args.work_dir, "student.pt")
    torch.manual_seed(args.seed + 1)
    model = make_student(args)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    decay = [p for n, p in model.named_parameters() if not no_decay(n, p)]
    nodecay = [p for n, p in model.named_parameters() if no_decay(n, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": nodecay, "weight_decay": 0.0}], lr=args.lr)
    bs = args.batch_size
    spe = len(xtr) // bs
    warm = max(1, int(round(args.warmup_epochs * spe)))
    epochs = args.epochs  # None = decided after the first epoch from --budget-min
    planned = epochs
    start, hist = 0, []
    if args.resume and os.path.exists(ck):
        c = torch.load(ck)
        model.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        start, hist, epochs = c["epoch"], c["hist"], c["epochs"]
        planned = min(c.get("planned", args.max_epochs), args.max_epochs)
        if args.epochs is not None:
            epochs = args.epochs
        state["elapsed_before"] = c["elapsed"]
        log(f"student: resumed after epoch {start}, planned epochs {epochs}")
    elif args.init_student:
        # a warm restart: the weights of an earlier run's final epoch, then a new warm-up and
        # cosine schedule from --lr (the optimizer state starts afresh)
        c = torch.load(args.init_student)
        model.load_state_dict(c["model"])
        args.init_student_epochs = c["epoch"]
        args.init_student_top1 = c["hist"][-1]["test_top1"]
        log(f"student: starting from {args.init_student} (epoch {c['epoch']}, test top1 "
            f"{args.init_student_top1:.2f}%)")
    ep = start
    while epochs is None or ep < epochs:
        t0 = time.time()
        model.train()
        batches, g = epoch_batches(len(xtr), bs, args.seed + 29, ep)
        total = None if epochs is None else epochs * spe
        sl, sc, seen = 0.0, 0, 0
        for i, idx in enumerate(batches):
            step = ep * spe + i
            lr = lr_at(step, total, warm, args.lr, args.min_lr)
            for pg in opt.param_groups:
                pg["lr"] = lr
            xb = augment(xtr[idx].float().unsqueeze(1) / 255.0, g)
            xb = (xb - mean) / std
            with torch.no_grad():
                tgt = teacher(xb).argmax(1)
            a, b = model.forward_heads(xb)
            loss = 0.5 * (F.cross_entropy(a, ytr[idx], label_smoothing=args.smoothing)
                          + F.cross_entropy(b, tgt))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if args.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
            opt.step()
            sl += loss.item() * len(idx)
            sc += (((a + b) / 2).argmax(1) == ytr[idx]).sum().item()
            seen += len(idx)
        acc, acc_cls, acc_dist = evaluate(model, xte, yte, mean, std, heads=True)
        dt = time.time() - t0
        ep += 1
        if epochs is None:
            # size the run: the first epoch (incl. evaluation) sets the pace
            left = args.budget_min * 60 - elapsed(state) - args.reserve_min * 60
            epochs = max(ep, ep + int(left // dt))
            epochs = min(epochs, args.max_epochs)
            planned = epochs
            log(f"student: first epoch took {dt:.0f}s, {elapsed(state) / 60:.1f} min elapsed "
                f"-> planning {epochs} epochs for a {args.budget_min:.0f} min budget")
        elif args.budget_min and not args.no_shrink and ep < epochs and args.epochs is None:
            # the cores are shared, so epoch times vary: re-plan from the mean of the last 3
            # epochs.  Shrink the remaining epochs if the run would overrun budget+overrun;
            # grow them again (never beyond the first plan) if the budget has room for >= 2
            # more.  The cosine schedule is a function of step/total, so it simply jumps.
            recent = [h["sec"] for h in hist[-2:]] + [dt]
            t_ep = sum(recent) / len(recent)
            left = elapsed(state) + args.reserve_min * 60
            proj = left + (epochs - ep) * t_ep
            hard = (args.budget_min + args.overrun_min) * 60
            fit = ep + int((args.budget_min * 60 - left) // t_ep)
            new = epochs
            if proj > hard:
                new = max(ep, ep + int((hard - left) // t_ep))
            elif fit >= epochs + 2:
                new = min(fit, planned)
            if new != epochs:
                log(f"student: re-plan with {t_ep:.0f}s/epoch (projected {proj / 60:.0f} min) -> "
                    f"epochs {epochs} -> {new}")
                epochs = new
        hist.append({"epoch": ep, "lr_end": lr, "loss": sl / seen, "train_aug_acc": 100.0 * sc / seen,
                     "test_top1": acc, "test_top1_cls": acc_cls, "test_top1_dist": acc_dist,
                     "sec": dt})
        log(f"student epoch {ep}/{epochs} lr {lr:.2e} loss {sl / seen:.4f} train(aug) "
            f"{100.0 * sc / seen:.2f}% test top1 {acc:.2f}% (cls {acc_cls:.2f}%, "
            f"dist {acc_dist:.2f}%) ({dt:.0f}s, total {elapsed(state) / 60:.1f} min)")
        atomic_save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": ep,
                     "epochs": epochs, "planned": planned, "hist": hist, "elapsed": elapsed(state),
                     "args": vars(args)}, ck)
    return model, hist


# --------------------------------------------------------------------------- export

def write_safetensors(path, tensors, metadata):
    header = {}
    off = 0
    blobs = []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hj = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def export(args, model, mean, std, test_acc, teacher_hist, student_hist, wall_s, command):
    os.makedirs(args.out_dir, exist_ok=True)
    sd = model.state_dict()
    D = args.embed_dim
    meta = {"labels": json.dumps(LABELS), "format": "pt", "test_top1": f"{test_acc:.2f}",
            "architecture": ARCH, "mean": json.dumps([round(mean, 4)]),
            "std": json.dumps([round(std, 4)])}
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), sd, meta)
    cfg = {
        "architecture": ARCH, "num_classes": 10, "num_features": D,
        "model_args": {"img_size": IMG, "patch_size": PATCH, "in_chans": 1, "embed_dim": D,
                       "depth": args.depth, "num_heads": args.heads, "mlp_ratio": 4.0,
                       "distilled": True},
        "label_names": LABELS,
        "pretrained_cfg": {"input_size": [1, IMG, IMG], "crop_pct": 1.0,
                           "interpolation": "bilinear", "mean": [round(mean, 4)],
                           "std": [round(std, 4)], "num_classes": 10,
                           "first_conv": "patch_embed.proj", "classifier": ["head", "head_dist"]},
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out_dir, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    nparams = sum(p.numel() for p in model.parameters())
    size = os.path.getsize(os.path.join(args.out_dir, "model.safetensors"))
    L = []
    L.append("# fashion-vit: training log summary\n")
    L.append("ViT Lens' embedded default model, trained by `tools/train_fashion_vit.py`.\n")
    L.append("## Command\n")
    L.append("```\n" + command + "\n```\n")
    L.append("## Model\n")
    L.append(f"- architecture: `{ARCH}` (timm DeiT-distilled layout: cls + dist token, "
             f"`head` + `head_dist`, logits = mean of both heads)")
    L.append(f"- embed dim {D}, depth {args.depth}, heads {args.heads} (head dim "
             f"{D // args.heads}), MLP ratio 4, patch {PATCH}, input 1x{IMG}x{IMG} gray, "
             f"49 patches + 2 tokens")
    L.append(f"- parameters: {nparams:,}; model.safetensors: {size:,} bytes (F32)")
    L.append(f"- normalization: mean {mean:.4f}, std {std:.4f} (Fashion-MNIST training set, "
             f"pixels in [0,1])\n")
    L.append("## Training\n")
    L.append(f"- data: Fashion-MNIST (Debian `dataset-fashion-mnist`), {args.n_train} training "
             f"images; the 10,000 test images are only reported, never used for selection "
             f"(the final epoch is shipped)")
    L.append("- augmentation (teacher and student): random polarity inversion p=0.3, "
             "random affine p=0.6 (scale 0.85-1.15, aspect 0.93-1.07, shift +-2.1 px, rotation "
             "+-10 deg), horizontal flip p=0.5, photometric jitter p=0.6 (gamma 0.75-1.33, "
             "contrast 0.7-1.2, brightness +-0.1, Gaussian noise sigma up to 0.03)")
    L.append(f"- teacher: CNN (6 conv3x3+BN+ReLU, 32-64-128 channels, avg-pool, linear), "
             f"{args.teacher_epochs} epochs, AdamW lr {args.teacher_lr}, cosine, label smoothing 0.05")
    L.append(f"- student: hard-label distillation, loss = (CE(head(cls), y; smoothing "
             f"{args.smoothing}) + CE(head_dist(dist), argmax teacher)) / 2; AdamW lr "
             f"{args.lr}, weight decay {args.weight_decay}, batch {args.batch_size}, "
             f"warmup {args.warmup_epochs} epoch, cosine to {args.min_lr}, grad clip {args.clip_grad}")
    if getattr(args, "init_student", None):
        L.append(f"- warm restart: the student starts from `{args.init_student}`, an earlier "
                 f"run's weights after {getattr(args, 'init_student_epochs', '?')} epochs "
                 f"(test top-1 {getattr(args, 'init_student_top1', float('nan')):.2f}%); the "
                 f"epochs below are the new schedule's")
    L.append(f"- threads: {args.threads}; seed {args.seed}; wall time {wall_s / 60:.1f} min "
             f"(teacher + student + export)\n")
    L.append("## Teacher (CNN) per epoch\n")
    L.append("| epoch | loss | train acc (aug) | test top-1 | seconds |")
    L.append("|---|---|---|---|---|")
    for h in teacher_hist:
        L.append(f"| {h['epoch']} | {h['loss']:.4f} | {h['train_aug_acc']:.2f}% | "
                 f"{h['test_top1']:.2f}% | {h['sec']:.0f} |")
    L.append("")
    L.append("## Student (ViT) per epoch\n")
    L.append("| epoch | lr at end | loss | train acc (aug) | test top-1 | cls head | dist head | seconds |")
    L.append("|---|---|---|---|---|---|---|---|")
    for h in student_hist:
        L.append(f"| {h['epoch']} | {h['lr_end']:.2e} | {h['loss']:.4f} | {h['train_aug_acc']:.2f}% | "
                 f"{h['test_top1']:.2f}% | {h['test_top1_cls']:.2f}% | "
                 f"{h['test_top1_dist']:.2f}% | {h['sec']:.0f} |")
    L.append("")
    L.append("## Result\n")
    t_acc = teacher_hist[-1]["test_top1"] if teacher_hist else float("nan")
    L.append(f"- teacher test top-1: {t_acc:.2f}%")
    L.append(f"- student test top-1 (fp32, shipped, mean of both heads): {test_acc:.2f}%")
    with open(os.path.join(args.out_dir, "TRAINING.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    log(f"exported to {args.out_dir}: {nparams:,} params, {size:,} bytes")


# --------------------------------------------------------------------------- verify

def read_safetensors(path):
    """Independent minimal reader (numpy only)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header length not a multiple of 8"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    end_max = 0
    for name, h in header.items():
        assert h["dtype"] == "F32", name
        b, e = h["data_offsets"]
        cnt = int(np.prod(h["shape"])) if h["shape"] else 1
        assert e - b == 4 * cnt, name
        out[name] = np.frombuffer(data, dtype="<f4", count=cnt, offset=b).reshape(h["shape"])
        end_max = max(end_max, e)
    assert end_max == len(data), "trailing / missing data"
    return out, meta


def numpy_forward(W, cfg, x):
    """Reference DeiT-distilled forward pass in numpy (float64), x: (B,1,28,28) normalised."""
    erf = np.vectorize(math.erf)
    D = cfg["embed_dim"]
    H = cfg["num_heads"]
    hd = D // H
    P = cfg["patch_size"]
    B = x.shape[0]
    g = IMG // P
    pw = W["patch_embed.proj.weight"].astype(np.float64).reshape(D, -1)
    patches = x.reshape(B, 1, g, P, g, P).transpose(0, 2, 4, 1, 3, 5).reshape(B, g * g, -1)
    t = patches @ pw.T + W["patch_embed.proj.bias"]
    cls = np.broadcast_to(W["cls_token"].reshape(1, 1, D), (B, 1, D))
    dst = np.broadcast_to(W["dist_token"].reshape(1, 1, D), (B, 1, D))
    t = np.concatenate([cls, dst, t], 1) + W["pos_embed"]

    def ln(v, p):
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + 1e-6) * W[p + ".weight"] + W[p + ".bias"]

    def lin(v, p):
        return v @ W[p + ".weight"].astype(np.float64).T + W[p + ".bias"]

    for i in range(cfg["depth"]):
        p = f"blocks.{i}."
        h = ln(t, p + "norm1")
        qkv = lin(h, p + "attn.qkv").reshape(B, -1, 3, H, hd).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = q @ k.transpose(0, 1, 3, 2) * hd ** -0.5
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        o = (a @ v).transpose(0, 2, 1, 3).reshape(B, -1, D)
        t = t + lin(o, p + "attn.proj")
        h = lin(ln(t, p + "norm2"), p + "mlp.fc1")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        t = t + lin(h, p + "mlp.fc2")
    t = ln(t, "norm")
    return (lin(t[:, 0], "head") + lin(t[:, 1], "head_dist")) / 2


def verify(args, data, mean_std, ref_model=None):
    out_dir = args.out_dir
    path = os.path.join(out_dir, "model.safetensors")
    W, meta = read_safetensors(path)
    with open(os.path.join(out_dir, "config.json")) as f:
        cfg = json.load(f)
    ma = cfg["model_args"]
    assert cfg["architecture"] == ARCH and cfg["num_features"] == ma["embed_dim"]
    assert json.loads(meta["labels"]) == LABELS == cfg["label_names"], "labels mismatch"
    assert meta["format"] == "pt"
    with open(os.path.join(out_dir, "labels.txt")) as f:
        assert f.read().splitlines() == LABELS
    mean, std = cfg["pretrained_cfg"]["mean"][0], cfg["pretrained_cfg"]["std"][0]
    model = DistilledViT(ma["embed_dim"], ma["depth"], ma["num_heads"], ma["mlp_ratio"])
    expected = set(model.state_dict().keys())
    assert set(W) == expected, f"key mismatch: {set(W) ^ expected}"
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in W.items()}, strict=True)
    model.eval()
    xtr, ytr, xte, yte = data
    xb = to_input(xte[:16], mean, std)
    with torch.no_grad():
        lt = model(xb).numpy()
    if ref_model is not None:
        ref_model.eval()
        with torch.no_grad():
            lr_ = ref_model(xb).numpy()
        d = np.abs(lt - lr_).max()
        log(f"verify: reloaded vs in-memory model logits max |diff| = {d:.3g}")
        assert d < 1e-5
    ln_ = numpy_forward(W, ma, xb[:4].numpy().astype(np.float64))
    d = np.abs(lt[:4] - ln_).max()
    log(f"verify: torch vs independent numpy forward logits max |diff| = {d:.3g}")
    assert d < 1e-3, "numpy reference forward disagrees"
    acc = evaluate(model, xte, yte, mean, std)
    log(f"verify: test top1 from file {acc:.2f}% (metadata says {meta['test_top1']}%)")
    assert abs(acc - float(meta["test_top1"])) < 0.011
    log("verify: first test image logits: " + " ".join(f"{v:.4f}" for v in lt[0]))
    log(f"verify: OK ({len(W)} tensors, {os.path.getsize(path):,} bytes)")


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out-dir", default=os.path.join(REPO, "resources/models/fashion-vit"))
    ap.add_argument("--work-dir", default="/var/tmp/vitlens-train", help="checkpoints")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embed-dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--heads", type=int, default=None, help="default embed_dim/32")
    ap.add_argument("--epochs", type=int, default=None,
                    help="student epochs (default: sized from the first epoch and --budget-min)")
    ap.add_argument("--budget-min", type=float, default=100.0, help="wall-time budget of the whole run")
    ap.add_argument("--reserve-min", type=float, default=2.0, help="time kept for export/verify")
    ap.add_argument("--overrun-min", type=float, default=8.0, help="shrink epochs if projected beyond budget+this")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--max-epochs", type=int, default=100)
    ap.add_argument("--teacher-epochs", type=int, default=7)
    ap.add_argument("--teacher-lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup-epochs", type=float, default=0.5)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--clip-grad", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test on 2000 images (1 teacher epoch, 1-3 student epochs); writes to "
                         "WORK_DIR/quick/out unless --out-dir is given")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-student", default=None,
                    help="start the student from this student.pt (an earlier run's final weights) "
                         "with a new schedule: a warm restart")
    ap.add_argument("--export-only", action="store_true", help="export the latest student checkpoint")
    ap.add_argument("--verify", action="store_true",
                    help="only verify the files in --out-dir (also done automatically after export)")
    args = ap.parse_args()
    args.out_dir_given = any(a.startswith("--out-dir") for a in sys.argv[1:])
    if args.heads is None:
        args.heads = max(1, args.embed_dim // 32)
    assert args.embed_dim % args.heads == 0
    command = "/usr/bin/python3 tools/train_fashion_vit.py " + " ".join(sys.argv[1:])

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.work_dir, exist_ok=True)

    state = {"t_start": time.time(), "elapsed_before": 0.0}
    xtr, ytr, xte, yte = load_fashion(args.data_dir)
    mean = (xtr.double() / 255).mean().item()
    std = (xtr.double() / 255).std().item()
    mean, std = round(mean, 4), round(std, 4)
    if args.quick:
        args.n_train = 2000
        xtr, ytr = xtr[:2000], ytr[:2000]
        args.teacher_epochs = 1
        args.max_epochs = min(args.max_epochs, 3)   # epochs auto-sized from a 0.5 min budget
        args.budget_min, args.reserve_min = 0.5, 0.0
        args.work_dir = os.path.join(args.work_dir, "quick")
        os.makedirs(args.work_dir, exist_ok=True)
        if not args.out_dir_given:
            args.out_dir = os.path.join(args.work_dir, "out")
    args.n_train = len(xtr)
    data = (xtr, ytr, xte, yte)
    log(f"torch {torch.__version__}, threads {torch.get_num_threads()}, train {len(xtr)}, "
        f"test {len(xte)}, mean {mean} std {std}")
    log("args: " + json.dumps(vars(args)))

    if args.verify:
        verify(args, data, (mean, std))
        return

    if args.export_only:
        ck = torch.load(os.path.join(args.work_dir, "student.pt"))
        a = ck["args"]
        for k in ("embed_dim", "depth", "heads", "teacher_epochs", "teacher_lr", "batch_size", "lr",
                  "min_lr", "weight_decay", "warmup_epochs", "smoothing", "clip_grad", "seed",
                  "threads"):
            setattr(args, k, a[k])
        model = make_student(args)
        model.load_state_dict(ck["model"])
        tck = os.path.join(args.work_dir, "teacher.pt")
        thist = torch.load(tck)["hist"] if os.path.exists(tck) else []
        acc = evaluate(model, xte, yte, mean, std)
        log(f"export-only: student checkpoint epoch {ck['epoch']}/{ck['epochs']} test top1 {acc:.2f}%")
        export(args, model, mean, std, acc, thist, ck["hist"], ck["elapsed"], a.get("command", command)
               + f"\n(exported with --export-only after epoch {ck['epoch']})")
        verify(args, data, (mean, std), model)
        return

    mean_t = torch.tensor(mean)
    std_t = torch.tensor(std)
    args.command = command
    teacher, thist = train_teacher(args, data, mean_t, std_t, state)
    log(f"teacher done: test top1 {thist[-1]['test_top1']:.2f}%, {elapsed(state) / 60:.1f} min elapsed")
    nparams = sum(p.numel() for p in make_student(args).parameters())
    log(f"student: dim {args.embed_dim} depth {args.depth} heads {args.heads}, {nparams:,} params")
    student, shist = train_student(args, data, mean_t, std_t, teacher, state)
    acc = shist[-1]["test_top1"]
    export(args, student, mean, std, acc, thist, shist, elapsed(state), command)
    verify(args, data, (mean, std), student)
    log(f"all done in {elapsed(state) / 60:.1f} min: teacher {thist[-1]['test_top1']:.2f}%, "
        f"student {acc:.2f}%")


if __name__ == "__main__":
    main()
