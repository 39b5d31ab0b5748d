/* tak: Takeuchi function, repeated; the C reference for tak.scm. */
#include "bench.h"

static long tak(long x, long y, long z) {
    if (!(y < x)) return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(void) {
    long a[4];
    if (bench_read_args(a, 4) != 4) return 2;
    /* volatile inputs: gcc must not merge the repeated calls of a pure function */
    volatile long x = a[0], y = a[1], z = a[2];
    long long t0 = bench_ticks();
    long r = 0;
    for (long i = 0; i < a[3]; i++) r = tak(x, y, z);
    long long t1 = bench_ticks();
    bench_report(r, t0, t1);
    return 0;
}
