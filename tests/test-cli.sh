#!/bin/sh
# test-cli.sh — vitlens-cli as a user runs it: classify (same top-5 as PyTorch + torchvision on the
# fixture images), JSON output, bad input, bench, export and eval. Needs jq.
# Usage: test-cli.sh CLI FIXTURES_DIR
set -u
CLI=$1
FX=$2
. "$(dirname "$0")/check-common.sh"

# 1. classify on the fixture images: the whole path image file -> top-5 equals PyTorch's
for model in tiny-p16 gray-p4 tiny-p16-hf tiny-p8-distilled-hf; do
    for img in grad-45x37 blobs-20x50; do
        want=$(jq -c "[.models[\"$model\"].images[] | select(.image == \"images/$img.png\") | .top5[]]" "$FX/models/cases.json")
        got=$("$CLI" classify --json --model "$FX/models/$model/model.safetensors" "$FX/models/images/$img.png" | jq -c '[.top[].index]')
        [ "$got" = "$want" ]
        check "/cli/classify/$model/$img top-5 $got = PyTorch $want" $?
    done
done

# 2. JSON fields and timings
line=$("$CLI" classify --json --top 3 --model "$FX/models/tiny-p16/model.safetensors" "$FX/models/images/grad-45x37.png")
echo "$line" | jq -e '(.top | length) == 3 and .variant == "fp32" and (.ms.decode >= 0) and (.ms.preprocess >= 0) and (.ms.forward > 0) and (.image | endswith("grad-45x37.png")) and (.top[0].prob > 0)' >/dev/null
check "/cli/classify/json-fields" $?

# 3. bad input: a message naming the file, non-zero status, the other images still classified
printf 'not an image at all' > "$TMP/notes.png"
out=$("$CLI" classify --json --model "$FX/models/tiny-p16/model.safetensors" "$TMP/notes.png" "$FX/models/images/grad-45x37.png" 2>"$TMP/err")
status=$?
[ $status -eq 1 ] && grep -q "notes.png: not a PNG or JPEG image" "$TMP/err" && [ "$(echo "$out" | jq -s length)" -eq 1 ]
check "/cli/classify/bad-image-keeps-going ($(cat "$TMP/err"))" $?
"$CLI" classify --model "$TMP/missing.safetensors" "$FX/models/images/grad-45x37.png" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "missing.safetensors: cannot open" "$TMP/err"
check "/cli/classify/missing-model ($(cat "$TMP/err"))" $?
"$CLI" classify --top 99 --model "$FX/models/tiny-p16/model.safetensors" x.png 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--top" "$TMP/err"
check "/cli/classify/bad-option ($(cat "$TMP/err"))" $?
"$CLI" classify --variant fast --model "$FX/models/tiny-p16/model.safetensors" x.png 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "unknown variant 'fast'" "$TMP/err"
check "/cli/classify/bad-variant" $?
# the options classify, stream and export share (cli_common_option): a bad value is refused with
# its option's name, exit 2; export has no --threads or --top and refuses them as unknown
ok=0
"$CLI" classify --threads 0 x.png 2>"$TMP/err"; [ $? -eq 2 ] && grep -q -- "--threads: '0'" "$TMP/err" || ok=1
"$CLI" stream --top 0 --test-pattern --frames 1 2>"$TMP/err"; [ $? -eq 2 ] && grep -q -- "--top: '0'" "$TMP/err" || ok=1
"$CLI" stream --variant fast --test-pattern --frames 1 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "unknown variant 'fast'" "$TMP/err" || ok=1
for opt in "--threads 2" "--top 3"; do
  # shellcheck disable=SC2086
  "$CLI" export $opt -o "$TMP/never.vitq" 2>"$TMP/err"; [ $? -eq 2 ] && grep -q "unrecognized option" "$TMP/err" && [ ! -e "$TMP/never.vitq" ] || ok=1
done
check "/cli/common-options" $ok

