#!/bin/sh
# bench_opt_gemm.sh — build tools/bench_opt_gemm.c against the meson build's libvit.a and run it
# 3 times (the machine may be shared: compare medians across runs).
# Usage: tools/bench_opt_gemm.sh [bench_opt_gemm options: -m M -reps R -shape K N -mode MODE]
# Environment: BUILD (meson build dir, default build), RUNS (default 3), VIT_CPU (cap: avx2 for
# an AVX2-only Zen 3), TILE="-DOPT2_AVX2_MR=6 -DOPT2_AVX2_NV=2 ..." to recompile
# engine/vit-kernels-avx2.c with other micro-tile shapes (its object is linked ahead of
# libvit.a, so it replaces the library's).
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
out=${BENCH_BUILD_DIR:-$(mktemp -d)}
mkdir -p "$out"
F="-std=c11 -O3 -D_GNU_SOURCE -DVIT_HAVE_X86_SIMD=1 -Iengine"
extra=""
if [ -n "${TILE:-}" ]; then
    # shellcheck disable=SC2086
    gcc $F $TILE -mavx2 -mfma -mf16c -c engine/vit-kernels-avx2.c -o "$out/tile.o"
    extra="$out/tile.o"
fi
ninja -C "$build" engine/libvit.a >/dev/null
# shellcheck disable=SC2086
gcc $F tools/bench_opt_gemm.c $extra "$build/engine/libvit.a" -o "$out/bench_opt_gemm" \
    -lopenblas -lpng -ljpeg -lm -lpthread
for i in $(seq "${RUNS:-3}"); do
    "$out/bench_opt_gemm" "$@"
done
