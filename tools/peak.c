/* peak.c — the in-register peak of this CPU's arithmetic, per core and on all cores: what the
 * README's and the issues' efficiency figures divide by. Developer tool; not built by meson.
 *
 *   gcc -O2 -std=gnu11 tools/peak.c -o peak -lpthread && ./peak [seconds-per-test (0.3)] [threads (all)]
 *
 * Each test runs independent dependency chains (more than the latency × throughput product) of
 * one instruction sequence on registers only, and counts operations as the GEMMs do:
 *   fp32 fma ymm / zmm         2 flops per lane (vfmadd231ps)
 *   int8 avx2 ymm              vpmaddubsw + vpmaddwd(ones) + vpaddd: 32 u8·s8 products = 64 ops
 *                              per three instructions (the AVX2 int8 GEMMs' inner step)
 *   int8 avx-vnni ymm          {vex} vpdpbusd: 32 products = 64 ops per instruction
 *   int8 avx512-vnni zmm       vpdpbusd: 64 products = 128 ops per instruction
 * A test the CPU lacks is skipped and says so. Run it on an idle machine; the figures are the
 * median of 5 tries. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define ITERS 1000000L

/* one instruction 12 times, into registers 4..15: independent chains */
#define TIMES12(ins)                                                                           \
    ins "4\n\t" ins "5\n\t" ins "6\n\t" ins "7\n\t" ins "8\n\t" ins "9\n\t" ins "10\n\t" ins  \
        "11\n\t" ins "12\n\t" ins "13\n\t" ins "14\n\t" ins "15\n\t"
#define CLOBBER12                                                                              \
    "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", \
        "xmm15"

/* 12 independent chains of each sequence; returns the ops of one call */
__attribute__((target("avx2,fma"))) static double fma_ymm(void)
{
    __asm__ volatile("vxorps %%ymm0,%%ymm0,%%ymm0\n\t"
                     "vxorps %%ymm1,%%ymm1,%%ymm1\n\t"
                     "vxorps %%ymm2,%%ymm2,%%ymm2\n\t" ::: "xmm0", "xmm1", "xmm2");
    for (long i = 0; i < ITERS; i++)
        __asm__ volatile(TIMES12("vfmadd231ps %%ymm1,%%ymm2,%%ymm") ::: CLOBBER12);
    return ITERS * 12.0 * 8 * 2;
}

__attribute__((target("avx512f"))) static double fma_zmm(void)
{
    __asm__ volatile("vxorps %%zmm1,%%zmm1,%%zmm1\n\tvxorps %%zmm2,%%zmm2,%%zmm2" ::: "xmm1", "xmm2");
    for (long i = 0; i < ITERS; i++)
        __asm__ volatile(TIMES12("vfmadd231ps %%zmm1,%%zmm2,%%zmm") ::: CLOBBER12);
    return ITERS * 12.0 * 16 * 2;
}

/* the AVX2 int8 step: t = maddubs(a, b); t = madd(t, ones); acc += t — 4 chains of 3 with
 * their own temporaries (ymm0 a, ymm1 b, ymm2 ones) */
__attribute__((target("avx2"))) static double i8_ymm(void)
{
    __asm__ volatile("vpxor %%ymm0,%%ymm0,%%ymm0\n\tvpxor %%ymm1,%%ymm1,%%ymm1\n\t"
                     "vpxor %%ymm2,%%ymm2,%%ymm2" ::: "xmm0", "xmm1", "xmm2");
    for (long i = 0; i < ITERS; i++)
        __asm__ volatile(
            "vpmaddubsw %%ymm1,%%ymm0,%%ymm3\n\tvpmaddubsw %%ymm1,%%ymm0,%%ymm4\n\t"
            "vpmaddubsw %%ymm1,%%ymm0,%%ymm5\n\tvpmaddubsw %%ymm1,%%ymm0,%%ymm6\n\t"
            "vpmaddwd %%ymm2,%%ymm3,%%ymm3\n\tvpmaddwd %%ymm2,%%ymm4,%%ymm4\n\t"
            "vpmaddwd %%ymm2,%%ymm5,%%ymm5\n\tvpmaddwd %%ymm2,%%ymm6,%%ymm6\n\t"
            "vpaddd %%ymm3,%%ymm8,%%ymm8\n\tvpaddd %%ymm4,%%ymm9,%%ymm9\n\t"
            "vpaddd %%ymm5,%%ymm10,%%ymm10\n\tvpaddd %%ymm6,%%ymm11,%%ymm11\n\t"
            "vpmaddubsw %%ymm1,%%ymm0,%%ymm3\n\tvpmaddubsw %%ymm1,%%ymm0,%%ymm4\n\t"
            "vpmaddubsw %%ymm1,%%ymm0,%%ymm5\n\tvpmaddubsw %%ymm1,%%ymm0,%%ymm6\n\t"
            "vpmaddwd %%ymm2,%%ymm3,%%ymm3\n\tvpmaddwd %%ymm2,%%ymm4,%%ymm4\n\t"
            "vpmaddwd %%ymm2,%%ymm5,%%ymm5\n\tvpmaddwd %%ymm2,%%ymm6,%%ymm6\n\t"
            "vpaddd %%ymm3,%%ymm12,%%ymm12\n\tvpaddd %%ymm4,%%ymm13,%%ymm13\n\t"
            "vpaddd %%ymm5,%%ymm14,%%ymm14\n\tvpaddd %%ymm6,%%ymm15,%%ymm15\n\t" ::
                : "xmm3", "xmm4", "xmm5", "xmm6", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                  "xmm13", "xmm14", "xmm15");
    return ITERS * 8.0 * 64;
}

