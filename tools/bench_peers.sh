#!/bin/sh
# tools/bench_peers.sh — our variants against PyTorch and ONNX Runtime, on the same machine in
# the same run: for each model and thread count, `vitlens-cli bench` (fp32, int8, optimized,
# lite), tools/bench_torch.py (eager fp32 and quantize_dynamic on onednn) and, when
# onnxruntime-node is installed, ONNX Runtime on the fp32 and int8 ONNX exports of
# tools/bench_peers.py, alternate ROUNDS times; the table gives the median of each engine's
# medians and the ratios. Developer tool, not used by the tests.
#   tools/bench_peers.sh [MODELDIR] [MODELS] [THREADS] [ROUNDS] [RUNS]
# Environment: CLI (default build/app/cli/vitlens-cli), ORT_NODE_MODULES (a node_modules with
# onnxruntime-node; `npm install --ignore-scripts onnxruntime-node` in a scratch directory
# outside the repository; default /var/tmp/vitlens-ort/node_modules), ONNX_DIR (where the ONNX
# exports and our .vitq files are cached, default /var/tmp/vitlens-peers). Needs /usr/bin/python3 with torch and
# the random-weight DeiTs of tools/make_deit_models.py. Leave OPENBLAS_* as they are.
set -eu
cd "$(dirname "$0")/.."
DIR=${1:-/var/tmp/vitlens-models}
MODELS=${2:-deit_tiny_patch16_224,deit_small_patch16_224,deit_base_patch16_224}
THREADS=${3:-1,2}
ROUNDS=${4:-3}
RUNS=${5:-20}
CLI=${CLI:-build/app/cli/vitlens-cli}
ORT_NODE_MODULES=${ORT_NODE_MODULES:-/var/tmp/vitlens-ort/node_modules}
ONNX_DIR=${ONNX_DIR:-/var/tmp/vitlens-peers}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

have_ort=0
if [ -d "$ORT_NODE_MODULES/onnxruntime-node" ] && command -v node >/dev/null 2>&1; then
    have_ort=1
    mkdir -p "$ONNX_DIR"
else
    echo "# onnxruntime-node not found in $ORT_NODE_MODULES: ONNX Runtime columns left out" >&2
fi

mkdir -p "$ONNX_DIR"
for m in $(echo "$MODELS" | tr , ' '); do
    [ -f "$ONNX_DIR/$m.vitq" ] || "$CLI" export --variant int8 \
        --model "$DIR/$m/model.safetensors" -o "$ONNX_DIR/$m.vitq" >/dev/null
    if [ $have_ort = 1 ] && [ ! -f "$ONNX_DIR/$m.int8.onnx" ]; then
        /usr/bin/python3 tools/bench_peers.py export "$DIR/$m" "$ONNX_DIR/$m" >/dev/null 2>&1 || {
            echo "# $m: ONNX export failed, ONNX Runtime left out" >&2
        }
    fi
    for t in $(echo "$THREADS" | tr , ' '); do
        r=1
        while [ $r -le "$ROUNDS" ]; do
            # fp32 on the safetensors, the int8 rows on the .vitq (no fp32 row in their loop;
            # also keeps an OpenBLAS fp32 run, VIT_KERNEL=scalar, whose threads keep spinning
            # after each call, from slowing down the rows after it)
            for spec in "$DIR/$m/model.safetensors:fp32" "$ONNX_DIR/$m.vitq:int8,optimized,lite"; do
                "$CLI" bench --json --no-load --model "${spec%:*}" --variants "${spec##*:}" \
                    --threads "$t" --runs "$RUNS" --warmup 3 |
                    sed -e "s/\"variant\": \"\\([a-z0-9]*\\)\"/\"engine\": \"ours-\\1\"/" \
                        -e "s/\"model\": \"[^\"]*\"/\"model\": \"$m\"/" >> "$OUT/ours.json"
            done
            /usr/bin/python3 tools/bench_torch.py --model-dir "$DIR" --models "$m" --threads "$t" \
                --runs "$RUNS" --warmup 3 --variants fp32,int8-onednn --modes inference_mode \
                --json 2>/dev/null | grep '^{' |
                sed -e 's/"variant": "fp32"/"engine": "torch-fp32"/' \
                    -e 's/"variant": "int8-onednn"/"engine": "torch-int8"/' >> "$OUT/torch.json" || true
            if [ $have_ort = 1 ] && [ -f "$ONNX_DIR/$m.int8.onnx" ]; then
                for e in fp32 int8; do
                    NODE_PATH="$ORT_NODE_MODULES" node tools/bench_peers.js "$ONNX_DIR/$m.$e.onnx" \
                        "$m" "ort-$e" "$t" "$RUNS" >> "$OUT/ort.json" || true
                done
            fi
            r=$((r + 1))
        done
    done
done

/usr/bin/python3 tools/bench_peers.py summarize "$OUT"
