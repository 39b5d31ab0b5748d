#!/usr/bin/env python3
"""Time to the first output of a command (docs/tiering.md, "Defaults").

usage: ttfo.py REPS STDIN-FILE COMMAND...

Runs COMMAND REPS times with STDIN-FILE as its standard input and prints
the median time until its first byte on standard output, the median total
time, and the start of the output (to check the run did what it should).
"""
import statistics
import subprocess
import sys
import time

reps = int(sys.argv[1])
stdin_file = sys.argv[2]
cmd = sys.argv[3:]
firsts, totals = [], []
out = b""
for _ in range(reps):
    t0 = time.perf_counter()
    with open(stdin_file, "rb") as stdin:
        p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        first = p.stdout.read(1)
        t1 = time.perf_counter()
        out = first + p.stdout.read()
        p.wait()
    t2 = time.perf_counter()
    firsts.append(t1 - t0)
    totals.append(t2 - t0)
print(
    f"first {statistics.median(firsts) * 1000:.0f} ms  "
    f"total {statistics.median(totals) * 1000:.0f} ms  {out[:60]!r}"
)