__attribute__((target("avx2"))) static double vnni_ymm(void)
{
    __asm__ volatile("vpxor %%ymm0,%%ymm0,%%ymm0\n\tvpxor %%ymm1,%%ymm1,%%ymm1" ::: "xmm0", "xmm1");
    for (long i = 0; i < ITERS; i++)
        __asm__ volatile(TIMES12("%{vex%} vpdpbusd %%ymm1,%%ymm0,%%ymm") ::: CLOBBER12);
    return ITERS * 12.0 * 64;
}

__attribute__((target("avx512f"))) static double vnni_zmm(void)
{
    __asm__ volatile("vpxord %%zmm0,%%zmm0,%%zmm0\n\tvpxord %%zmm1,%%zmm1,%%zmm1" ::: "xmm0", "xmm1");
    for (long i = 0; i < ITERS; i++)
        __asm__ volatile(TIMES12("vpdpbusd %%zmm1,%%zmm0,%%zmm") ::: CLOBBER12);
    return ITERS * 12.0 * 128;
}

typedef struct {
    double (*fn)(void);
    double seconds, ops;
} job;

static void *worker(void *p)
{
    job *j = p;
    double t0 = now(), ops = 0;
    while (now() - t0 < j->seconds)
        ops += j->fn();
    j->ops = ops / (now() - t0);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* G(FL)OP/s of fn on `threads` threads at once: the median of 5 tries of the sum */
static double measure(double (*fn)(void), int threads, double seconds)
{
    double v[5];
    for (int t = 0; t < 5; t++) {
        pthread_t th[64];
        job j[64];
        for (int k = 0; k < threads; k++) {
            j[k] = (job){fn, seconds, 0};
            pthread_create(&th[k], NULL, worker, &j[k]);
        }
        v[t] = 0;
        for (int k = 0; k < threads; k++) {
            pthread_join(th[k], NULL);
            v[t] += j[k].ops;
        }
    }
    qsort(v, 5, sizeof v[0], cmp);
    return v[2] / 1e9;
}

static int has_avx_vnni(void)
{
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4));
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.3;
    int all = argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (all < 1 || all > 64)
        all = 1;
    __builtin_cpu_init();
    struct {
        const char *name;
        double (*fn)(void);
        int ok;
    } tests[] = {
        {"fp32 fma ymm (GFLOP/s)", fma_ymm, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
        {"fp32 fma zmm (GFLOP/s)", fma_zmm, __builtin_cpu_supports("avx512f")},
        {"int8 avx2 maddubs ymm (GOP/s)", i8_ymm, __builtin_cpu_supports("avx2")},
        {"int8 avx-vnni ymm (GOP/s)", vnni_ymm, has_avx_vnni()},
        {"int8 avx512-vnni zmm (GOP/s)", vnni_zmm, __builtin_cpu_supports("avx512vnni")},
    };
    printf("%-32s %12s %12s\n", "peak", "1 thread", "threads");
    for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
        if (!tests[t].ok) {
            printf("%-32s %12s %12s\n", tests[t].name, "(no ISA)", "-");
            continue;
        }
        double one = measure(tests[t].fn, 1, seconds);
        double many = measure(tests[t].fn, all, seconds);
        printf("%-32s %12.1f %9.1f (%d)\n", tests[t].name, one, many, all);
    }
    return 0;
}
