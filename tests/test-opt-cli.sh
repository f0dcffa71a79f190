#!/bin/sh
# test-opt-cli.sh — the optimized variant and lite files through vitlens-cli: export --variant
# optimized writes a .vitl that classifies like the optimized variant on the safetensors, runs
# the optimized variant only, is refused with a message when damaged; bench has the optimized
# and lite rows with load time and peak RSS. Needs jq.
# Usage: test-opt-cli.sh CLI FIXTURES_DIR
set -u
CLI=$1
FX=$2
. "$(dirname "$0")/check-common.sh"
MODEL="$FX/models/tiny-p16/model.safetensors"
IMG="$FX/models/images/grad-45x37.png"

"$CLI" export --variant optimized --model "$MODEL" -o "$TMP/m.vitl" >"$TMP/out"
check "/opt-cli/export-vitl ($(cat "$TMP/out"))" $?
[ "$(head -c 4 "$TMP/m.vitl")" = "VITL" ]
check "/opt-cli/export-vitl-magic" $?

a=$("$CLI" classify --json --variant optimized --model "$MODEL" "$IMG" | jq -c '[.top[] | [.index, .prob]]')
b=$("$CLI" classify --json --variant optimized --model "$TMP/m.vitl" "$IMG" | jq -c '[.top[] | [.index, .prob]]')
[ -n "$a" ] && [ "$a" = "$b" ]
check "/opt-cli/vitl-same-optimized-result" $?

"$CLI" classify --variant int8 --model "$TMP/m.vitl" "$IMG" 2>"$TMP/err" >/dev/null
[ $? -eq 1 ] && grep -q "int8 variant is not available" "$TMP/err"
check "/opt-cli/vitl-optimized-only ($(cat "$TMP/err"))" $?

head -c 1000 "$TMP/m.vitl" > "$TMP/cut.vitl"
"$CLI" classify --variant optimized --model "$TMP/cut.vitl" "$IMG" 2>"$TMP/err" >/dev/null
[ $? -eq 1 ] && grep -q "cut.vitl" "$TMP/err" && grep -q "truncated" "$TMP/err"
check "/opt-cli/vitl-truncated ($(cat "$TMP/err"))" $?

"$CLI" bench --json --model "$MODEL" --variants int8,optimized,lite --runs 2 --warmup 1 --threads 2 \
    > "$TMP/bench.json"
jq -e -s 'length == 3 and (map(.variant) == ["int8", "optimized", "lite"]) and
          all(.[]; .load_ms > 0 and .peak_rss_mb > 0 and .top1_agree == 1) and
          .[1].file_bytes == .[2].file_bytes' "$TMP/bench.json" >/dev/null
check "/opt-cli/bench-optimized-and-lite-rows" $?

# no --variants on an int8 file and on a lite file: the rows each can run (a .vitq has no fp32;
# a .vitl runs the optimized variant only, and is its own lite row)
"$CLI" export --variant int8 --model "$MODEL" -o "$TMP/m.vitq" >/dev/null
r=$("$CLI" bench --json --model "$TMP/m.vitq" --runs 2 --warmup 0 --no-load | jq -r -s 'map(.variant) | join(",")')
[ "$r" = "int8,optimized,lite" ]
check "/opt-cli/bench-default-vitq ($r)" $?
r=$("$CLI" bench --json --model "$TMP/m.vitl" --runs 2 --warmup 0 --no-load | jq -r -s 'map(.variant) | join(",")')
[ "$r" = "optimized" ]
check "/opt-cli/bench-default-vitl ($r)" $?

check_summary
