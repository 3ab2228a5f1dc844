"""Speed of ``qnb.is_unique_minimizer`` against the direct convex program in cvxpy.

Same instances (Gaussian teacher with one unit, n = 2d samples, where both
answers occur), same question: is A* the only PSD matrix that fits the data?
The baseline is what one would write first: minimise a random linear function
over {A >= 0 : x_k^T A x_k = y_k} with cvxpy's default solver, and call A*
unique when the minimiser is A* (relative distance below 1e-3). Prints
decisions per second for both, their ratio measured in this run, and how
often the decisions agree.

Run:  python benchmarks/bench_uniqueness.py [--dims 16 32] [--instances 20]
"""

from __future__ import annotations

import argparse

import cvxpy as cp
import numpy as np

import qnb
from timing import timed


def cvxpy_decision(X, A_star, seed):
    d = A_star.shape[0]
    A = cp.Variable((d, d), PSD=True)
    R = np.random.default_rng(seed).standard_normal((d, d))
    constraints = [cp.sum(cp.multiply(np.outer(x, x), A)) == x @ A_star @ x for x in X]
    problem = cp.Problem(cp.Minimize(cp.trace((R + R.T) @ A)), constraints)
    problem.solve()
    if A.value is None:
        return None, problem.status, np.nan
    distance = np.linalg.norm(A.value - A_star) / np.linalg.norm(A_star)
    return bool(distance < 1e-3), problem.status, distance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--instances", type=int, default=20)
    args = parser.parse_args(argv)
    for d in args.dims:
        cases = []
        for s in range(args.instances):
            rng = np.random.default_rng(1000 * d + s)
            A_star = qnb.gram(qnb.gaussian_teacher(d, 1, rng=rng))
            cases.append((qnb.sample_inputs(2 * d, d, rng=rng), A_star))
        ours, t_ours = timed(lambda: [qnb.is_unique_minimizer(X, A) for X, A in cases])
        base, t_base = timed(lambda: [cvxpy_decision(X, A, s) for s, (X, A) in enumerate(cases)])
        agree = sum(o.unique == b[0] for o, b in zip(ours, base))
        statuses = sorted({b[1] for b in base})
        print(f"d={d}, n={2 * d}, {len(cases)} instances, {sum(o.unique for o in ours)} unique: "
              f"is_unique_minimizer {len(cases) / t_ours:.1f}/s, cvxpy ({cp.installed_solvers()[0]} default, "
              f"statuses {statuses}) {len(cases) / t_base:.2f}/s, speed-up {t_base / t_ours:.0f}x, "
              f"identical decisions {agree}/{len(cases)}")
        for o, b in zip(ours, base):
            if o.unique != b[0]:
                # A feasible set reduced to one point is where interior-point solvers are least accurate.
                print(f"   disagreement: certificate {o.certificate:+.1e} (unique={o.unique}); "
                      f"cvxpy minimiser at relative distance {b[2]:.1e} from A*")


if __name__ == "__main__":
    main()
