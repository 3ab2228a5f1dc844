"""Eigenvalue equations (20)-(21) and the asymptotic laws of the population flow."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb


def test_matrix_flow_from_identity_is_the_eigenvalue_flow():
    d = 5
    A_star = qnb.gram(qnb.gaussian_teacher(d, 2, rng=4))
    lam_star, U = np.linalg.eigh(A_star)
    t = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    matrix = qnb.population_flow(np.eye(d), A_star, t, rtol=1e-11)
    eig = qnb.eigenvalue_flow(lam_star, t, rtol=1e-11)
    rotated = np.einsum("ji,tjk,kl->til", U, matrix.A, U)
    # Diagonal in the teacher's eigenbasis, with the eigenvalues of (20) on the diagonal.
    off = rotated - np.einsum("tii->ti", rotated)[:, :, None] * np.eye(d)
    assert np.max(np.abs(off)) < 1e-8
    assert_allclose(np.einsum("tii->ti", rotated), eig.lam, rtol=1e-7, atol=1e-10)
    # (21) is (9) evaluated on the diagonal matrix.
    assert_allclose(eig.loss, matrix.loss, rtol=1e-6, atol=1e-12)


def test_isotropic_teacher_logistic_solution_down_to_tiny_deviations():
    d, c = 6, 2.0
    rate = (2 * d + 4) * c
    t = np.array([0.0, 0.1, 0.5, 1.0, 1.5])
    res = qnb.eigenvalue_flow(np.full(d, c), t)
    assert res.success and res.status == qnb.flows.STATUS_SUCCESS
    e = (c - 1) * np.exp(-rate * t)
    exact_delta = -c * e / (1 + e)  # lam - c, written without cancellation
    assert res.groups == 1
    assert np.min(np.abs(exact_delta)) < 1e-20
    assert_allclose(res.delta, np.repeat(exact_delta[:, None], d, axis=1), rtol=1e-7)


def test_zero_teacher_algebraic_decay_to_long_times():
    d = 4
    t = np.array([0.0, 1.0, 1e4, 1e8])
    res = qnb.eigenvalue_flow(np.zeros(d), t)
    exact = 1 / (1 + (2 * d + 4) * t)
    assert_allclose(res.lam, np.repeat(exact[:, None], d, axis=1), rtol=1e-8)


def test_multiplicity_equals_the_expanded_spectrum():
    t = np.array([0.0, 0.3, 3.0, 300.0])
    expanded = qnb.eigenvalue_flow([2.0, 2.0, 0.5, 0.0, 0.0, 0.0], t)
    grouped = qnb.eigenvalue_flow([2.0, 0.5, 0.0], t, multiplicity=[2, 1, 3])
    assert expanded.groups == grouped.groups == 3
    assert_allclose(grouped.loss, expanded.loss, rtol=1e-9)
    assert_allclose(grouped.lam, expanded.lam[:, [0, 2, 3]], rtol=1e-9)


@pytest.mark.parametrize("d, m_star", [(8, 1), (8, 4), (12, 11), (40, 3)])
def test_corrected_late_time_law(d, m_star):
    lam_star = qnb.teacher_spectrum(qnb.gram(qnb.gaussian_teacher(d, m_star, rng=d + m_star)))
    assert np.count_nonzero(lam_star) == m_star
    res = qnb.eigenvalue_flow(lam_star, [0.0, 1e8])
    assert_allclose(res.loss[-1], qnb.late_loss(1e8, d, m_star), rtol=1e-5)
    assert_allclose(res.lam[-1, 0], qnb.late_eigenvalue(1e8, d, m_star), rtol=1e-5)


def test_single_output_at_time_zero_is_the_start():
    """t_eval = [0.0]: the integrator makes no step, and the start is the answer (was AttributeError)."""
    res = qnb.eigenvalue_flow([1.0, 0.0], [0.0], lam0=[2.0, 3.0])
    assert res.success and res.status == 0
    assert_allclose(res.lam, [[2.0, 3.0]])


def test_outputs_before_a_failure_are_kept():
    """A run that breaks down keeps the states it reached: lam* = 1e30 is fine to t = 1, not to 1e300."""
    res = qnb.eigenvalue_flow([1e30, 0.0], [0.0, 1.0, 1e300])
    assert not res.success and res.status == qnb.flows.STATUS_DIVERGED
    assert np.isfinite(res.delta[:2]).all() and np.isnan(res.delta[2]).all()


def test_huge_multiplicities_are_exact_or_refused():
    """Up to 2**53 a multiplicity is an exact float; beyond, the groups' weighted sums lose the small ones."""
    ok = qnb.eigenvalue_flow([1.0, 0.0], [0.0, 1.0], multiplicity=[1, 2**53])
    assert ok.success
    with pytest.raises(ValueError, match=r"multiplicity must hold integers up to 2\*\*53"):
        qnb.eigenvalue_flow([1.0, 0.0], [0.0, 1.0], multiplicity=[1, 2.0**54])


def test_decay_rates_are_the_spectrum_of_the_linearised_matrix_flow():
    d = 4
    lam_star = np.array([0.5, 1.0, 1.7, 3.0])
    A_star = np.diag(lam_star)
    flow = qnb.MatrixFlow(qnb.PopulationLoss(A_star))
    rates = np.sort(-np.linalg.eigvals(flow.jac(0.0, A_star[np.triu_indices(d)])).real)
    predicted = qnb.decay_rates(lam_star)
    assert_allclose(rates, np.sort(np.r_[predicted.diagonal, predicted.off_diagonal]), rtol=1e-10)
    assert predicted.slowest == pytest.approx(rates[0])


def test_paper_formulas_values():
    assert qnb.paper_late_loss(2.0) == pytest.approx(1 / 64)
    assert qnb.paper_orthonormal_loss(1.0, 10, 2) == pytest.approx(0.25 * (8 / 21) ** 2)
    assert qnb.paper_exponential_loss(0.0, 8) == pytest.approx(1 / 16)
    assert qnb.jump_time(8, 1) == pytest.approx(np.log(16) / 6)
    assert_allclose(qnb.short_time_eigenvalue(np.array([0.0, 1.0]), 2), [1.0, 0.2])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: qnb.eigenvalue_flow([1.0, -1.0], [1.0]), ValueError, "lam_star must be non-negative"),
        (lambda: qnb.eigenvalue_flow([1.0], [1.0], lam0=[1.0, 1.0]), ValueError, "lam0 must have 1 entries"),
        (lambda: qnb.eigenvalue_flow([1.0, 0.0], [1.0], multiplicity=[1, 0]), ValueError, "multiplicity must hold positive integers"),
        (lambda: qnb.eigenvalue_flow([1.0], [1.0], method="gd"), ValueError, "method must be one of"),
        (lambda: qnb.eigenvalue_flow([[1.0]], [1.0]), ValueError, "lam_star must be 1-dimensional"),
        (lambda: qnb.late_loss(1.0, 4, 4), ValueError, "needs m_star < d"),
        (lambda: qnb.late_eigenvalue(-1.0, 4, 1), ValueError, "t must be finite and non-negative"),
        (lambda: qnb.decay_rates([1.0, 0.0]), ValueError, "full-rank teacher"),
        (lambda: qnb.jump_time(0, 1), ValueError, "d must be >= 1"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
