"""Speed of ``qnb.empirical_flow`` against plain gradient descent on the weights.

Both integrate the same gradient flow, (3) on the weights or (5) on A, on one
instance (d = 16, m* = 1, n = 48, student width m = d) to the same final
time. The baseline is the loop a reader would write: fixed-step gradient
descent on W with a step at half the stability limit. Accuracy is measured
against a reference solution of (5) at much tighter tolerances, and the
script prints the time ratio measured in this one run.

Run:  python benchmarks/bench_empirical_flow.py [--final-time 1e4]
"""

from __future__ import annotations

import argparse

import numpy as np

import qnb
from timing import timed


def gradient_descent_on_weights(W0, X, y, step, n_steps):
    """The baseline: W <- W - step * m grad_W L_n = W (I - step grad E_n(A))."""
    W = W0.copy()
    m, n = W.shape[0], X.shape[0]
    for _ in range(n_steps):
        A = W.T @ W / m
        r = np.sum((X @ A) * X, axis=1) - y
        G = (X.T * r) @ X / n
        W -= step * (W @ G)
    return W.T @ W / m


def stability_limit(X, y, A):
    """2 / (largest |eigenvalue| of the flow's Jacobian at A): GD diverges above it."""
    flow = qnb.MatrixFlow(qnb.EmpiricalLoss(X, y))
    return 2.0 / np.max(np.abs(np.linalg.eigvals(flow.jac(0.0, A[np.triu_indices(A.shape[0])]))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--final-time", type=float, default=1e4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    d, m_star, n = 16, 1, 48
    rng = np.random.default_rng(args.seed)
    A_star = qnb.gram(qnb.gaussian_teacher(d, m_star, rng=rng))
    X = qnb.sample_inputs(n, d, rng=rng)
    y = qnb.labels(X, A_star)
    W0 = rng.standard_normal((d, d))
    A0 = qnb.gram(W0)
    T = args.final_time

    reference, t_ref = timed(qnb.empirical_flow, A0, X, y, [0.0, T], rtol=1e-12, atol=1e-18)
    fast, t_fast = timed(qnb.empirical_flow, A0, X, y, [0.0, T])
    # The stiffest point of the trajectory is near its end (A close to A*).
    step = 0.5 * min(stability_limit(X, y, A0), stability_limit(X, y, reference.A[-1]))
    n_steps = int(np.ceil(T / step))
    step = T / n_steps
    A_gd, t_gd = timed(gradient_descent_on_weights, W0, X, y, step, n_steps)

    A_ref = reference.A[-1]
    def rel_error(A):
        return np.linalg.norm(A - A_ref) / np.linalg.norm(A_ref)

    print(f"instance: d={d}, m*={m_star}, n={n}, m={d}, final time T={T:g}")
    print(f"reference (LSODA, rtol=1e-12): {t_ref:.2f} s, E_n(T) = {reference.loss[-1]:.6e}")
    print(f"empirical_flow default ({fast.method}): {t_fast:.3f} s, nfev={fast.nfev}, "
          f"E_n(T) = {fast.loss[-1]:.6e}, relative error of A(T) = {rel_error(fast.A[-1]):.2e}")
    print(f"gradient descent on W, step {step:.4g} ({n_steps} steps): {t_gd:.2f} s, "
          f"E_n(T) = {qnb.empirical_loss(A_gd, X, y):.6e}, relative error of A(T) = {rel_error(A_gd):.2e}")
    print(f"speed-up of empirical_flow over gradient descent: {t_gd / t_fast:.0f}x")
    return t_gd / t_fast


if __name__ == "__main__":
    main()
