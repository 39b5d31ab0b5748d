/* fib: naive doubly recursive Fibonacci, the C reference for fib.scm. */
#include "bench.h"

static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    long a[1];
    if (bench_read_args(a, 1) != 1) return 2;
    long long t0 = bench_ticks();
    long r = fib(a[0]);
    long long t1 = bench_ticks();
    bench_report(r, t0, t1);
    return 0;
}
