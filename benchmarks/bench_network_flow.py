"""Time to a certified limit of the two-layer network: stiff flow and Newton polish against gradient descent.

The census of Theorem 2.1 and the chapter on output weights of both signs
classify where descent ends, which needs the limit to full precision (a
relative gradient of 1e-9, as ``NetworkLoss.stationarity`` asks). Two ways to
get there from the same start, on one instance like the census's (quadratic
activation, d = 6, k = 12 with six negative output weights, n = 42 random
labels; at the default n = 21 = d(d+1)/2 the fit is exact but ill-conditioned,
at n = 42 the limit has positive loss):

* ``qnb.network_flow`` (LSODA with the exact Hessian as Jacobian) to t = 1e8,
  then ``qnb.polish_stationary_point`` (Levenberg-Marquardt on the gradient);
* ``qnb.gradient_descent`` until the same gradient tolerance, with the census's
  step (``landscape_census.default_step``, from the data's scale, known before the
  run) and with an oracle step at half the stability limit at the limit point
  (1 / largest Hessian eigenvalue there, known only after the run), at most
  ``MAX_STEPS`` steps.

Both limits are compared (loss and distance between the functions, since the
weights are determined only up to the symmetry fibre), and the time ratio of
this one run is printed.

Run:  python benchmarks/bench_network_flow.py [--seed 0] [--n 21 42]
"""

from __future__ import annotations

import argparse

import numpy as np

import qnb
from qnb.landscape_census import default_step
from timing import timed

MAX_STEPS = 1_000_000  # about 15 s of gradient descent at this size


def flow_and_polish(loss, theta0):
    res = qnb.network_flow(loss, theta0, [0.0, 1e2, 1e4, 1e6, 1e8])
    assert res.success, res.message
    return qnb.polish_stationary_point(loss, res.theta[-1])


def matrix(loss, theta):
    W, v = loss.split(theta)
    return W.T @ (v[:, None] * W)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, nargs="+", default=[21, 42],
                        help="sample sizes (default 21 = d(d+1)/2, the hardest, and 42)")
    args = parser.parse_args(argv)

    return {n: one_instance(n, args.seed) for n in args.n}


def one_instance(n, seed):
    d, k = 6, 12
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n) * np.sqrt(2.0)
    loss = qnb.NetworkLoss(X, y, v=np.r_[np.ones(k // 2), -np.ones(k // 2)])
    theta0 = loss.random_start(rng)

    theta_fast, t_fast = timed(flow_and_polish, loss, theta0)
    report = loss.stationarity(theta_fast)
    assert report.stationary, "the flow's polished limit is not certified stationary"
    gtol = qnb.two_layer.GTOL * report.gradient_scale
    steps = {"census step": default_step(X, y),
             "oracle step": 1.0 / report.eigenvalues[-1]}
    print(f"instance: d={d}, k={k} (six negative), n={n} random labels, gradient tolerance {gtol:.2e}")
    print(f"flow (LSODA, exact Hessian) + polish: {t_fast:.3f} s, relative loss {report.relative_loss:.12f}")
    M_fast = matrix(loss, theta_fast)
    ratios = {}
    for name, step in steps.items():
        gd, t_gd = timed(qnb.gradient_descent, loss, theta0, step, gtol=gtol, max_steps=MAX_STEPS,
                         record_every=100_000)
        M_gd = matrix(loss, gd.theta)
        print(f"gradient descent, {name} {step:.3g}: {t_gd:.2f} s, {gd.message}, relative loss "
              f"{gd.loss / loss.zero_network_loss():.12f}, "
              f"||M_flow - M_gd|| / ||M_flow|| = {np.linalg.norm(M_fast - M_gd) / np.linalg.norm(M_fast):.1e}")
        ratios[name] = t_gd / t_fast
    print("time of gradient descent / time of flow + polish: "
          + ", ".join(f"{name} {ratio:.2g}" for name, ratio in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
