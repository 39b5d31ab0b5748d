#!/usr/bin/env python3
"""Steady state of tiered execution against AOT (docs/tiering.md, "Steady state").

usage: tier-steady.py [--reps N] [--valk-dir DIR] [--also VAR=VALUE] PROGRAM[=ARGS]...
       tier-steady.py --ir [--valk-dir DIR] PROGRAM=ARGS1=ARGS2...

For each program of bench/programs (ARGS: its input list, e.g.
`fib=(40)`; default: the `;;; args:` of its header), builds the source
the benchmark harness builds (bench/glue/valk.scm, the program, the
driver), compiles it with `valkc compile -O2`, and runs the executable
and `VALK_TIER=auto valk FILE` (tiered, with a warm prelude) REPS times,
interleaved. Prints the median of the ticks each run reports around
`bench-main` (so the tiered time includes the warm-up in tier 0 and the
compilations, not the process start) and the ratio tiered / AOT.
`--also VAR=VALUE`: also runs the tiered engine with that variable set
(e.g. `VALK_TIER_GUARDS=0`), interleaved, in two more columns.
`PROGRAM` alone, or `all`: every program of the suite but the two that
read generated files.

`--ir`: instructions instead of time, without the noise of a shared
machine: runs the executable and `VALK_TIER=eager valk FILE` (every
candidate compiled at its first call) under callgrind with inputs ARGS1
and ARGS2 and prints the difference of the evaluation thread's
instruction counts (ARGS2 minus ARGS1: the extra work, which leaves out
start-up, compilation and warm-up), and the ratio tiered / AOT.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
reps = 3
ir = False
also = None
valk_dir = os.path.join(here, "..", "target", "release")
specs = []
argv = sys.argv[1:]
while argv:
    a = argv.pop(0)
    if a == "--also":
        also = tuple(argv.pop(0).split("=", 1))
    elif a == "--ir":
        ir = True
    elif a == "--reps":
        reps = int(argv.pop(0))
    elif a == "--valk-dir":
        valk_dir = argv.pop(0)
    elif a == "all":
        skip = {"readline", "readsexp"}
        specs += sorted(
            f[:-4]
            for f in os.listdir(os.path.join(here, "programs"))
            if f.endswith(".scm") and f[:-4] not in skip
        )
    else:
        specs.append(a)
if not specs:
    sys.exit(__doc__)

work = os.path.join(tempfile.gettempdir(), f"valk-tier-steady-{os.getuid()}")
os.makedirs(work, exist_ok=True)
env = dict(os.environ)
env.setdefault("VALK_CACHE_DIR", os.path.join(work, "cache"))
valk = os.path.join(valk_dir, "valk")
valkc = os.path.join(valk_dir, "valkc")


def read(path):
    with open(path) as f:
        return f.read()


def source(name):
    prog = read(os.path.join(here, "programs", name + ".scm"))
    glue = read(os.path.join(here, "glue", "valk.scm"))
    m = re.search(r"^;;; glue: (\S+)", prog, re.M)
    if m:
        extra = os.path.join(here, "glue", f"valk.{m.group(1)}.scm")
        if os.path.exists(extra):
            glue += "\n" + read(extra)
    return glue + "\n" + prog + "\n" + read(os.path.join(here, "glue", "driver.scm"))


def ticks(cmd, args, extra_env):
    e = dict(env)
    e.update(extra_env)
    p = subprocess.run(cmd, input=args.encode(), capture_output=True, env=e, cwd=work)
    m = re.search(rb"ticks: (\d+) (\d+)", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"{cmd}: status {p.returncode}: {p.stderr[-300:]!r}")
    return int(m.group(1)) / int(m.group(2))


def instructions(cmd, args, extra_env):
    """Instructions of the thread that ran the program (callgrind)."""
    e = dict(env)
    e.update(extra_env)
    out = os.path.join(work, "callgrind.out")
    for f in os.listdir(work):
        if f.startswith("callgrind.out"):
            os.remove(os.path.join(work, f))
    p = subprocess.run(
        ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}"]
        + cmd,
        input=args.encode(),
        capture_output=True,
        env=e,
        cwd=work,
    )
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: status {p.returncode}: {p.stderr[-300:]!r}")
    # Valk runs programs on an evaluation thread, the second one started
    # (the first is the process's own; the compiler thread comes after).
    m = re.search(r"^summary: (\d+)", read(out + "-02"), re.M)
    return int(m.group(1))


# A warm prelude for the tiered runs.
subprocess.run([valk, "-e", "#t"], env=dict(env, VALK_TIER="1"), capture_output=True)
if ir:
    print(f"{'program':<12} {'inputs':<34} {'AOT Mi':>8} {'tiered Mi':>10} {'ratio':>6}")
else:
    extra = f" {'+' + also[0] + '=' + also[1]:>24} {'ratio':>6}" if also else ""
    print(f"{'program':<12} {'args':<22} {'AOT s':>8} {'tiered s':>9} {'ratio':>6}{extra}")
for spec in specs:
    name, _, args = spec.partition("=")
    args2 = None
    if ir:
        args, _, args2 = args.partition("=")
        if not args2:
            sys.exit(f"--ir needs PROGRAM=ARGS1=ARGS2, got {spec}")
    src = source(name)
    if not args:
        m = re.search(r"^;;; args: (.*)$", src, re.M)
        args = m.group(1) if m else "()"
    path = os.path.join(work, name + ".scm")
    with open(path, "w") as f:
        f.write(src)
    exe = os.path.join(work, name + ".aot")
    subprocess.run([valkc, "compile", "-O2", path, "-o", exe], check=True, env=env)
    if ir:
        try:
            tiered_env = {"VALK_TIER": "eager"}
            a = instructions([exe], args2, {}) - instructions([exe], args, {})
            t = instructions([valk, path], args2, tiered_env) - instructions(
                [valk, path], args, tiered_env
            )
        except RuntimeError as e:
            print(f"{name:<12} failed: {e}")
            continue
        inputs = f"{args} -> {args2}"
        print(f"{name:<12} {inputs:<34} {a / 1e6:8.1f} {t / 1e6:10.1f} {t / a:6.2f}", flush=True)
        continue
    aot, tiered, tiered2 = [], [], []
    try:
        for _ in range(reps):
            aot.append(ticks([exe], args, {}))
            tiered.append(ticks([valk, path], args, {"VALK_TIER": "auto"}))
            if also:
                tiered2.append(ticks([valk, path], args, {"VALK_TIER": "auto", also[0]: also[1]}))
    except RuntimeError as e:
        print(f"{name:<12} {args:<22} failed: {e}")
        continue
    a, t = statistics.median(aot), statistics.median(tiered)
    extra = ""
    if also:
        t2 = statistics.median(tiered2)
        extra = f" {t2:24.3f} {t2 / a:6.2f}"
    print(f"{name:<12} {args:<22} {a:8.3f} {t:9.3f} {t / a:6.2f}{extra}", flush=True)
