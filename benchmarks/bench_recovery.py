"""Throughput of ``qnb.recovery.recovery_probability`` on 1 against 2 worker processes.

One sweep (d = 8, m* = 1, n from 12 to 20 around 2 d, 8 trials each: 40
instances) is run with both methods, ``'certificate'`` (the uniqueness
certificate of ``qnb.uniqueness``) and ``'flow'`` (gradient flow (5) to
t = 1e6), on process pools of 1 and of 2 workers. The pools are started and
warmed up (workers import qnb and solve one instance) before the clock starts,
so the numbers are the throughput of a running pool, not its start-up. BLAS
is limited to one thread per process (set below, before numpy is imported) so
that the comparison measures process parallelism, not BLAS threads competing
for the same cores. The script prints instances per second, the 2-worker /
1-worker ratio measured in this one run (best of ``--repeats`` identical
sweeps), and checks that the results do not depend on the pool.

Run:  python benchmarks/bench_recovery.py [--d 8] [--trials 8] [--repeats 3] [--methods certificate flow]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os

# One BLAS thread per process; the workers inherit this environment.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from qnb import RECOVERY_METHODS, recovery_probability  # noqa: E402
from timing import timed  # noqa: E402


def pool(workers):
    """A process pool started the way ``recovery_probability`` starts its own (fork server)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--m-star", type=int, default=1)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="time the best of this many sweeps")
    parser.add_argument("--methods", nargs="+", default=["certificate", "flow"],
                        choices=sorted(RECOVERY_METHODS))
    args = parser.parse_args(argv)

    d, m_star = args.d, args.m_star
    n_values = list(range(int(1.5 * d), int(2.5 * d) + 1, 2))  # around 2 d
    total = len(n_values) * args.trials
    print(f"sweep: d={d}, m*={m_star}, n={n_values}, {args.trials} trials = {total} instances; "
          f"os.cpu_count() = {os.cpu_count()}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")

    ratios = {}
    for method in args.methods:
        results, rates = {}, {}
        for workers in (1, 2):
            with pool(workers) as executor:
                # Warm-up on other instances: start the workers, import qnb (and cvxpy/scipy).
                recovery_probability(d, m_star, [n_values[0]], workers, method=method,
                                     rng=args.seed + 1, executor=executor)
                # Best of a few identical sweeps: a 40-instance sweep of fast instances
                # lasts a fraction of a second, where one scheduling hiccup shows.
                seconds = np.inf
                for _ in range(args.repeats):
                    res, elapsed = timed(recovery_probability, d, m_star, n_values, args.trials,
                                         method=method, rng=args.seed, executor=executor)
                    seconds = min(seconds, elapsed)
            results[workers], rates[workers] = res, total / seconds
            print(f"{method:>11}, {workers} worker{'s' if workers > 1 else ' '}: {seconds:6.2f} s, "
                  f"{rates[workers]:6.2f} instances/s, {res.n_failed} failed, "
                  f"P(recovered) = {np.round(res.probability, 3).tolist()}")
        same = np.array_equal(results[1].recovered, results[2].recovered)
        ratios[method] = rates[2] / rates[1]
        print(f"{method:>11}: 2 workers / 1 worker throughput = {ratios[method]:.2f}x; "
              f"same recovered array on both pools: {same}")
    return ratios


if __name__ == "__main__":
    main()
