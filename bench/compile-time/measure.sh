#!/bin/sh
# Compile times of the generated large programs (docs/architecture.md,
# "Large programs"): `valkc compile -O2` and the first run of `valk FILE`
# with an empty JIT cache, wall and user seconds. Not run by CI.
#
#   bench/compile-time/measure.sh [BINDIR] [CASES...]
#
# BINDIR defaults to target/release; CASES to "program:2000
# program:10000 function:2000 list:500000" (gen.py's modes and sizes).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-target/release}
[ $# -gt 0 ] && shift
cases=${*:-"program:2000 program:10000 function:2000 list:500000"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in $cases; do
    mode=${c%%:*}
    n=${c#*:}
    f="$tmp/$mode-$n.valk"
    python3 "$here/gen.py" "$mode" "$n" > "$f"
    /usr/bin/time -f "$mode $n valkc-O2 %e s wall %U s user" \
        "$bin/valkc" compile -O2 "$f" -o "$tmp/exe" 2>&1 | tail -1
    /usr/bin/time -f "$mode $n valk-jit %e s wall %U s user" \
        env VALK_CACHE_DIR="$tmp/cache-$mode-$n" "$bin/valk" "$f" 2>&1 >/dev/null | tail -1
done