# text from files reaches a terminal and JSON escaped: a label with an ESC sequence and a byte
# that is not UTF-8, and a file name with ESC in it
mkdir -p "$TMP/esc"
cp "$FX/models/tiny-p16/model.safetensors" "$FX/models/tiny-p16/config.json" "$TMP/esc/"
{ printf 'wolf\033[31mRED\377\n'; for i in 1 2 3 4 5 6 7 8 9; do echo "c$i"; done; } > "$TMP/esc/labels.txt"
"$CLI" classify --model "$TMP/esc/model.safetensors" "$FX/models/images/grad-45x37.png" > "$TMP/out"
! grep -q "$(printf '\033')" "$TMP/out" && ! LC_ALL=C grep -q "$(printf '\377')" "$TMP/out" && grep -q 'wolf\\x1b\[31mRED' "$TMP/out"
check "/cli/classify/label-escaped-for-terminal ($(grep wolf "$TMP/out" | tr -d '\033'))" $?
"$CLI" classify --json --model "$TMP/esc/model.safetensors" "$FX/models/images/grad-45x37.png" > "$TMP/out"
[ "$(jq -r '.top[0].label' "$TMP/out" | od -An -c | tr -s ' ' | tr -d '\n')" = " w o l f 033 [ 3 1 m R E D 357 277 275 \\n" ] && ! grep -q "$(printf '\033')" "$TMP/out" && ! LC_ALL=C grep -q "$(printf '\377')" "$TMP/out"
check "/cli/classify/label-escaped-in-json ($(jq -c '.top[0].label' "$TMP/out"))" $?
"$CLI" classify --model "$FX/models/tiny-p16/model.safetensors" "$TMP/bad$(printf '\033')[2Jname.png" 2>"$TMP/err"
[ $? -eq 1 ] && ! grep -q "$(printf '\033')" "$TMP/err" && grep -q 'bad\\x1b\[2Jname.png: cannot open' "$TMP/err"
check "/cli/classify/file-name-escaped-in-messages ($(tr -d '\033' < "$TMP/err"))" $?

# 4. bench: one JSON object per variant, with the documented fields
"$CLI" bench --json --runs 5 --warmup 1 --variants fp32,int8 --model "$FX/models/tiny-p8-distilled/model.safetensors" > "$TMP/bench.json"
jq -e -s 'length == 2 and .[0].variant == "fp32" and .[1].variant == "int8" and all(.[]; .median_ms > 0 and .min_ms <= .median_ms and .p90_ms >= .median_ms and .runs == 5 and .threads >= 1 and .file_bytes > 0 and .top1_agree >= 0 and (.kernel | length) > 0) and .[1].file_bytes < .[0].file_bytes' "$TMP/bench.json" >/dev/null
check "/cli/bench/json" $?
# bench --profile: a "profile" object per variant (every class, ms >= 0, GEMM rates > 0), and the
# table in the text output; VIT_OPT_PROFILE=1 --verbose logs the classes too
"$CLI" bench --json --profile --no-load --runs 3 --warmup 1 --variants fp32,int8,optimized --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench-prof.json"
jq -e -s 'length == 3 and all(.[]; .profile.forward_ms > 0 and (.profile.ops | keys | length) == 9 and all(.profile.ops[]; .ms >= 0) and ([.profile.ops.patch, .profile.ops.qkv, .profile.ops.attention, .profile.ops.proj, .profile.ops.fc1, .profile.ops.fc2, .profile.ops.head] | all(.gops > 0)))' "$TMP/bench-prof.json" >/dev/null
check "/cli/bench/profile-json" $?
# bench --explain: every variant also runs a session with the rollout on (its grid is there after
# the runs), timed beside the plain one: its median and its cost against it, in the JSON, the CSV
# and the text table; without it, none of that
"$CLI" bench --json --explain --no-load --runs 3 --warmup 0 --variants fp32,int8,optimized --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench-explain.json" &&
  "$CLI" bench --json --no-load --runs 2 --warmup 0 --variants fp32,int8,optimized --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench-plain.json" &&
  jq -e -s 'length == 3 and all(.[]; .rollout_grid == [2, 2] and .rollout_median_ms > 0 and (.rollout_cost_pct | type) == "number" and .rollout_paired_p10_pct <= .rollout_paired_median_pct and .rollout_paired_median_pct <= .rollout_paired_p90_pct and ((100 * (.rollout_median_ms / .median_ms - 1) - .rollout_cost_pct) | fabs) < 2)' "$TMP/bench-explain.json" >/dev/null &&
  jq -e -s 'length == 3 and all(.[]; has("rollout_grid") or has("rollout_median_ms") | not)' "$TMP/bench-plain.json" >/dev/null &&
  "$CLI" bench --csv --explain --no-load --runs 2 --warmup 0 --variants fp32,int8 --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench-explain.csv" &&
  head -1 "$TMP/bench-explain.csv" | grep -q ',rollout_median_ms,rollout_cost_pct$' &&
  [ "$(awk -F, 'NR > 1 && NF == 16' "$TMP/bench-explain.csv" | wc -l)" = 2 ] &&
  "$CLI" bench --explain --no-load --runs 2 --warmup 0 --variants fp32,optimized --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench-explain.txt" &&
  grep -q "^the attention rollout's cost" "$TMP/bench-explain.txt" &&
  grep -Eq '^optimized +[0-9.]+ +[0-9.]+ +[-+][0-9.]+% +[-+][0-9.]+% / [-+][0-9.]+% / [-+][0-9.]+%$' "$TMP/bench-explain.txt" &&
  "$CLI" bench --no-load --runs 2 --warmup 0 --variants fp32 --model "$FX/models/tiny-p16/model.safetensors" | grep -vq "rollout"
