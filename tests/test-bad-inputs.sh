#!/bin/sh
# test-bad-inputs.sh — the bad-input catalogue (tests/bad-inputs/): every broken image and model
# given to `vitlens-cli classify` must make it exit with status 1 and print exactly the message
# listed in tests/bad-inputs/cases.tsv (the table of tests/bad-inputs/README.md), as
# "vitlens-cli: <message>" on stderr, in at most 30 s (nothing may block or hang).
# Directories, FIFOs and missing paths are made here; the other inputs are committed files.
# Usage: test-bad-inputs.sh CLI FIXTURES_DIR
set -u
CLI=$1
FX=$2
HERE=$(cd "$(dirname "$0")" && pwd)/bad-inputs
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
GOOD_MODEL=$FX/models/tiny-p16/model.safetensors
GOOD_IMAGE=$FX/models/images/grad-45x37.png
fails=0
checks=0
tab=$(printf '\t')

while IFS="$tab" read -r name kind role want; do
    case $name in '#'* | '') continue ;; esac
    case $kind in
    file)
        stem=${name%.*}
        path=$HERE/files/$name
        [ -d "$HERE/files/$stem" ] && path=$HERE/files/$stem/$name
        ;;
    dir) path=$TMP/$name && mkdir -p "$path" ;;
    fifo) path=$TMP/$name && rm -f "$path" && mkfifo "$path" ;;
    missing) path=$TMP/$name ;;
    *) echo "FAIL /bad-inputs/$name: unknown kind '$kind'"; fails=$((fails + 1)); continue ;;
    esac
    if [ "$role" = image ]; then
        timeout 30 "$CLI" classify --model "$GOOD_MODEL" "$path" >"$TMP/out" 2>"$TMP/err" </dev/null
    else
        timeout 30 "$CLI" classify --model "$path" "$GOOD_IMAGE" >"$TMP/out" 2>"$TMP/err" </dev/null
    fi
    status=$?
    got=$(cat "$TMP/err")
    checks=$((checks + 1))
    if [ "$status" -eq 1 ] && [ "$got" = "vitlens-cli: $want" ] && [ ! -s "$TMP/out" ]; then
        echo "ok   /bad-inputs/$role/$name"
    else
        fails=$((fails + 1))
        echo "FAIL /bad-inputs/$role/$name: exit $status (want 1)"
        echo "     want: vitlens-cli: $want"
        echo "     got:  $got"
    fi
done <"$HERE/cases.tsv"

echo "$checks checks, $fails failed"
[ "$checks" -ge 40 ] || { echo "FAIL /bad-inputs/count: only $checks cases (want at least 40)"; exit 1; }
[ "$fails" -eq 0 ]
