"""Speed of ``qnb.eigenvalue_flow`` against the full matrix flow (8) it replaces.

Theorem 5.2: from ``A(0) = I`` the population flow stays diagonal in the
teacher's eigenbasis, so the ``d(d+1)/2`` equations of (8) reduce to the ``d``
equations (20). Both are solved here for one Gaussian teacher (d = 64,
m* = 8) to t = 1e4 and compared: time ratio measured in this one run, and the
largest relative gap between the eigenvalues and between the losses.

Run:  python benchmarks/bench_eigenvalue_flow.py [--d 64] [--m-star 8] [--final-time 1e4]
"""

from __future__ import annotations

import argparse

import numpy as np

import qnb
from timing import timed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--m-star", type=int, default=8)
    parser.add_argument("--final-time", type=float, default=1e4)
    args = parser.parse_args(argv)

    d, m_star, T = args.d, args.m_star, args.final_time
    A_star = qnb.gram(qnb.gaussian_teacher(d, m_star, rng=0))
    lam_star, U = np.linalg.eigh(A_star)
    t = np.concatenate([[0.0], np.geomspace(1e-3, T, 25)])

    eig, t_eig = timed(qnb.eigenvalue_flow, qnb.teacher_spectrum(A_star), t)
    mat, t_mat = timed(qnb.population_flow, np.eye(d), A_star, t)
    # Eigenvalues of the matrix flow, in the teacher's eigenbasis (ascending lam*).
    lam_matrix = np.einsum("ji,tjk,ki->ti", U, mat.A, U)
    scale = np.max(np.abs(eig.lam), axis=1, keepdims=True)
    lam_gap = np.max(np.abs(lam_matrix - eig.lam) / scale)
    loss_gap = np.max(np.abs(mat.loss - eig.loss) / eig.loss)

    print(f"population flow from A(0) = I, Gaussian teacher d={d}, m*={m_star}, to t={T:g}")
    print(f"matrix flow (8), {d * (d + 1) // 2} unknowns: {t_mat:.2f} s "
          f"(nfev={mat.nfev}, njev={mat.njev}, success={mat.success})")
    print(f"eigenvalue flow (20), {eig.groups} unknowns: {t_eig:.4f} s "
          f"(nfev={eig.nfev}, success={eig.success})")
    print(f"largest gap between the eigenvalues, relative to the largest: {lam_gap:.1e}")
    print(f"largest relative gap between the losses: {loss_gap:.1e} "
          f"(E(T) = {eig.loss[-1]:.4e})")
    print(f"speed-up of the eigenvalue flow: {t_mat / t_eig:.0f}x")
    return t_mat / t_eig


if __name__ == "__main__":
    main()
