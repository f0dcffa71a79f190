#!/usr/bin/python3
"""bench_torch.py — PyTorch eager baselines for the engine's benchmark: fp32 and dynamic int8.

Loads every model under --model-dir (DIR/<name>/model.safetensors + config.json, as written by
tools/make_deit_models.py; or DIR itself if it holds a model.safetensors) into the plain-torch
reference (tools/vit_reference.py) and times one batch-1 forward of:

    fp32            the eager fp32 model
    int8-onednn     torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    int8-qnnpack      with torch.backends.quantized.engine = "onednn" / "qnnpack"

each under torch.no_grad() and under torch.inference_mode() (--modes), for each --threads
value (torch.set_num_threads; qnnpack's pthreadpool follows it). Runs are interleaved: round r
runs every variant once, so background load hits all of them alike. Each run gets a different
random input (the same inputs for every variant), because the int8 activation scales depend on
the input. Reports median / min / p90 ms per row, as a table and, with --json, one JSON object
per line. Also reports the size of torch.save(model.state_dict()) for fp32 and each int8 model
(the PyTorch dynamic quantization tutorial's size comparison).

    /usr/bin/python3 tools/bench_torch.py --model-dir /var/tmp/vitlens-models \\
        --threads 1,2 --runs 30 [--warmup 3] [--models deit_tiny_patch16_224,...] \\
        [--variants fp32,int8-onednn,int8-qnnpack] [--modes no_grad,inference_mode] [--json]

Run it on a quiet machine; leave OPENBLAS_*/OMP_* settings as the environment has them. With
as many threads as cores, any other load makes OpenMP's spinning threads wait on each other
and times jump by 10-100x: such rows are noise. Debian's torch 1.13 qnnpack prints
"qnnpack incorrectly ignores reduce_range" to stderr once per Linear per call (part of its
cost; that printing is on the C++ side and can't be filtered): run with 2>/dev/null.
"""

import argparse
import io
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402

VARIANTS = ["fp32", "int8-onednn", "int8-qnnpack"]
MODES = ["no_grad", "inference_mode"]


def find_models(root):
    if os.path.isfile(os.path.join(root, "model.safetensors")):
        return [(os.path.basename(os.path.normpath(root)), root)]
    out = []
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if os.path.isfile(os.path.join(d, "model.safetensors")):
            out.append((name, d))
    return out


def load_model(d):
    """fp32 reference model from d/model.safetensors (+ d/config.json when present)."""
    sd = vr.load_safetensors(os.path.join(d, "model.safetensors"))
    heads = img = None
    cfg = {}
    cpath = os.path.join(d, "config.json")
    if os.path.exists(cpath):
        with open(cpath) as f:
            cfg = json.load(f)
        heads = cfg.get("model_args", {}).get("num_heads")
        size = cfg.get("pretrained_cfg", {}).get("input_size")
        img = size[-1] if size else None
    model = vr.model_from_state_dict(sd, num_heads=heads, img_size=img)
    return model, cfg.get("architecture", os.path.basename(d))


def state_dict_bytes(model):
    """The tutorial's print_size_of_model: the size of torch.save(model.state_dict())."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell()


def quantize(model, engine):
    torch.backends.quantized.engine = engine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def run_once(variant, model, x, mode):
    if variant != "fp32":
        torch.backends.quantized.engine = variant.split("-", 1)[1]
    ctx = torch.inference_mode() if mode == "inference_mode" else torch.no_grad()
    with ctx:
        t0 = time.perf_counter()
        model(x)
        return (time.perf_counter() - t0) * 1e3


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--models", default="", help="comma-separated subset of the model dirs")
    ap.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per row")
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs per row first")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="also print one JSON line per row")
    args = ap.parse_args()

    variants = [v for v in args.variants.split(",") if v]
    modes = [m for m in args.modes.split(",") if m]
    threads = [int(t) for t in args.threads.split(",") if t]
    for v in variants:
        if v not in VARIANTS:
            ap.error("unknown variant %r" % v)
        if v != "fp32" and v.split("-", 1)[1] not in torch.backends.quantized.supported_engines:
            ap.error("this torch has no %s engine" % v)
    for m in modes:
        if m not in MODES:
            ap.error("unknown mode %r" % m)
    models = find_models(args.model_dir)
    if args.models:
        want = set(args.models.split(","))
        models = [(n, d) for n, d in models if n in want]
    if not models:
        ap.error("no model.safetensors under %s" % args.model_dir)

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print("# torch %s, engines %s, %s, %d cores; OPENBLAS_CORETYPE=%s OMP_NUM_THREADS=%s" % (
        torch.__version__, ",".join(torch.backends.quantized.supported_engines), cpu,
        os.cpu_count(), os.environ.get("OPENBLAS_CORETYPE", "-"),
        os.environ.get("OMP_NUM_THREADS", "-")))
    print("# batch 1, %d warmup + %d timed runs per row, interleaved; ms" % (args.warmup,
                                                                          args.runs))
    hdr = "%-34s %3s %-13s %-15s %9s %9s %9s %10s" % ("model", "thr", "variant", "mode",
                                                     "median", "min", "p90", "size MB")
    print(hdr)
    print("-" * len(hdr))
    rows = []
    for name, d in models:
        model, arch = load_model(d)
        sizes = {"fp32": state_dict_bytes(model)}
        for nt in threads:
            torch.set_num_threads(nt)
            nets = {"fp32": model}
            for v in variants:
                if v != "fp32":
                    nets[v] = quantize(model, v.split("-", 1)[1])
                    sizes.setdefault(v, state_dict_bytes(nets[v]))
            gen = torch.Generator().manual_seed(args.seed)
            shape = (1, model.in_chans, model.img_size, model.img_size)
            inputs = [torch.randn(shape, generator=gen) for _ in range(args.warmup + args.runs)]
            keys = [(v, m) for v in variants for m in modes]
            times = {k: [] for k in keys}
            for r, x in enumerate(inputs):
                for v, m in keys:
                    t = run_once(v, nets[v], x, m)
                    if r >= args.warmup:
                        times[(v, m)].append(t)
            for v, m in keys:
                ts = times[(v, m)]
                row = dict(model=name, architecture=arch, threads=nt, variant=v, mode=m,
                           batch=1, runs=len(ts), median_ms=statistics.median(ts),
                           min_ms=min(ts), p90_ms=pct(ts, 90), state_dict_bytes=sizes[v],
                           torch=torch.__version__)
                rows.append(row)
                print("%-34s %3d %-13s %-15s %9.2f %9.2f %9.2f %10.2f" % (
                    name, nt, v, m, row["median_ms"], row["min_ms"], row["p90_ms"],
                    sizes[v] / 1e6))
            sys.stdout.flush()
        del model
    print()
    print("# size of torch.save(state_dict): fp32 vs int8 (dynamic, Linear layers only)")
    seen = set()
    for r in rows:
        if r["variant"] != "fp32" and (r["model"], r["variant"]) not in seen:
            seen.add((r["model"], r["variant"]))
            fp = next(x["state_dict_bytes"] for x in rows
                      if x["model"] == r["model"] and x["variant"] == "fp32") \
                if "fp32" in variants else None
            ratio = (" (%.2fx smaller)" % (fp / r["state_dict_bytes"])) if fp else ""
            print("%-34s %-13s %8.2f MB%s" % (r["model"], r["variant"],
                                              r["state_dict_bytes"] / 1e6, ratio))
    if args.json:
        print()
        for r in rows:
            print(json.dumps(r))


if __name__ == "__main__":
    main()
