#!/bin/sh
# tools/bench_vs_torch.sh — the engine against PyTorch on the same machine in the same run:
# for each model and thread count, `vitlens-cli bench` (fp32, int8, …) and tools/bench_torch.py
# (eager fp32, quantize_dynamic onednn) alternate ROUNDS times; the table reports the median of
# each row's medians and the ratios. Developer tool: needs /usr/bin/python3 with torch and the
# random-weight DeiTs of tools/make_deit_models.py.
#   tools/bench_vs_torch.sh [MODELDIR] [MODELS] [THREADS] [ROUNDS] [RUNS] [VARIANTS]
set -eu
cd "$(dirname "$0")/.."
DIR=${1:-/var/tmp/vitlens-models}
MODELS=${2:-deit_tiny_patch16_224,deit_small_patch16_224,deit_base_patch16_224}
THREADS=${3:-1,2}
ROUNDS=${4:-3}
RUNS=${5:-20}
VARIANTS=${6:-fp32,int8}
CLI=${CLI:-build/app/cli/vitlens-cli}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for m in $(echo "$MODELS" | tr , ' '); do
    for t in $(echo "$THREADS" | tr , ' '); do
        r=1
        while [ $r -le "$ROUNDS" ]; do
            "$CLI" bench --json --model "$DIR/$m/model.safetensors" --variants "$VARIANTS" \
                --threads "$t" --runs "$RUNS" --warmup 3 >> "$OUT/ours-$m-$t.json"
            /usr/bin/python3 tools/bench_torch.py --model-dir "$DIR" --models "$m" --threads "$t" \
                --runs "$RUNS" --warmup 3 --variants fp32,int8-onednn --modes inference_mode \
                --json 2>/dev/null | grep '^{' >> "$OUT/torch-$m-$t.json" || true
            r=$((r + 1))
        done
    done
done

/usr/bin/python3 - "$OUT" "$MODELS" "$THREADS" <<'PY'
import json, os, statistics, sys
out, models, threads = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
print("| model | threads | ours fp32 ms | ours int8 ms | ours other | torch fp32 ms | torch int8 (onednn) ms | fp32 speed-up | int8 speed-up |")
print("|---|---|---|---|---|---|---|---|---|")
for m in models:
    for t in threads:
        ours, torch = {}, {}
        p = os.path.join(out, f"ours-{m}-{t}.json")
        if os.path.exists(p):
            for line in open(p):
                j = json.loads(line); ours.setdefault(j["variant"], []).append(j["median_ms"])
        p = os.path.join(out, f"torch-{m}-{t}.json")
        if os.path.exists(p):
            for line in open(p):
                j = json.loads(line)
                torch.setdefault(j.get("variant"), []).append(j.get("median_ms"))
        med = lambda d, k: statistics.median(d[k]) if d.get(k) else float("nan")
        of, oi, tf, ti = med(ours, "fp32"), med(ours, "int8"), med(torch, "fp32"), med(torch, "int8-onednn")
        other = ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in ours.items() if k not in ("fp32", "int8"))
        spread = lambda d, k: f" ({min(d[k]):.1f}–{max(d[k]):.1f})" if d.get(k) and len(d[k]) > 1 else ""
        print(f"| {m} | {t} | {of:.1f}{spread(ours,'fp32')} | {oi:.1f}{spread(ours,'int8')} | {other or '-'} | {tf:.1f}{spread(torch,'fp32')} | {ti:.1f}{spread(torch,'int8-onednn')} | {tf/of:.2f}× | {ti/oi:.2f}× |")
PY
