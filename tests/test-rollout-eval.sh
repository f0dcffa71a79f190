#!/bin/sh
# test-rollout-eval.sh — the attention rollout of the int8 and optimized variants against fp32's
# on the first 1,000 Fashion-MNIST test images with the embedded model (vitlens-cli eval
# --explain): the mean Pearson correlation over the grid (rollout_corr_fp32) at least 0.98 for
# each variant, over every one of the images. Skipped when the data set is missing.
# Usage: test-rollout-eval.sh CLI
set -u
CLI=$1
DATA=/usr/share/datasets/fashion-mnist
if [ ! -f "$DATA/t10k-images-idx3-ubyte.gz" ]; then
    echo "SKIP: $DATA is missing (Debian package dataset-fashion-mnist)"
    exit 77
fi
out=$("$CLI" eval --json --explain --limit 1000 --variants fp32,int8,optimized \
    --dataset "fashion-mnist:$DATA")
status=$?
echo "$out" | jq -c '{variant, kernel, images, rollout_corr_fp32, rollout_images}'
[ $status -eq 0 ] || { echo "FAIL: eval exited $status"; exit 1; }
if echo "$out" | jq -s -e 'length == 3 and all(.[]; .images == 1000 and .rollout_images == 1000
        and .rollout_corr_fp32 >= 0.98)' >/dev/null; then
    echo "1 passed, 0 failed"
    exit 0
fi
echo "FAIL: a variant's rollout correlates with fp32's below 0.98 (or not over 1000 images)"
exit 1
