/* readline: the C reference for readline.scm. getline over lines.txt (in
 * the working directory, where the harness runs it), counting lines,
 * UTF-8 characters (the bytes that do not continue a sequence; newlines
 * excluded) and empty lines. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

int main(void) {
    long a[1];
    bench_read_args(a, 0); /* "()": no arguments */
    long long t0 = bench_ticks();
    FILE *f = fopen("lines.txt", "r");
    if (!f) {
        perror("lines.txt");
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lines = 0, chars = 0, empty = 0;
    while ((n = getline(&line, &cap, f)) != -1) {
        if (n > 0 && line[n - 1] == '\n') n--;
        lines++;
        if (n == 0) empty++;
        for (ssize_t i = 0; i < n; i++) chars += ((unsigned char)line[i] & 0xC0) != 0x80;
    }
    free(line);
    fclose(f);
    long long t1 = bench_ticks();
    printf("result: (%ld %ld %ld)\nticks: %lld 1000000000\n", lines, chars, empty, t1 - t0);
    return 0;
}
