#!/bin/sh
# tools/test.sh — the README's test command: install what is missing, build, run every test,
# and end with the plain summary line "N passed, N failed".
#   tools/test.sh                 the normal build (build/)
#   BUILD=build-asan MESON_ARGS=-Db_sanitize=address,undefined tools/test.sh
#   VIT_CPU=avx2 tools/test.sh    the same, with the engine capped to AVX2 (as on a Zen 3)
#   MESON_TEST_ARGS="--suite engine" tools/test.sh    a part of the suite
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh

BUILD=${BUILD:-build}
MESON_ARGS=${MESON_ARGS:-}
if [ ! -f "$BUILD/build.ninja" ]; then
    # shellcheck disable=SC2086
    meson setup "$BUILD" $MESON_ARGS
fi
ninja -C "$BUILD"

status=0
if [ -n "${VIT_CPU:-}" ]; then
    echo "vitlens: tests with the engine capped to VIT_CPU=$VIT_CPU"
fi
# shellcheck disable=SC2086
meson test -C "$BUILD" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-} || status=$?

log="$BUILD/meson-logs/testlog.json"
if [ -f "$log" ]; then
    passed=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")
    failed=$(jq -s '[.[] | select(.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR" or .result == "UNEXPECTEDPASS")] | length' "$log")
    skipped=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")
    echo "$passed passed, $failed failed, $skipped skipped"
fi
exit $status
