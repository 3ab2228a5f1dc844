"""The rank-one barrier solver (qnb.certificates) against the dense decision, and its verification.

Tolerances. Both solvers return the trace-normalised margin to about 1e-8 (the
dense one: Clarabel's default tolerance; the rank-one one: its duality gap,
``tol = 1e-8``); margins are compared at 1e-7, ten times the sum. Certificates and
witnesses are checked here again, independently of the solver's own checks, on the
raw inputs: a witness must fit every label to 1e-9 of the largest label (the solver
guarantees its round-off bound ``fit_tol``, about 1e-12 on these sizes) and be PSD
to 1e-12 of ``||A*||``; a certificate ``Z`` must have ``|Z A*| <= 1e-8 |Z| |A*|`` and a
smallest eigenvalue on the null space of ``A*`` above its own round-off bound.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
import qnb.uniqueness
from qnb import certify_phaselift, certify_uniqueness, draw_instance, instance_rng, is_unique_minimizer
from qnb.certificates import STATUS_NOT_GENERIC, STATUS_UNDECIDED

SEED = 20261201


def instances(d, m_star, alphas, trials=2):
    for trial in range(trials):
        A_star, X, _, _ = draw_instance(d, m_star, int(max(alphas) * d) + 1, instance_rng(SEED, d, m_star, trial))
        for alpha in alphas:
            yield A_star, X[: int(alpha * d)]


def null_space(A_star):
    lam, U = np.linalg.eigh(A_star)
    return U[:, lam <= 1e-9 * lam[-1]]


def check_witness(W, X, A_star, lower_trace=False):
    y = np.einsum("ki,ij,kj->k", X, A_star, X)
    misfit = np.einsum("ki,ij,kj->k", X, W - A_star, X)
    assert np.max(np.abs(misfit)) <= 1e-9 * np.max(y)
    assert np.linalg.eigvalsh(W)[0] >= -1e-12 * np.linalg.norm(A_star, 2)
    assert np.linalg.norm(W - A_star) > 1e-8 * np.linalg.norm(A_star)
    if lower_trace:
        assert np.trace(W) < np.trace(A_star)


def check_certificate(weights, X, A_star, identity):
    Z = (X.T * weights) @ X + (np.eye(X.shape[1]) if identity else 0.0)
    assert np.linalg.norm(Z @ A_star) <= 1e-8 * np.linalg.norm(Z) * np.linalg.norm(A_star)
    U0 = null_space(A_star)
    block = U0.T @ Z @ U0
    assert np.linalg.eigvalsh(block)[0] > 1e-10 * np.linalg.norm(block)


@pytest.mark.parametrize("d, m_star", [(8, 1), (12, 1), (12, 2), (16, 3)])
def test_same_verdict_and_margin_as_the_dense_decision(d, m_star):
    """Below the dispatch size is_unique_minimizer is the dense interior-point decision."""
    alphas = np.linspace(m_star + 0.6, 2.4 * m_star + 0.6, 6)
    seen = set()
    for A_star, X in instances(d, m_star, alphas):
        dense, fast = is_unique_minimizer(X, A_star), certify_uniqueness(X, A_star)
        assert "rank-one" not in dense.reason and dense.success and fast.success
        assert fast.unique == dense.unique
        assert_allclose(fast.certificate, dense.certificate, rtol=0, atol=1e-7)
        assert fast.gap <= 1e-8
        seen.add(fast.unique)
    assert seen == {True, False}  # both sides were tested


def test_dispatch_above_the_crossover_matches_the_dense_decision(monkeypatch):
    d = qnb.uniqueness.RANK_ONE_MIN_NULLITY + 4
    results = []
    for A_star, X in instances(d, 1, (2.1, 2.7), trials=1):
        fast = is_unique_minimizer(X, A_star)
        assert fast.reason.endswith("(rank-one solver)")
        results.append((X, A_star, fast))
    monkeypatch.setattr(qnb.uniqueness, "RANK_ONE_MIN_NULLITY", 10 ** 6)
    for X, A_star, fast in results:
        dense = is_unique_minimizer(X, A_star)
        assert "rank-one" not in dense.reason
        assert fast.unique == dense.unique
        assert_allclose(fast.certificate, dense.certificate, rtol=0, atol=1e-7)
        if not fast.unique:
            assert fast.witness_residual <= 1e-9


@pytest.mark.parametrize("d, m_star", [(16, 1), (24, 1), (16, 2)])
def test_every_verdict_carries_a_checked_certificate_or_witness(d, m_star):
    for A_star, X in instances(d, m_star, np.linspace(1.4, 3.0, 5) * m_star, trials=1):
        for margin in (True, False):
            res = certify_uniqueness(X, A_star, margin=margin)
            assert res.success
            if res.unique:
                assert res.witness is None and res.certificate > res.round_off
                check_certificate(res.dual_weights, X, A_star, identity=False)
            else:
                assert res.dual_weights is None and res.certificate < 0
                check_witness(res.witness, X, A_star)
        pl = certify_phaselift(X, A_star)
        assert pl.success
        if pl.recovered:
            check_certificate(pl.dual_weights, X, A_star, identity=True)
        else:
            check_witness(pl.witness, X, A_star, lower_trace=True)


@pytest.mark.parametrize("d, m_star", [(12, 1), (20, 1), (16, 2)])
def test_phaselift_recovers_wherever_the_teacher_is_unique(d, m_star):
    """n_PL <= n_u instance by instance: a uniqueness certificate is a PhaseLift certificate."""
    both = set()
    for A_star, X in instances(d, m_star, np.linspace(1.2, 2.8, 9) * m_star, trials=3):
        unique = certify_uniqueness(X, A_star, margin=False)
        recovered = certify_phaselift(X, A_star)
        assert unique.success and recovered.success
        assert recovered.recovered or not unique.unique
        both.add((unique.unique, recovered.recovered))
    assert (True, True) in both and (False, False) in both


def test_thresholds_of_the_two_methods_are_ordered_on_nested_instances():
    u = qnb.recovery_threshold(16, 1, 8, method="uniqueness", rng=SEED, executor="serial")
    pl = qnb.recovery_threshold(16, 1, 8, method="phaselift", rng=SEED, executor="serial")
    dense = qnb.recovery_threshold(16, 1, 8, method="certificate", rng=SEED, executor="serial")
    assert u.success and pl.success
    assert np.array_equal(u.n_threshold, dense.n_threshold)
    assert np.all(pl.n_threshold <= u.n_threshold)
    assert np.any(pl.n_threshold < u.n_threshold)  # and the inequality is not an identity


def test_rescaled_inputs_give_the_same_verdict_and_margin():
    A_star, X = next(instances(16, 1, (2.3,), trials=1))
    scales = np.geomspace(1e-3, 1e3, X.shape[0])
    base, scaled = certify_uniqueness(X, A_star), certify_uniqueness(X * scales[:, None], A_star)
    assert base.unique == scaled.unique
    assert_allclose(scaled.certificate, base.certificate, rtol=0, atol=1e-7)


def test_deterministic():
    A_star, X = next(instances(16, 1, (2.2,), trials=1))
    a, b = certify_uniqueness(X, A_star), certify_uniqueness(X, A_star)
    assert a.certificate == b.certificate and a.nit == b.nit


def test_inputs_it_does_not_handle_are_reported():
    A_star, X = next(instances(12, 1, (2.5,), trials=1))
    cases = {
        "parallel": np.vstack([X, 3.0 * X[:1]]),
        "subspace": X[:, :-1] @ np.eye(11, 12),
        "full rank": None,
    }
    for name, inputs in cases.items():
        if inputs is None:
            res = certify_uniqueness(X, np.eye(12))
        else:
            res = certify_uniqueness(inputs, A_star)
        assert res.status == STATUS_NOT_GENERIC and not res.success, name
        assert "not handled" in res.message
    # is_unique_minimizer still decides such inputs (with the dense method)
    assert is_unique_minimizer(cases["parallel"], A_star).success


def test_a_budget_too_small_is_undecided_not_wrong():
    A_star, X = next(instances(16, 1, (2.3,), trials=1))
    for res in (certify_uniqueness(X, A_star, max_newton=1), certify_phaselift(X, A_star, max_newton=1)):
        assert res.status == STATUS_UNDECIDED and not res.success
        assert "Newton steps" in res.message
