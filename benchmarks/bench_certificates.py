"""Time per uniqueness decision against d: the rank-one barrier solver against the dense one.

Same instances (Gaussian teacher with one unit, n = round(2.45 d) samples, near the
measured threshold, where both answers occur), same question: is A* the only PSD
matrix that fits the data? The baseline is the dense interior-point decision of
``qnb.is_unique_minimizer`` in the ``s (s + 1) / 2`` coordinates of the null-space
block (its rank-one dispatch switched off); the new solver is
``qnb.certify_uniqueness`` stopped at the first verified certificate or witness
(``margin=False``, as the threshold sweeps use it). Prints, per d, the seconds per
decision of each (a method is dropped at the next d once one of its decisions took
more than ``--budget`` seconds), their ratio measured in this run, and whether the
verdicts are identical. Run with one BLAS thread for a stable ratio.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_certificates.py [--dims 32 48 64 96 128 256 512]
"""

from __future__ import annotations

import argparse

import numpy as np

import qnb
import qnb.uniqueness
from timing import timed


def dense(X, A_star):
    saved = qnb.uniqueness.RANK_ONE_MIN_NULLITY
    qnb.uniqueness.RANK_ONE_MIN_NULLITY = 10 ** 9
    try:
        return qnb.is_unique_minimizer(X, A_star)
    finally:
        qnb.uniqueness.RANK_ONE_MIN_NULLITY = saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[32, 48, 64, 96, 128, 256, 512])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per decision (default 60)")
    args = parser.parse_args(argv)
    running = {"dense": True, "rank-one": True}
    largest = {"dense": None, "rank-one": None}
    for d in args.dims:
        cases = []
        for s in range(args.instances):
            rng = np.random.default_rng(1000 * d + s)
            A_star = qnb.gram(qnb.gaussian_teacher(d, 1, rng=rng))
            cases.append((qnb.sample_inputs(round(2.45 * d), d, rng=rng), A_star))
        line, verdicts, seconds = f"d={d:4d} n={round(2.45 * d):5d}:", {}, {}
        for name, solve in (("rank-one", lambda X, A: qnb.certify_uniqueness(X, A, margin=False)),
                            ("dense", dense)):
            if not running[name]:
                line += f" {name} over budget |"
                continue
            results, times = [], []
            for X, A in cases:
                res, t = timed(solve, X, A)
                results.append(res)
                times.append(t)
            verdicts[name] = [(r.success, r.unique) for r in results]
            seconds[name] = float(np.mean(times))
            line += f" {name} {seconds[name]:.3g} s/decision (unique: {sum(r.unique for r in results)}) |"
            if max(times) > args.budget:
                running[name] = False
            else:
                largest[name] = d
        if len(seconds) == 2:
            line += (f" ratio dense / rank-one {seconds['dense'] / seconds['rank-one']:.1f}x,"
                     f" identical verdicts: {verdicts['dense'] == verdicts['rank-one']}")
        print(line, flush=True)
    print(f"largest d with every decision under {args.budget:.0f} s: dense {largest['dense']}, "
          f"rank-one {largest['rank-one']}")


if __name__ == "__main__":
    main()
