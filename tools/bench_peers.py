#!/usr/bin/python3
"""bench_peers.py — ONNX models for tools/bench_peers.sh: the fp32 model and an int8 one with
ONNX Runtime's dynamic-quantization pattern, from a model directory (model.safetensors +
config.json, as tools/make_deit_models.py writes them).

    /usr/bin/python3 tools/bench_peers.py export DIR OUT_PREFIX
        writes OUT_PREFIX.fp32.onnx and OUT_PREFIX.int8.onnx (batch 1, opset 13)
    /usr/bin/python3 tools/bench_peers.py summarize OUTDIR
        prints the table from the JSON lines the script collected

The int8 model is what onnxruntime.quantization.quantize_dynamic(per_channel=False,
weight_type=QInt8) makes of every nn.Linear (and what ONNX Runtime fuses into its
DynamicQuantizeMatMul kernel): DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q^T, x_zp, 0)
-> Cast -> Mul(x_scale * w_scale) -> Add(bias). Weights are quantized as torch's
quantize_dynamic does (symmetric per tensor, scale = max|w| / 127.5), so the three engines run
the same int8 weights. The patch Conv2d, LayerNorm, attention matmuls, softmax and GELU stay
fp32, as in torch's quantize_dynamic and in our int8 variant. Written with torch's own ONNX
exporter (no onnx / onnxruntime Python packages needed: Debian has neither).
"""

import json
import os
import statistics
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch  # noqa: E402


class _DynQLinear(torch.autograd.Function):
    """y = dequant(quant(x) @ W_q^T) + b; exported as ORT's dynamic-quantization node chain."""

    @staticmethod
    def forward(ctx, x, wq_t, w_scale, w_zp, bias):
        return x @ (wq_t.float() * w_scale) + bias

    @staticmethod
    def symbolic(g, x, wq_t, w_scale, w_zp, bias):
        xq, xs, xz = g.op("DynamicQuantizeLinear", x, outputs=3)
        acc = g.op("MatMulInteger", xq, wq_t, xz, w_zp)
        accf = g.op("Cast", acc, to_i=1)  # FLOAT
        scale = g.op("Mul", xs, w_scale)
        return g.op("Add", g.op("Mul", accf, scale), bias)


class QLinear(nn.Module):
    def __init__(self, lin):
        super().__init__()
        w = lin.weight.detach().float()
        scale = max(w.abs().max().item() / 127.5, torch.finfo(torch.float32).eps)
        q = torch.clamp(torch.round(w / scale), -128, 127).to(torch.int8)
        self.register_buffer("wq_t", q.t().contiguous())
        self.register_buffer("w_scale", torch.tensor(scale, dtype=torch.float32))
        self.register_buffer("w_zp", torch.tensor(0, dtype=torch.int8))
        b = lin.bias.detach().float() if lin.bias is not None else torch.zeros(w.shape[0])
        self.register_buffer("bias", b)

    def forward(self, x):
        return _DynQLinear.apply(x, self.wq_t, self.w_scale, self.w_zp, self.bias)


def quantize_linears(module):
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, QLinear(child))
        else:
            quantize_linears(child)
    return module


def export(model_dir, prefix):
    model, _ = bench_torch.load_model(model_dir)
    x = torch.randn(1, model.in_chans, model.img_size, model.img_size)
    with torch.no_grad():
        torch.onnx.export(model, x, prefix + ".fp32.onnx", opset_version=13,
                          input_names=["input"], output_names=["logits"])
        q = quantize_linears(model)
        torch.onnx.export(q, x, prefix + ".int8.onnx", opset_version=13,
                          input_names=["input"], output_names=["logits"])


def summarize(out):
    rows = {}
    for name in sorted(os.listdir(out)):
        if not name.endswith(".json"):
            continue
        for line in open(os.path.join(out, name)):
            line = line.strip()
            if not line.startswith("{"):
                continue
            j = json.loads(line)
            key = (j["model"], int(j["threads"]))
            rows.setdefault(key, {}).setdefault(j["engine"], []).append(j["median_ms"])
    engines = ["ours-fp32", "ours-int8", "ours-optimized", "ours-lite", "torch-fp32",
               "torch-int8", "ort-fp32", "ort-int8"]
    med = lambda d, k: statistics.median(d[k]) if d.get(k) else float("nan")
    print("| model | threads | " + " | ".join(e + " ms" for e in engines) +
          " | optimized vs int8 | vs torch int8 | vs ORT int8 |")
    print("|---|---|" + "---|" * (len(engines) + 3))
    for (m, t), d in sorted(rows.items()):
        o = med(d, "ours-optimized")
        cells = " | ".join("%.2f" % med(d, e) if d.get(e) else "-" for e in engines)
        print(f"| {m} | {t} | {cells} | {o / med(d, 'ours-int8'):.2f}× | "
              f"{med(d, 'torch-int8') / o:.2f}× faster | {med(d, 'ort-int8') / o:.2f}× faster |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "export":
        export(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "summarize":
        summarize(sys.argv[2])
    else:
        sys.exit(__doc__)
