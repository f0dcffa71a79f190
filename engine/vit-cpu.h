/* vit-cpu.h — what this CPU can run, detected once and capped by VIT_CPU. Internal to libvit.
 *
 * Every kernel choice in the engine (the int8 GEMM kernel and its packing, the fp32 GEMM, the
 * optimized variant's kernels, the bf16 attention, .vitl repacking) asks vit_cpu_features(), so
 * a cap makes the engine behave exactly as on a CPU with at most that instruction set:
 *
 *     VIT_CPU=scalar    no SIMD kernels (OpenBLAS for fp32, the reference C for int8)
 *     VIT_CPU=avx2      AVX2 + FMA + F16C, no VNNI: Haswell … Zen 3, Intel client chips before 12th gen
 *     VIT_CPU=avx-vnni  AVX2 with the VEX-encoded vpdpbusd on ymm: Intel 12th gen+, Zen 5 desktop
 *     VIT_CPU=avx512    everything this CPU has (the default)
 *
 * A cap never adds what the CPU lacks. An unknown value is ignored with a warning (vit_log). */
#ifndef VIT_CPU_H
#define VIT_CPU_H

enum {
    VIT_CPU_AVX2 = 1u << 0,       /* AVX2, FMA, F16C, OS saves ymm */
    VIT_CPU_AVX_VNNI = 1u << 1,   /* AVX-VNNI: vpdpbusd on ymm, VEX encoded */
    VIT_CPU_AVX512 = 1u << 2,     /* AVX-512 F, BW, VL, DQ, VNNI, OS saves zmm */
    VIT_CPU_AVX512_BF16 = 1u << 3,/* AVX512_BF16 */
};

/* The features the engine may use: detected ones, less what VIT_CPU caps away. */
unsigned vit_cpu_features(void);
/* What the CPU has, ignoring VIT_CPU. */
unsigned vit_cpu_features_detected(void);

#endif /* VIT_CPU_H */
