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
F="-std=c11 -O3 -D_GNU_SOURCE -DVIT_HAVE_X86_SIMD=1 -Iengine"
gcc $F -c engine/vit-kernels-avx512.c -o "$out/k512.o" \
    -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c
gcc $F -c engine/vit-kernels-avx2.c -o "$out/k2.o" -mavx2 -mfma -mf16c
DNNL=""
if [ -f /usr/include/dnnl.h ]; then
    DNNL="-DHAVE_DNNL -ldnnl -lgomp"
fi
# shellcheck disable=SC2086
gcc $F tools/bench_gemm.c engine/vit.c engine/vit-cpu.c engine/vit-pool.c engine/vit-quant.c \
    "$out/k512.o" "$out/k2.o" -o "$out/bench_gemm" -lopenblas $DNNL -lm -lpthread
exec "$out/bench_gemm" "$@"
