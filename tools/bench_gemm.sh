#!/bin/sh
# bench_gemm.sh — build tools/bench_gemm.c by hand (it is not part of the meson build) and run
# it: int8 GEMM kernels vs OpenBLAS sgemm and oneDNN u8s8s32 on the DeiT Linear shapes.
# Usage: tools/bench_gemm.sh [bench_gemm options: -m M -reps R -best -full -scalar -shape K N]
# oneDNN is used when its header is installed (Debian: libdnnl-dev); otherwise that column is
# left out. Needs OpenBLAS (libopenblas-dev). The machine may be shared: run a few times.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_BUILD_DIR:-$(mktemp -d)}
mkdir -p "$out"
build=${BUILD:-build}
F="-std=c11 -O3 -D_GNU_SOURCE -DVIT_HAVE_X86_SIMD=1 -Iengine"
DNNL=""
if [ -f /usr/include/dnnl.h ]; then
    DNNL="-DHAVE_DNNL -ldnnl -lgomp"
fi
ninja -C "$build" engine/libvit.a >/dev/null
# shellcheck disable=SC2086
gcc $F tools/bench_gemm.c "$build/engine/libvit.a" -o "$out/bench_gemm" -lopenblas -lpng -ljpeg \
    $DNNL -lm -lpthread
exec "$out/bench_gemm" "$@"