check "/cli/bench/explain" $?
"$CLI" bench --profile --no-load --runs 2 --warmup 0 --variants fp32,optimized --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench-prof.txt"
grep -q "^where the time goes" "$TMP/bench-prof.txt" && grep -q "^fc1 + GELU" "$TMP/bench-prof.txt" && grep -q "^forward .*100.0%" "$TMP/bench-prof.txt"
check "/cli/bench/profile-table" $?
VIT_OPT_PROFILE=1 "$CLI" bench --verbose --no-load --runs 2 --warmup 0 --variants optimized --model "$FX/models/tiny-p16/model.safetensors" > /dev/null 2> "$TMP/bench-prof.log"
grep -q "^optimized, .* runs: .* qkv .* attention .* other" "$TMP/bench-prof.log"
check "/cli/bench/opt-profile-env-log" $?
"$CLI" bench --csv --runs 3 --warmup 0 --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/bench.csv"
# no --variants: the tutorial's whole table, in its order
[ "$(head -1 "$TMP/bench.csv" | cut -d, -f1-4)" = "variant,median_ms,min_ms,p90_ms" ] &&
    [ "$(tail -n +2 "$TMP/bench.csv" | cut -d, -f1 | paste -sd, -)" = "fp32,int8,optimized,lite" ]
check "/cli/bench/csv-every-variant ($(tail -n +2 "$TMP/bench.csv" | cut -d, -f1 | paste -sd, -))" $?

