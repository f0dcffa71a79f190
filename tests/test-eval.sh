#!/bin/sh
# test-eval.sh — accuracy of every variant of the embedded model on the full Fashion-MNIST test
# set (10,000 images, Debian's dataset-fashion-mnist), against the accuracy recorded for the
# shipped model in resources/models/fashion-vit/eval.json:
#   fp32 may not fall more than 0.1 point below the recorded fp32 top-1;
#   int8 and optimized may not lose more than 0.3 point against fp32, and must agree with fp32's
#   top-1 on at least 99.5% of the images; optimized must also agree with int8 on 99.5%.
# Usage: test-eval.sh CLI RECORD_JSON
set -u
CLI=$1
REC=$2
DATA=/usr/share/datasets/fashion-mnist
if [ ! -f "$DATA/t10k-images-idx3-ubyte.gz" ]; then
    echo "SKIP: $DATA is missing (Debian package dataset-fashion-mnist)"
    exit 77
fi
if [ ! -f "$REC" ]; then
    echo "FAIL: $REC is missing"
    exit 1
fi
variants=$(jq -r '.variants | join(",")' "$REC")
out=$("$CLI" eval --json --variants "$variants" --dataset "fashion-mnist:$DATA")
status=$?
echo "$out" | jq -c '{variant, images, top1, top5, agree_fp32, agree_int8, ms_per_image, kernel}'
[ $status -eq 0 ] || { echo "FAIL: eval exited $status"; exit 1; }
recorded=$(jq '.fp32_top1' "$REC")
echo "$out" | jq -s -e --argjson rec "$recorded" '
  (map(select(.variant == "fp32")) | .[0]) as $f
  | $f.images == 10000
  and $f.top1 >= $rec - 0.001
  and all(.[] | select(.variant != "fp32"); .top1 >= $f.top1 - 0.003 and .agree_fp32 >= 0.995)
  and all(.[] | select(.variant == "optimized"); (.agree_int8 // 1) >= 0.995)' >/dev/null
if [ $? -eq 0 ]; then
    echo "1 passed, 0 failed (recorded fp32 top-1 $recorded)"
    exit 0
fi
echo "FAIL: accuracy below the recorded $recorded (fp32 -0.1 point; int8/optimized -0.3 point, agreement >= 99.5%)"
exit 1
