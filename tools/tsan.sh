#!/bin/sh
# tools/tsan.sh — ThreadSanitizer on the tests that run the engine on several threads: the
# thread pool (test-pool, 1–16 threads), the int8 variant (test-int8, 1–3 threads), the optimized
# variant (test-opt), the fp32 GEMM and pass (test-sgemm: 1–3 threads; test-model: 2 threads)
# and reentrancy (test-reentrant: 4 threads, sessions of 1–2 threads each).
# Any TSan report fails the test (halt_on_error). Ends with the plain line "N passed, N failed".
#   tools/tsan.sh            (build dir: $BUILD, default build-tsan)
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh

BUILD=${BUILD:-build-tsan}
TESTS="engine-pool engine-int8 engine-opt engine-sgemm engine-model engine-reentrant"
TARGETS="tests/test-pool tests/test-int8 tests/test-opt tests/test-sgemm tests/test-model tests/test-reentrant"
if [ ! -f "$BUILD/build.ninja" ]; then
    # -DVIT_HOT= turns off the image code's target_clones: their ifunc resolvers run while the
    # program is being relocated, before TSan's runtime is up, and crash there.
    meson setup "$BUILD" -Dapp=disabled -Dtorch_tests=disabled -Dbuildtype=debugoptimized \
        -Db_sanitize=thread -Dc_args=-DVIT_HOT= ${MESON_ARGS:-}
fi
# shellcheck disable=SC2086
ninja -C "$BUILD" $TARGETS

export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
status=0
# shellcheck disable=SC2086
meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 1 $TESTS || status=$?

log="$BUILD/meson-logs/testlog.json"
passed=$(jq -s '[.[] | select(.result == "OK")] | length' "$log")
failed=$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")
if grep -q "WARNING: ThreadSanitizer" "$BUILD/meson-logs/testlog.txt"; then
    echo "ThreadSanitizer reported (see $BUILD/meson-logs/testlog.txt)"
    [ "$failed" -gt 0 ] || failed=1
    status=1
fi
echo "$passed passed, $failed failed"
exit $status
