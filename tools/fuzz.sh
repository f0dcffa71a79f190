#!/bin/sh
# tools/fuzz.sh — build the libFuzzer harnesses of tests/fuzz/ with clang (ASan + UBSan +
# libFuzzer) and run each for a bounded time on its committed seed corpus.
#
#   tools/fuzz.sh [SECONDS] [HARNESS...]      default: 60 s each, every harness
#   tools/fuzz.sh --build-only
#
# Environment:
#   FUZZ_BUILD=build-fuzz   build directory (objects, binaries, working corpora, crashes)
#   FUZZ_JOBS=1             harnesses run at once (2 on an otherwise idle 2-core machine)
#   FUZZ_KEEP_CORPUS=1      keep the working corpora between runs (default: start from the seeds)
#
# The committed seeds (tests/fuzz/corpus/<harness>/) are never modified: each run fuzzes a
# working copy in $FUZZ_BUILD/corpus/<harness>/ and writes crashers, leaks and timeouts to
# $FUZZ_BUILD/artifacts/. Exits 1 when any harness crashed, leaked, timed out, ran out of
# memory or printed a sanitizer report. Prints one line of figures per harness and, last, the
# plain summary "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."

SECONDS_EACH=60
BUILD_ONLY=0
case "${1:-}" in
--build-only) BUILD_ONLY=1; shift ;;
[0-9]*) SECONDS_EACH=$1; shift ;;
esac
HARNESSES=${*:-"safetensors config vitq vitl png jpeg idx labels"}
B=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-1}

# ---- tools: clang with its sanitizer and libFuzzer runtimes, and the engine's libraries
need=""
command -v clang >/dev/null 2>&1 || need="$need clang"
if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    need="$need libclang-rt-dev"
fi
for p in libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
    echo "fuzz: installing Debian packages:$need" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $need >&2
fi

# ---- build: the engine through meson (so its source list and SIMD flags are the project's own)
# with clang, ASan, UBSan and libFuzzer's coverage instrumentation; the CLI's IDX reader and the
# harnesses with clang directly.
mkdir -p "$B/obj" "$B/bin" "$B/corpus" "$B/artifacts" "$B/logs"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if [ ! -f "$B/meson/build.ninja" ]; then
    CC=clang meson setup "$B/meson" -Dapp=disabled -Dtorch_tests=disabled \
        -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
        >"$B/logs/meson-setup.log" 2>&1 || { cat "$B/logs/meson-setup.log" >&2; exit 1; }
fi
ninja -C "$B/meson" engine/libvit.a >"$B/logs/ninja.log" 2>&1 || { cat "$B/logs/ninja.log" >&2; exit 1; }
LIBVIT=$B/meson/engine/libvit.a
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wno-unused-parameter -Wno-unused-function $SAN"
CPPFLAGS="-Iengine -Iapp $(pkg-config --cflags openblas libpng libjpeg zlib)"
LIBS="$(pkg-config --libs openblas libpng libjpeg zlib) -lm -lpthread"

newer() { # newer TARGET SRC... : true when TARGET is missing or older than a SRC
    t=$1
    shift
    [ -f "$t" ] || return 0
    for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
    return 1
}

DATASET=$B/obj/cli-dataset.o
if newer "$DATASET" app/cli/cli-dataset.c app/cli/cli-dataset.h engine/vit.h; then
    # shellcheck disable=SC2086
    clang $CFLAGS $CPPFLAGS -fsanitize=fuzzer-no-link -c app/cli/cli-dataset.c -o "$DATASET"
