#!/usr/bin/env python3
"""Steady state of tiered execution against AOT (docs/tiering.md, "Steady state").

usage: tier-steady.py [--reps N] [--valk-dir DIR] PROGRAM[=ARGS]...

For each program of bench/programs (ARGS: its input list, e.g.
`fib=(40)`; default: the `;;; args:` of its header), builds the source
the benchmark harness builds (bench/glue/valk.scm, the program, the
driver), compiles it with `valkc compile -O2`, and runs the executable
and `VALK_TIER=auto valk FILE` (tiered, with a warm prelude) REPS times,
interleaved. Prints the median of the ticks each run reports around
`bench-main` (so the tiered time includes the warm-up in tier 0 and the
compilations, not the process start) and the ratio tiered / AOT.
`PROGRAM` alone, or `all`: every program of the suite but the two that
read generated files.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
reps = 3
valk_dir = os.path.join(here, "..", "target", "release")
specs = []
argv = sys.argv[1:]
while argv:
    a = argv.pop(0)
    if a == "--reps":
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


# A warm prelude for the tiered runs.
subprocess.run([valk, "-e", "#t"], env=dict(env, VALK_TIER="1"), capture_output=True)
print(f"{'program':<12} {'args':<22} {'AOT s':>8} {'tiered s':>9} {'ratio':>6}")
for spec in specs:
    name, _, args = spec.partition("=")
    src = source(name)
    if not args:
        m = re.search(r"^;;; args: (.*)$", src, re.M)
        args = m.group(1) if m else "()"
    path = os.path.join(work, name + ".scm")
    with open(path, "w") as f:
        f.write(src)
    exe = os.path.join(work, name + ".aot")
    subprocess.run([valkc, "compile", "-O2", path, "-o", exe], check=True, env=env)
    aot, tiered = [], []
    try:
        for _ in range(reps):
            aot.append(ticks([exe], args, {}))
            tiered.append(ticks([valk, path], args, {"VALK_TIER": "auto"}))
    except RuntimeError as e:
        print(f"{name:<12} {args:<22} failed: {e}")
        continue
    a, t = statistics.median(aot), statistics.median(tiered)
    print(f"{name:<12} {args:<22} {a:8.3f} {t:9.3f} {t / a:6.2f}", flush=True)
