"""Losses and gradients against finite differences and the Gaussian moment identity."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb


def random_symmetric(d, rng):
    M = rng.standard_normal((d, d))
    return (M + M.T) / 2


@pytest.fixture
def instance():
    rng = np.random.default_rng(11)
    d, n = 5, 17
    A_star = qnb.gram(qnb.gaussian_teacher(d, 2, rng=rng))
    X = qnb.sample_inputs(n, d, rng=rng)
    A = qnb.gram(rng.standard_normal((7, d)))
    return A, A_star, X, qnb.labels(X, A_star), rng


def test_empirical_loss_matches_definition(instance):
    A, A_star, X, y, _ = instance
    expected = np.mean([(x @ (A - A_star) @ x) ** 2 for x in X]) / 2
    assert_allclose(qnb.empirical_loss(A, X, y), expected, rtol=1e-12)
    assert qnb.empirical_loss(A_star, X, y) == pytest.approx(0.0, abs=1e-20)


def test_empirical_loss_is_twice_the_weight_loss(instance):
    """E_n(A) = 2 L_n(w), with L_n of eq. (2) written in the weights."""
    _, A_star, X, y, rng = instance
    W = rng.standard_normal((6, X.shape[1]))
    L_n = 0.25 * np.mean((y - np.mean((X @ W.T) ** 2, axis=1)) ** 2)
    assert_allclose(qnb.empirical_loss(qnb.gram(W), X, y), 2 * L_n, rtol=1e-12)


@pytest.mark.parametrize("which", ["empirical", "population"])
def test_gradient_matches_central_differences(instance, which):
    A, A_star, X, y, rng = instance
    if which == "empirical":
        loss, grad = (lambda B: qnb.empirical_loss(B, X, y)), qnb.empirical_gradient(A, X, y)
    else:
        loss, grad = (lambda B: qnb.population_loss(B, A_star)), qnb.population_gradient(A, A_star)
    for _ in range(5):
        H = random_symmetric(A.shape[0], rng)
        eps = 1e-4
        # Both losses are quadratic, so the central difference is exact up to round-off.
        fd = (loss(A + eps * H) - loss(A - eps * H)) / (2 * eps)
        assert_allclose(fd, np.sum(grad * H), rtol=1e-8)


def isserlis_second_moment(M):
    """E[(x^T M x)^2] for x ~ N(0, I), by summing Isserlis' pairings term by term."""
    d = M.shape[0]
    total = 0.0
    for i, j, k, l in itertools.product(range(d), repeat=4):
        pairings = (i == j) * (k == l) + (i == k) * (j == l) + (i == l) * (j == k)
        total += M[i, j] * M[k, l] * pairings
    return total


def test_population_loss_is_the_gaussian_average_exactly(instance):
    A, A_star, _, _, _ = instance
    # E[E_n] = E[(x^T (A - A*) x)^2] / 2 for one Gaussian sample.
    assert_allclose(qnb.population_loss(A, A_star),
                    isserlis_second_moment(A - A_star) / 2, rtol=1e-12)


def test_population_loss_is_the_monte_carlo_limit(instance):
    A, A_star, _, _, rng = instance
    n = 400_000
    X = qnb.sample_inputs(n, A.shape[0], rng=rng)
    samples = np.sum((X @ (A - A_star)) * X, axis=1) ** 2 / 2
    standard_error = samples.std() / np.sqrt(n)
    assert abs(samples.mean() - qnb.population_loss(A, A_star)) < 5 * standard_error


def test_population_gradient_closed_form():
    A_star = np.diag([2.0, 0.0, 0.0])
    G = qnb.population_gradient(np.eye(3), A_star)
    # 2 (I - A*) + tr(I - A*) I = diag(-2, 2, 2) + 1 * I
    assert_allclose(G, np.diag([-1.0, 3.0, 3.0]))


def test_bad_arguments_name_the_argument(instance):
    A, A_star, X, y, _ = instance
    with pytest.raises(ValueError, match="A must be symmetric"):
        qnb.empirical_loss(A + np.triu(np.ones_like(A)), X, y)
    with pytest.raises(ValueError, match="y must have one label per row"):
        qnb.empirical_loss(A, X, y[:-1])
    with pytest.raises(ValueError, match=r"A must have shape \(5, 5\)"):
        qnb.empirical_gradient(np.eye(4), X, y)
    with pytest.raises(ValueError, match="X contains NaN"):
        qnb.empirical_loss(A, np.where(X > 1, np.nan, X), y)
    with pytest.raises(TypeError, match="X must be a numeric array"):
        qnb.empirical_loss(A, "not data", y)
    with pytest.raises(ValueError, match="A_star must be square"):
        qnb.population_loss(A, np.ones((5, 4)))
    with pytest.raises(ValueError, match="A must have shape"):
        qnb.population_gradient(np.eye(3), A_star)