fi
for h in $HARNESSES; do
    src=tests/fuzz/fuzz-$h.c
    [ -f "$src" ] || { echo "fuzz: no harness $src" >&2; exit 2; }
    bin=$B/bin/fuzz-$h
    link=$LIBVIT
    [ "$h" = idx ] && link="$DATASET $LIBVIT" # only the IDX harness takes the CLI's reader
    # shellcheck disable=SC2086
    if newer "$bin" "$src" tests/fuzz/*.h $link; then
        echo "fuzz: link $bin" >&2
        # shellcheck disable=SC2086
        clang $CFLAGS $CPPFLAGS -fsanitize=fuzzer "$src" $link $LIBS -o "$bin"
    fi
done
[ "$BUILD_ONLY" = 1 ] && exit 0

# ---- run
export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

run_one() { # run_one HARNESS -> writes $B/logs/HARNESS.log and .status
    h=$1
    work=$B/corpus/fuzz-$h
    seeds=tests/fuzz/corpus/fuzz-$h
    [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$work"
    mkdir -p "$work" "$seeds"
    log=$B/logs/$h.log
    dict=""
    case $h in
    safetensors | config | vitq) dict=-dict=tests/fuzz/json.dict ;;
    *) [ -f "tests/fuzz/$h.dict" ] && dict=-dict=tests/fuzz/$h.dict ;;
    esac
    st=0
    # -timeout: one input may take at most 20 s; -rss_limit_mb: ASan's shadow + a 100 MP image.
    "$B/bin/fuzz-$h" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=3072 \
        -max_len=1048576 -print_final_stats=1 -artifact_prefix="$B/artifacts/fuzz-$h-" \
        $dict "$work" "$seeds" >"$log" 2>&1 || st=$?
    # A timeout whose input runs in time when replayed was the machine stalling (seen once here:
    # two harnesses "timed out" at the same moment in unrelated code), not a hang: noted, not
    # failed. A real hang hangs again.
    if [ "$st" -ne 0 ] && grep -q 'ERROR: libFuzzer: timeout' "$log" &&
        ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
        unit=$(sed -nE 's/.*Test unit written to (.*timeout-[0-9a-f]+)$/\1/p' "$log" | tail -n 1)
        if [ -n "$unit" ] && "$B/bin/fuzz-$h" -timeout=20 -runs=3 "$unit" >"$log.replay" 2>&1; then
            echo "fuzz: fuzz-$h: the timeout did not reproduce ($unit ran in time): a stall" >&2
            st=0
        fi
    fi
    # a sanitizer report that did not stop the run still fails it
    if [ "$st" -eq 0 ] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
        st=99
    fi
    echo "$st" >"$B/logs/$h.status"
}

summary() { # one line of figures from libFuzzer's last status line and final stats
    h=$1
    log=$B/logs/$h.log
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    eps=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    cov=$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
    ft=$(echo "$last" | sed -nE 's/.*ft: ([0-9]+).*/\1/p')
    corp=$(echo "$last" | sed -nE 's/.*corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p')
    printf 'fuzz-%-12s %s  execs %s  exec/s %s  cov %s  ft %s  corpus %s\n' "$h" "$2" \
        "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

passed=0
failed=0
set -- $HARNESSES
while [ $# -gt 0 ]; do
    batch=""
    i=0
    while [ $# -gt 0 ] && [ "$i" -lt "$JOBS" ]; do
        batch="$batch $1"
        shift
        i=$((i + 1))
    done
    pids=""
    for h in $batch; do
        echo "fuzz: fuzz-$h for ${SECONDS_EACH}s" >&2
        run_one "$h" &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || true; done
    for h in $batch; do
        st=$(cat "$B/logs/$h.status" 2>/dev/null || echo 98)
        if [ "$st" -eq 0 ]; then
            passed=$((passed + 1))
            summary "$h" "ok  "
        else
            failed=$((failed + 1))
            summary "$h" "FAIL"
            echo "---- fuzz-$h (exit $st): the end of $B/logs/$h.log" >&2
            grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse|INITED)' "$B/logs/$h.log" | tail -n 60 >&2
            ls -1 "$B/artifacts" 2>/dev/null | grep "^fuzz-$h-" | sed 's/^/  artifact: /' >&2 || true
        fi
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
