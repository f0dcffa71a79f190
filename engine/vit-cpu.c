/* vit-cpu.c — CPU feature detection (CPUID and XCR0) and the VIT_CPU cap; see vit-cpu.h. */
#include "vit-cpu.h"
#include "vit-impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(VIT_HAVE_X86_SIMD)
#include <cpuid.h>
#endif

static unsigned detected, capped;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(VIT_HAVE_X86_SIMD)
static unsigned detect(void)
{
    unsigned a, b, c, d, f = 0;
    /* F16C from CPUID leaf 1 (ECX bit 29): clang before 16 has no "f16c" for
     * __builtin_cpu_supports. __builtin_cpu_supports checks XCR0 for ymm / zmm state. */
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c)
        f |= VIT_CPU_AVX2;
    /* AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4 (GCC 12 has no name for it) */
    if ((f & VIT_CPU_AVX2) && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4)))
        f |= VIT_CPU_AVX_VNNI;
    if ((f & VIT_CPU_AVX2) && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni"))
        f |= VIT_CPU_AVX512;
    if ((f & VIT_CPU_AVX512) && __builtin_cpu_supports("avx512bf16"))
        f |= VIT_CPU_AVX512_BF16;
    return f;
}
#else
static unsigned detect(void)
{
    return 0;
}
#endif

static void init(void)
{
    detected = detect();
    capped = detected;
    const char *cap = getenv("VIT_CPU");
    if (!cap || !*cap)
        return;
    if (strcmp(cap, "scalar") == 0)
        capped = 0;
    else if (strcmp(cap, "avx2") == 0)
        capped &= VIT_CPU_AVX2;
    else if (strcmp(cap, "avx-vnni") == 0 || strcmp(cap, "avxvnni") == 0)
        capped &= VIT_CPU_AVX2 | VIT_CPU_AVX_VNNI;
    else if (strcmp(cap, "avx512") != 0)
        vit_log(VIT_LOG_WARN, "VIT_CPU=%s: unknown (scalar, avx2, avx-vnni, avx512); not capped",
                cap);
}

unsigned vit_cpu_features(void)
{
    pthread_once(&once, init);
    return capped;
}

unsigned vit_cpu_features_detected(void)
{
    pthread_once(&once, init);
    return detected;
}

const char *vit_cpu_describe(void)
{
    unsigned f = vit_cpu_features();
    if (f & VIT_CPU_AVX512)
        return f & VIT_CPU_AVX512_BF16 ? "avx512 (vnni, bf16)" : "avx512 (vnni)";
    if (f & VIT_CPU_AVX2)
        return f & VIT_CPU_AVX_VNNI ? "avx2 (avx-vnni)" : "avx2";
    return "scalar";
}
