/* Shared glue for the C reference programs: read the argument list the
 * harness writes on standard input ("(38)", "(18 12 6 2000)"), time with the
 * monotonic clock, print in the same format as the Scheme driver. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int bench_read_args(long *args, int max) {
    int n = 0, c;
    long v = 0;
    int in_number = 0, negative = 0;
    while ((c = getchar()) != EOF) {
        if (c >= '0' && c <= '9') {
            v = v * 10 + (c - '0');
            in_number = 1;
        } else if (c == '-' && !in_number) {
            negative = 1;
        } else {
            if (in_number && n < max) args[n++] = negative ? -v : v;
            v = 0;
            in_number = negative = 0;
            if (c == ')') break;
        }
    }
    return n;
}

static long long bench_ticks(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void bench_report(long result, long long t0, long long t1) {
    printf("result: %ld\nticks: %lld 1000000000\n", result, t1 - t0);
}