md=$("$CLI" bench --markdown --runs 3 --warmup 0 --variants fp32,int8 --model "$FX/models/tiny-p16/model.safetensors" --plot "$TMP/chart.png")
echo "$md" | grep -q '^| Model | Inference Time' && [ "$(echo "$md" | grep -c '^| \(fp32\|int8\) |')" -eq 2 ]
check "/cli/bench/markdown" $?
if [ -f "$TMP/chart.png" ]; then
    # PNG signature, then IHDR width and height (big-endian) at bytes 16..23
    sig=$(head -c 8 "$TMP/chart.png" | od -An -tx1 | tr -d ' \n')
    w=$(od -An -tu1 -j16 -N4 "$TMP/chart.png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    h=$(od -An -tu1 -j20 -N4 "$TMP/chart.png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    [ "$sig" = "89504e470d0a1a0a" ] && [ "$w" -eq 720 ] && [ "$h" -eq 232 ]
    check "/cli/bench/plot-png (${w}x${h})" $?
else
    check "/cli/bench/plot-png written" 1
fi

# 5. export int8 -> .vitq, then classify with it
"$CLI" export --variant int8 --model "$FX/models/tiny-p16/model.safetensors" -o "$TMP/m.vitq" >/dev/null
check "/cli/export/vitq" $?
a=$("$CLI" classify --json --variant int8 --model "$FX/models/tiny-p16/model.safetensors" "$FX/models/images/grad-45x37.png" | jq -c '[.top[] | [.index, .prob]]')
b=$("$CLI" classify --json --variant int8 --model "$TMP/m.vitq" "$FX/models/images/grad-45x37.png" | jq -c '[.top[] | [.index, .prob]]')
[ -n "$a" ] && [ "$a" = "$b" ]
check "/cli/export/vitq-same-int8-result" $?
"$CLI" classify --variant fp32 --model "$TMP/m.vitq" "$FX/models/images/grad-45x37.png" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "fp32 variant is not available" "$TMP/err"
check "/cli/export/vitq-has-no-fp32 ($(cat "$TMP/err"))" $?

# output paths: only regular files are replaced, links are written through, a long name works,
# and nothing is left behind
mkdir -p "$TMP/od"
mkfifo "$TMP/od/fifo"
"$CLI" export --variant int8 --model "$FX/models/tiny-p16/model.safetensors" -o "$TMP/od/fifo" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && [ -p "$TMP/od/fifo" ] && grep -q "fifo: is a FIFO, not a regular file" "$TMP/err"
check "/cli/export/fifo-refused-and-kept ($(cat "$TMP/err"))" $?
"$CLI" export --variant int8 --model "$FX/models/tiny-p16/model.safetensors" -o /dev/null >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && [ -c /dev/null ] && grep -q "null: is a device" "$TMP/err"
check "/cli/export/dev-null-refused ($(cat "$TMP/err"))" $?
ln -s m.vitq "$TMP/od/link.vitq" && cp "$TMP/m.vitq" "$TMP/od/m.vitq" && : > "$TMP/od/m.vitq"
"$CLI" export --variant int8 --model "$FX/models/tiny-p16/model.safetensors" -o "$TMP/od/link.vitq" >/dev/null
[ $? -eq 0 ] && [ -L "$TMP/od/link.vitq" ] && cmp -s "$TMP/od/m.vitq" "$TMP/m.vitq"
check "/cli/export/symlink-written-through" $?
long=$(printf 'n%.0s' $(seq 1 250)).vitq
"$CLI" export --variant int8 --model "$FX/models/tiny-p16/model.safetensors" -o "$TMP/od/$long" >/dev/null 2>"$TMP/err"
[ $? -eq 0 ] && [ -s "$TMP/od/$long" ]
check "/cli/export/255-byte-name ($(cat "$TMP/err"))" $?
"$CLI" bench --runs 1 --warmup 0 --no-load --variants fp32 --model "$FX/models/tiny-p16/model.safetensors" --plot "$TMP/od/fifo" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && [ -p "$TMP/od/fifo" ] && grep -q "fifo: is a FIFO, not a regular file" "$TMP/err"
check "/cli/bench/plot-onto-fifo-refused-and-kept ($(tail -1 "$TMP/err"))" $?
"$CLI" eval --limit 5 --variants fp32 --model "$FX/models/gray-p4/model.safetensors" --dataset "fashion-mnist" --confusion-png "$TMP/od/fifo" >/dev/null 2>"$TMP/err"
[ -p "$TMP/od/fifo" ]
check "/cli/eval/confusion-png-onto-fifo-kept ($(tail -1 "$TMP/err"))" $?
[ -z "$(ls -A "$TMP/od" | grep -v -e '^fifo$' -e '^link.vitq$' -e '^m.vitq$' -e "^$long\$")" ]
check "/cli/export/no-temporaries-left ($(ls -A "$TMP/od" | tr '\n' ' ' | cut -c1-80))" $?

# 6. eval on Fashion-MNIST (Debian's dataset-fashion-mnist) with a gray fixture model
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    "$CLI" eval --json --limit 300 --variants fp32,int8 --model "$FX/models/gray-p4/model.safetensors" \
        --confusion-png "$TMP/cm.png" > "$TMP/eval.json"
    jq -e -s 'length == 2 and all(.[]; .images == 300 and .top1 >= 0 and .top5 >= .top1 and .agree_fp32 > 0.5 and .ms_per_image > 0 and (.confusion | length) == 10) and .[0].agree_fp32 == 1' "$TMP/eval.json" >/dev/null
    check "/cli/eval/fashion-mnist-json" $?
    [ "$(head -c 8 "$TMP/cm.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]
    check "/cli/eval/confusion-png" $?
else
    echo "skip /cli/eval: dataset-fashion-mnist is not installed"
fi
mkdir -p "$TMP/set/3" "$TMP/set/7"
cp "$FX/models/images/grad-45x37.png" "$TMP/set/3/a.png"
cp "$FX/models/images/blobs-20x50.png" "$TMP/set/7/b.png"
"$CLI" eval --json --variants fp32 --dataset "imagefolder:$TMP/set" --model "$FX/models/tiny-p16/model.safetensors" > "$TMP/eval2.json"
jq -e '.images == 2 and .variant == "fp32"' "$TMP/eval2.json" >/dev/null
check "/cli/eval/imagefolder" $?
mkdir -p "$TMP/set/zebra"
"$CLI" eval --variants fp32 --dataset "imagefolder:$TMP/set" --model "$FX/models/tiny-p16/model.safetensors" 2>"$TMP/err" >/dev/null
[ $? -eq 1 ] && grep -q "folder 'zebra'" "$TMP/err"
check "/cli/eval/imagefolder-unknown-class" $?

# per-class accuracy counts every image of the class: a sneaker and a bag in the Sneaker folder
# (7) of the built-in model are 50% top-1 and 50% for Sneaker, though the bag's prediction (Bag,
# 8) is outside the data set's classes 0-7
SAMPLES=$(dirname "$0")/../resources/samples
mkdir -p "$TMP/shoes/7" "$TMP/shoes/2"
cp "$SAMPLES/sneaker.png" "$SAMPLES/bag.png" "$TMP/shoes/7/"
"$CLI" eval --json --variants fp32 --dataset "imagefolder:$TMP/shoes" > "$TMP/eval3.json"
jq -e '.images == 2 and .top1 == 0.5 and .per_class_top1[7] == 0.5 and (.per_class_top1 | length) == 8' \
    "$TMP/eval3.json" >/dev/null
check "/cli/eval/per-class-counts-predictions-outside ($(jq -c '[.top1, .per_class_top1[7]]' "$TMP/eval3.json"))" $?

# mapping.txt: a line longer than 1 kB is still one class; a WordNet id on a line past the
# model's classes is refused with the mapping file named
mkdir -p "$TMP/mapped/nB"
cp "$SAMPLES/bag.png" "$TMP/mapped/nB/"
{ printf 'nA %02000d\n' 0; echo nB; } > "$TMP/mapped/mapping.txt"
"$CLI" eval --json --variants fp32 --dataset "imagefolder:$TMP/mapped" > "$TMP/eval4.json"
jq -e '(.per_class_top1 | length) == 2' "$TMP/eval4.json" >/dev/null
check "/cli/eval/mapping-long-line" $?
rm -rf "$TMP/mapped/nB" && mkdir -p "$TMP/mapped/n11"
cp "$SAMPLES/bag.png" "$TMP/mapped/n11/"
for i in $(seq 0 11); do echo "n$i"; done > "$TMP/mapped/mapping.txt"
"$CLI" eval --variants fp32 --dataset "imagefolder:$TMP/mapped" 2>"$TMP/err" >/dev/null
[ $? -eq 1 ] && grep -q "mapping.txt: folder 'n11' is on line 12, but the model has 10 classes" "$TMP/err"
check "/cli/eval/mapping-past-the-model ($(cat "$TMP/err"))" $?

# an empty class folder beside a full one
mkdir -p "$TMP/shoes/2"
"$CLI" eval --json --variants fp32 --dataset "imagefolder:$TMP/shoes" > "$TMP/eval5.json"
jq -e '.images == 2' "$TMP/eval5.json" >/dev/null
check "/cli/eval/empty-class-folder" $?

# classify --explain: the rollout in the JSON line equals the fixture's PyTorch rollout only on
# input.f32 (tests/test-rollout.c); here its shape and scale, and the PNG over the picture
line=$("$CLI" classify --json --explain --model "$FX/models/gray-p4/model.safetensors" "$FX/models/images/grad-45x37.png")
echo "$line" | jq -e '.rollout.grid == [7, 7] and (.rollout.values | length) == 49
    and ([.rollout.values[]] | max) == 1 and ([.rollout.values[]] | min) > 0' >/dev/null
check "/cli/classify/explain-json" $?
"$CLI" classify --json --model "$FX/models/gray-p4/model.safetensors" "$FX/models/images/grad-45x37.png" | jq -e 'has("rollout") | not' >/dev/null
check "/cli/classify/no-rollout-without-explain" $?
"$CLI" classify --explain-png "$TMP/heat.png" --model "$FX/models/tiny-p16/model.safetensors" "$FX/models/images/grad-45x37.png" >/dev/null &&
    file "$TMP/heat.png" | grep -q "PNG image data, 45 x 37"
check "/cli/classify/explain-png one image: FILE, the picture's size" $?
"$CLI" classify --explain-png "$TMP/heat.png" --model "$FX/models/tiny-p16/model.safetensors" "$FX/models/images/grad-45x37.png" "$FX/models/images/blobs-20x50.png" >/dev/null &&
    file "$TMP/heat-grad-45x37.png" | grep -q "45 x 37" && file "$TMP/heat-blobs-20x50.png" | grep -q "20 x 50"
check "/cli/classify/explain-png several images: FILE-<stem>.png" $?

check_summary
