#!/bin/bash
# Builds and runs the library comparison of docs/numbers.md ("Choosing the
# multi-precision library"): one binary per library, each printing RESULT
# lines (thread-CPU and wall medians); then the tables. Not part of CI.
# The GMP variants need `apt-get install -y m4 libgmp-dev`.
set -e
cd "$(dirname "$0")"
for c in num-bigint dashu malachite gmp-bundled gmp-system; do
  (cd $c && cargo build --release -q)
done
for c in num-bigint dashu malachite gmp-bundled gmp-system; do
  ./$c/target/release/bignum-libs-$c > bench-$c.log 2>&1
done
python3 table.py
echo; echo "Chez Scheme, same π program:"; scheme --script pi.ss
