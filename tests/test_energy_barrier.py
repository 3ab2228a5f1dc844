"""The energy barrier: closed forms against brute force over the weights, the search against both."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize

import qnb


def teacher(d, seed):
    """A full-rank teacher ``B* = W*^T W*`` with ``d + 1`` hidden units."""
    return qnb.gram(np.random.default_rng(seed).standard_normal((d + 1, d))) * (d + 1)


def brute_force(B_star, inputs, starts, seed):
    """Risk minima over ``W`` in R^{(d-1) x d} (``B = W^T W``, rank <= d - 1), L-BFGS from random starts."""
    d = B_star.shape[0]
    rng = np.random.default_rng(seed)
    scale = np.sqrt(np.trace(B_star) / d)

    def value_and_gradient(w):
        W = w.reshape(d - 1, d)
        B = W.T @ W
        G = qnb.population_risk_gradient(B, B_star, inputs)
        return qnb.population_risk(B, B_star, inputs), (2 * W @ G).ravel()

    values = []
    for _ in range(starts):
        run = optimize.minimize(value_and_gradient, scale * rng.standard_normal((d - 1) * d), jac=True,
                                method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000})
        values.append(run.fun)
    return np.array(values)


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_gaussian_closed_form_against_brute_force(d):
    """2 mu2^2 lam_min^2 (d + 2) / (d + 1): the best of 20 weight-space runs reaches it, none goes below."""
    B_star = teacher(d, d)
    lam = np.linalg.eigvalsh(B_star)[0]
    result = qnb.rank_deficient_barrier(B_star)
    assert result.success and result.method == "closed_form"
    assert_allclose(result.value, 2 * lam**2 * (d + 2) / (d + 1), rtol=1e-12)
    values = brute_force(B_star, "gaussian", 20, seed=100 + d)
    assert values.min() >= result.value * (1 - 1e-9)
    assert_allclose(values.min(), result.value, rtol=1e-6)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_gaussian_closed_form_minimizer(d):
    """The returned B is PSD, singular along null_vector (the bottom eigenvector of B*), and has the value."""
    B_star = teacher(d, 10 + d)
    r = qnb.rank_deficient_barrier(B_star)
    lam, U = np.linalg.eigh(B_star)
    assert np.linalg.eigvalsh(r.minimizer)[0] >= -1e-12 * lam[-1]
    assert np.linalg.norm(r.minimizer @ r.null_vector) <= 1e-12 * lam[-1]
    assert abs(r.null_vector @ U[:, 0]) == pytest.approx(1.0, abs=1e-12)
    assert_allclose(qnb.population_risk(r.minimizer, B_star), r.value, rtol=1e-12)
    assert np.linalg.matrix_rank(r.minimizer, tol=1e-10 * lam[-1]) == d - 1


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_search_agrees_with_the_gaussian_closed_form(d):
    B_star = teacher(d, 20 + d)
    exact = qnb.rank_deficient_barrier(B_star).value
    r = qnb.rank_deficient_barrier(B_star, method="search", restarts=8, rng=d)
    assert r.success and r.method == "search" and r.agreeing_restarts >= 2
    assert_allclose(r.value, exact, rtol=1e-7)
    assert r.value >= exact * (1 - 1e-10)  # a feasible point's risk: never below the minimum
    assert np.linalg.eigvalsh(r.minimizer)[0] >= -1e-12 * np.abs(B_star).max()


@pytest.mark.parametrize("d", [3, 4])
def test_uniform_search_against_brute_force(d):
    """No closed form: the search and the best of 20 weight-space runs agree; neither undercuts the other."""
    B_star = teacher(d, 30 + d)
    r = qnb.rank_deficient_barrier(B_star, "uniform", restarts=10, rng=1)
    assert r.success and r.agreeing_restarts >= 2 and r.spread >= 0
    values = brute_force(B_star, "uniform", 20, seed=200 + d)
    assert_allclose(values.min(), r.value, rtol=1e-6)
    assert values.min() >= r.value * (1 - 1e-6)
    assert_allclose(qnb.population_risk(r.minimizer, B_star, "uniform"), r.value, rtol=1e-12)
    assert np.linalg.norm(r.minimizer @ r.null_vector) <= 1e-10 * np.abs(B_star).max()


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_rademacher_barrier_is_zero(d):
    B_star = teacher(d, 40 + d)
    exact = qnb.rank_deficient_barrier(B_star, "rademacher")
    assert exact.success and exact.value == 0.0 and exact.method == "closed_form"
    B = exact.minimizer
    assert np.allclose(B - np.diag(np.diag(B)), B_star - np.diag(np.diag(B_star)))  # only the diagonal moved
    assert np.trace(B) == pytest.approx(np.trace(B_star), rel=1e-14)
    assert abs(np.linalg.eigvalsh(B)[0]) <= 1e-12 * np.abs(B_star).max()
    search = qnb.rank_deficient_barrier(B_star, "rademacher", method="search", restarts=6)
    scale = qnb.population_risk(np.zeros((d, d)), B_star, "rademacher")
    assert search.success and search.value <= 1e-9 * scale


@pytest.mark.parametrize("inputs", sorted(qnb.INPUTS))
@pytest.mark.parametrize("d", [2, 3, 4])
def test_barrier_is_above_the_lower_bound(inputs, d):
    B_star = teacher(d, 50 + d)
    r = qnb.rank_deficient_barrier(B_star, inputs, restarts=6)
    bound = qnb.barrier_lower_bound(B_star, inputs)
    assert r.lower_bound == bound
    assert r.value >= bound * (1 - 1e-12)
    mu2, mu4 = qnb.input_moments(inputs)
    assert bound == pytest.approx(min(mu4 - mu2**2, 2 * mu2**2) * np.linalg.eigvalsh(B_star)[0] ** 2)


def test_empirical_barrier_vanishes_below_the_counting_threshold():
    """N < d (d + 1) / 2: an interpolating singular PSD matrix exists, the barrier is 0."""
    d = 3
    B_star = teacher(d, 60)
    for N in (3, 5):
        X = qnb.sample_inputs(N, d, rng=N)
        y = qnb.labels(X, B_star)
        r = qnb.empirical_rank_deficient_barrier(X, y, restarts=5)
        assert r.success and r.value <= 1e-9 * np.mean(y**2), N
        assert np.linalg.eigvalsh(r.minimizer)[0] >= -1e-12 * np.abs(B_star).max()


def test_empirical_barrier_is_positive_and_near_the_population_one_for_large_N():
    d = 3
    B_star = teacher(d, 61)
    population = qnb.rank_deficient_barrier(B_star).value
    X = qnb.sample_inputs(3000, d, rng=7)
    r = qnb.empirical_rank_deficient_barrier(X, qnb.labels(X, B_star), restarts=5)
    assert r.success and r.value > 0
    assert 0.5 * population < r.value < 1.5 * population  # loose: N = 3000 samples of a heavy-tailed risk


def test_one_restart_cannot_confirm_the_minimum():
    r = qnb.rank_deficient_barrier(teacher(3, 70), "uniform", restarts=1)
    assert not r.success and r.status == 2 and "fewer than 2 restarts" in r.message
    assert np.isfinite(r.value) and r.agreeing_restarts == 1


@pytest.mark.parametrize("inputs, d", [("uniform", 3), ("uniform", 4), ("rademacher", 3), ("rademacher", 4)])
def test_barrier_minimizer_risk_against_monte_carlo(inputs, d):
    """The barrier is the risk of its minimizer: a Monte Carlo average over fresh inputs agrees.

    Tolerance: 6 standard errors of the sample mean (estimated from the same samples), so a
    false alarm has probability about 1e-9; for Rademacher inputs the minimizer differs from
    B* only on a trace-free diagonal, so every sample is 0 up to round-off.
    """
    B_star = teacher(d, seed=20 + d)
    res = qnb.rank_deficient_barrier(B_star, inputs=inputs, rng=0)
    assert res.success, res.message
    X = qnb.sample_inputs(200_000, d, rng=7, inputs=inputs)
    sq = (qnb.labels(X, res.minimizer) - qnb.labels(X, B_star)) ** 2
    mean, se = sq.mean(), sq.std() / np.sqrt(len(sq))
    scale = np.trace(B_star) ** 2
    assert abs(mean - res.value) <= 6 * se + 1e-12 * scale, (mean, res.value, se)
    assert np.linalg.eigvalsh(res.minimizer)[0] > -1e-12 * scale ** 0.5  # PSD up to round-off
    assert np.linalg.eigvalsh(res.minimizer)[0] < 1e-9 * scale ** 0.5  # and singular
