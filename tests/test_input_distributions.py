"""Input distributions (qnb.INPUTS) and the risk L(B) = E[(x^T (B - B*) x)^2] of Gamarnik, Kizildag and Zadik."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb

NAMES = sorted(qnb.INPUTS)


def random_symmetric(d, rng):
    M = rng.standard_normal((d, d))
    return (M + M.T) / 2


def test_gaussian_draw_is_unchanged():
    """Stored data and seeds keep their meaning: the Gaussian draw is rng.standard_normal((n, d))."""
    expected = np.random.default_rng(5).standard_normal((7, 3))
    assert np.array_equal(qnb.sample_inputs(7, 3, rng=5), expected)
    assert np.array_equal(qnb.sample_inputs(7, 3, rng=5, inputs="gaussian"), expected)


@pytest.mark.parametrize("name", NAMES)
def test_sampled_moments_match_the_table(name):
    """Mean, mu2 and mu4 of the samples within 6 Monte Carlo standard errors (estimated from the samples)."""
    mu2, mu4 = qnb.input_moments(name)
    x = qnb.sample_inputs(100_000, 2, rng=3, inputs=name).ravel()
    for power, moment in [(1, 0.0), (2, mu2), (4, mu4)]:
        values = x**power
        se = values.std(ddof=1) / np.sqrt(values.size)
        # Rademacher's x^2 and x^4 are constant: no spread, the equality is exact.
        assert abs(values.mean() - moment) <= 6 * se + 1e-12, (name, power)


@pytest.mark.parametrize("name", NAMES)
def test_population_risk_matches_monte_carlo(name):
    """L(B) against the sample mean of (x^T D x)^2 over 200 000 inputs.

    The tolerance is 6 standard errors of that mean, the standard error being
    estimated from the same samples (std / sqrt(n)); a wrong coefficient of the
    formula moves L by far more (checked below by the other distributions'
    formulas, which must miss).
    """
    rng = np.random.default_rng(17)
    d = 4
    B_star = qnb.gram(rng.standard_normal((5, d)))
    B = qnb.gram(rng.standard_normal((3, d)))
    X = qnb.sample_inputs(200_000, d, rng=rng, inputs=name)
    q2 = np.einsum("ki,ij,kj->k", X, B - B_star, X) ** 2
    mean, se = q2.mean(), q2.std(ddof=1) / np.sqrt(q2.size)
    assert abs(qnb.population_risk(B, B_star, inputs=name) - mean) <= 6 * se
    for other in NAMES:
        if other != name:  # the test can tell the distributions apart
            assert abs(qnb.population_risk(B, B_star, inputs=other) - mean) > 6 * se, other


def test_population_risk_is_twice_population_loss_for_gaussian_inputs():
    rng = np.random.default_rng(2)
    B_star, B = qnb.gram(rng.standard_normal((4, 5))), random_symmetric(5, rng)
    assert_allclose(qnb.population_risk(B, B_star), 2 * qnb.population_loss(B, B_star), rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_population_risk_second_form_and_stack(name):
    """The two forms of the formula agree, and a stack answers matrix by matrix."""
    rng = np.random.default_rng(4)
    mu2, mu4 = qnb.input_moments(name)
    B_star = qnb.gram(rng.standard_normal((4, 4)))
    stack = np.stack([random_symmetric(4, rng) for _ in range(3)])
    values = qnb.population_risk(stack, B_star, name)
    assert values.shape == (3,)
    for B, value in zip(stack, values):
        D = B - B_star
        off = D - np.diag(np.diag(D))
        second = (mu4 - mu2**2) * np.sum(np.diag(D) ** 2) + 2 * mu2**2 * np.sum(off**2) + mu2**2 * np.trace(D) ** 2
        assert_allclose(value, second, rtol=1e-12)
        assert_allclose(value, qnb.population_risk(B, B_star, name), rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_population_risk_gradient_against_finite_differences(name):
    rng = np.random.default_rng(6)
    B_star, B = qnb.gram(rng.standard_normal((3, 4))), random_symmetric(4, rng)
    G = qnb.population_risk_gradient(B, B_star, name)
    assert_allclose(G, G.T)
    for _ in range(3):
        H = random_symmetric(4, rng)
        h = 1e-6  # the risk is quadratic: the central difference is exact up to round-off
        fd = (qnb.population_risk(B + h * H, B_star, name) - qnb.population_risk(B - h * H, B_star, name)) / (2 * h)
        assert_allclose(np.sum(G * H), fd, rtol=1e-7)
    stack = qnb.population_risk_gradient(np.stack([B, B_star]), B_star, name)
    assert_allclose(stack[0], G)
    assert_allclose(stack[1], 0.0, atol=1e-14)
