/* sieve: sieve of Eratosthenes, repeated; the C reference for sieve.scm. */
#include "bench.h"

static long count_primes(long n) {
    char *composite = calloc((size_t)n + 1, 1);
    if (!composite) exit(3);
    long count = 0;
    for (long i = 2; i <= n; i++) {
        if (composite[i]) continue;
        count++;
        for (long j = i * i; j <= n; j += i) composite[j] = 1;
    }
    free(composite);
    return count;
}

int main(void) {
    long a[2];
    if (bench_read_args(a, 2) != 2) return 2;
    long long t0 = bench_ticks();
    long r = 0;
    for (long i = 0; i < a[1]; i++) r = count_primes(a[0]);
    long long t1 = bench_ticks();
    bench_report(r, t0, t1);
    return 0;
}
