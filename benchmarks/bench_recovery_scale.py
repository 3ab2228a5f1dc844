"""Largest d for which a 20-instance recovery curve P(unique) takes under 5 minutes.

For each d (m* = 1, Gaussian teacher) the script times, on a process pool of
``--workers`` workers (one BLAS thread each):

* ``recovery_threshold(d, 1, 20)``: the exact threshold of 20 nested
  instances, which gives P(unique) at every n at once (about log2 d
  certificate solves per instance);
* as the baseline measured in the same run, the straightforward curve
  ``recovery_probability(d, 1, n_values, 20)`` over the n values that the
  thresholds just found span (one solve per n and instance), so that both
  curves cover the same range of alpha at resolution 1/d.

Each sweep runs in a child process killed after ``--budget`` seconds, so a d
that is too large costs at most the budget. It prints the wall times, their
ratio, the number of solves of each, and the largest d under the budget for
each way.

Run:  python benchmarks/bench_recovery_scale.py [--d 16 24 32 40 48 56] [--budget 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

CHILD = r"""
import json, sys, time
import concurrent.futures, multiprocessing
import numpy as np
from qnb import recovery_threshold, recovery_probability
d, workers, which, n_values = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
ctx = multiprocessing.get_context("forkserver")
with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
    list(pool.map(int, range(workers)))  # start the workers before the clock
    start = time.perf_counter()
    if which == "threshold":
        res = recovery_threshold(d, 1, 20, rng=0, executor=pool)
        out = {"n_threshold": res.n_threshold.tolist(), "solves": int(res.n_probes.sum())}
    else:
        res = recovery_probability(d, 1, n_values, 20, rng=0, executor=pool)
        out = {"solves": int(res.recovered.size)}
    out["seconds"] = time.perf_counter() - start
    out["success"] = bool(res.success)
print(json.dumps(out))
"""


def run(d, workers, which, budget, n_values=()):
    """Wall time of one sweep in a child process, or None when it exceeds ``budget``."""
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(d), str(workers), which,
                               json.dumps(list(n_values))],
                              capture_output=True, text=True, timeout=budget, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[16, 24, 32, 40, 48, 56])
    parser.add_argument("--budget", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    print(f"m* = 1, 20 instances, {args.workers} workers, budget {args.budget:.0f} s")
    print("  d | threshold curve: s  solves | per-n curve: n values  s  solves | ratio")
    largest = {"threshold": None, "per-n": None}
    for d in args.d:
        thr = run(d, args.workers, "threshold", args.budget)
        if thr is None:
            print(f"{d:3d} | over budget")
            break
        largest["threshold"] = d
        n_u = thr["n_threshold"]
        n_values = list(range(min(n_u) - 1, max(n_u) + 1))
        per_n = run(d, args.workers, "per-n", args.budget, n_values)
        if per_n is None:
            print(f"{d:3d} | {thr['seconds']:17.1f} {thr['solves']:7d} | {len(n_values):21d} over budget")
            continue
        largest["per-n"] = d
        print(f"{d:3d} | {thr['seconds']:17.1f} {thr['solves']:7d} | {len(n_values):21d} "
              f"{per_n['seconds']:6.1f} {per_n['solves']:6d} | {per_n['seconds'] / thr['seconds']:5.1f}x")
    print(f"largest d under {args.budget:.0f} s: threshold search {largest['threshold']}, "
          f"per-n sweep {largest['per-n']}")


if __name__ == "__main__":
    main()
