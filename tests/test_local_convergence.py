"""Local rates and radii near a planted network (qnb.local_convergence).

The predicted rate against eigenvalues computed directly and against a flow;
the fitted rate against exact exponentials; the radius against a case solved
by hand (f = (w x)^2 in one dimension, where w = 0 is a stationary point).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
from qnb.local_convergence import (
    STATUS_BRACKETED,
    STATUS_FITTED,
    STATUS_NO_FAILURE,
    STATUS_NOT_EXPONENTIAL,
    STATUS_SHORT_WINDOW,
    convergence_radius,
    gauss_newton_rate,
    loss_decay_rate,
)


def planted(activation, d, k, n, seed=0):
    """A trained-v network with |w*_j| = 2, v*_j = +-1, and its planted loss."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((k, d))
    W *= 2.0 / np.linalg.norm(W, axis=1, keepdims=True)
    v = rng.choice([-1.0, 1.0], k)
    X = rng.standard_normal((n, d))
    blank = qnb.NetworkLoss(X, np.zeros(n), activation, k=k)
    theta = blank.join(W, v)
    return qnb.NetworkLoss(X, blank.predict(theta), activation, k=k), theta, rng


@pytest.fixture
def square():
    """f(x) = (w x)^2 in one dimension, planted at w* = 1: L is a multiple of (w^2 - 1)^2."""
    X = np.array([[1.0], [2.0], [3.0]])
    return qnb.NetworkLoss(X, X[:, 0] ** 2, v=[1.0])


# -- gauss_newton_rate -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [6, 30])
def test_rate_is_the_smallest_nonzero_eigenvalue(n):
    # n < p = 12 and n > p: the smallest eigenvalue of the smaller Gram matrix.
    loss, theta, _ = planted("softplus", 3, 3, n, seed=4)
    J = loss.jacobian(theta)
    gram = J @ J.T / n if n < loss.size else J.T @ J / n
    res = gauss_newton_rate(loss, theta)
    assert res.success and res.full_rank and res.rank == min(n, loss.size)
    assert_allclose(res.eigenvalue, np.linalg.eigvalsh(gram)[0], rtol=1e-8)
    assert res.loss_rate == 2 * res.eigenvalue


def test_rate_skips_the_symmetry_directions():
    # Quadratic activation, fixed v = 1, k = d = 3 at a planted point of full rank: the residual
    # reaches the d (d + 1) / 2 = 6 symmetric matrices, the other 3 directions rotate W.
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 3))
    X = rng.standard_normal((20, 3))
    loss = qnb.NetworkLoss(X, np.einsum("ia,ab,ib->i", X, W.T @ W, X), v=np.ones(3))
    res = gauss_newton_rate(loss, loss.join(W))
    assert res.rank == 6 and not res.full_rank
    lam = np.linalg.eigvalsh(loss.hessian(loss.join(W)))
    assert_allclose(res.eigenvalue, lam[3], rtol=1e-8)
    assert np.all(np.abs(lam[:3]) < 1e-10 * lam[-1])


def test_flow_decays_at_the_predicted_rate():
    loss, theta, rng = planted("erf", 3, 3, 36, seed=4)
    u = rng.standard_normal(loss.size)
    predicted = gauss_newton_rate(loss, theta)
    t = np.linspace(0.0, 22.0 / predicted.eigenvalue, 200)
    run = qnb.network_flow(loss, theta + 0.1 * u / np.linalg.norm(u), t, rtol=1e-12, atol=1e-16)
    fit = loss_decay_rate(t, run.loss, 1e-9, 1e-16)
    assert run.success and fit.success, fit.message
    assert_allclose(fit.rate, predicted.loss_rate, rtol=1e-3)


def test_rate_arguments(square):
    with pytest.raises(TypeError, match="loss must be a NetworkLoss"):
        gauss_newton_rate("loss", [1.0])
    with pytest.raises(ValueError, match=r"theta must have shape \(1,\)"):
        gauss_newton_rate(square, [1.0, 2.0])
    assert not gauss_newton_rate(square, [0.0]).success     # J = 0 at w = 0


# -- loss_decay_rate ---------------------------------------------------------------------------


def test_fit_recovers_an_exponential():
    t = np.linspace(0.0, 5.0, 60)
    res = loss_decay_rate(t, 2.0 * np.exp(-7.0 * t), upper=1e-2, lower=1e-14)
    assert res.success and res.status == STATUS_FITTED
    assert_allclose(res.rate, 7.0, rtol=1e-12)
    assert res.deviation < 1e-12 and res.decades > 11


def test_late_window_sees_the_slow_mode():
    # Two modes; by a relative loss of 1e-6 the fast one is 1e-12 of the slow one.
    t = np.linspace(0.0, 20.0, 400)
    values = np.exp(-2.0 * t) + np.exp(-6.0 * t)
    res = loss_decay_rate(t, values, upper=1e-6, lower=1e-16)
    assert res.success
    assert_allclose(res.rate, 2.0, rtol=1e-9)


def test_fit_statuses():
    t = np.linspace(0.0, 1.0, 50)
    short = loss_decay_rate(t, np.exp(-t), upper=0.9, lower=1e-3)      # 0.4 decades
    assert short.status == STATUS_SHORT_WINDOW and not short.success
    assert "need 8 points over 3 decades" in short.message
    s = np.linspace(1.0, 1e6, 400)
    power = loss_decay_rate(s, s ** -2.0, upper=1e-1, lower=1e-12)     # not an exponential
    assert power.status == STATUS_NOT_EXPONENTIAL and not power.success


def test_fit_arguments():
    t = np.linspace(0.0, 1.0, 10)
    with pytest.raises(ValueError, match="t must be 1-dimensional"):
        loss_decay_rate(t[None], np.exp(-t)[None])
    with pytest.raises(ValueError, match="values must have the shape of t"):
        loss_decay_rate(t, np.exp(-t)[:5])
    with pytest.raises(ValueError, match="values must be positive"):
        loss_decay_rate(t, np.exp(-t) - 0.5)
    with pytest.raises(ValueError, match="upper must be finite and > 0"):
        loss_decay_rate(t, np.exp(-t), upper=0.0)
    with pytest.raises(ValueError, match="lower must be < upper"):
        loss_decay_rate(t, np.exp(-t), upper=1e-6, lower=1e-3)
    with pytest.raises(ValueError, match="values contains NaN"):
        loss_decay_rate(t, np.full(10, np.nan))


# -- convergence_radius ------------------------------------------------------------------------


def test_radius_of_the_square_is_one(square):
    # From w = 1 - r the flow reaches w* = 1 for r < 1; r = 1 starts at the stationary w = 0.
    # Grid 0.5, 1.0 (fails), then halvings between: lower = 1 - 0.5 / 2^b, upper = 1.
    res = convergence_radius(square, [1.0], [-3.0], 2.0, 50.0, grid=4, bisections=4)
    assert res.success and res.status == STATUS_BRACKETED
    assert res.upper == 1.0 and res.lower == 1.0 - 0.5 / 16
    assert res.evaluations == 2 + 4
    assert res.final_loss == square.value([0.0]) > 0


def test_radius_without_failure(square):
    res = convergence_radius(square, [1.0], [-1.0], 0.8, 50.0, grid=2, bisections=3)
    assert res.status == STATUS_NO_FAILURE and not res.success
    assert res.radius == 0.8 and res.evaluations == 2


def test_radius_agrees_with_the_flow():
    # erf, four units of norm 2 at evenly spaced angles in the plane, n = 16 > p = 12.
    angle = np.pi * (np.arange(4) + 0.5) / 4
    W = 2.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 2))
    blank = qnb.NetworkLoss(X, np.zeros(16), "erf", k=4)
    theta = blank.join(W, [1.0, -1.0, 1.0, -1.0])
    loss = qnb.NetworkLoss(X, blank.predict(theta), "erf", k=4)
    u = rng.standard_normal(loss.size)
    horizon = 200.0 / gauss_newton_rate(loss, theta).eigenvalue
    res = convergence_radius(loss, theta, u, 8.0, horizon, grid=4, bisections=2)
    assert res.status == STATUS_BRACKETED
    u = u / np.linalg.norm(u)
    floor = 1e-10 * loss.zero_network_loss()
    ends = [qnb.network_flow(loss, theta + r * u, [0.0, horizon], rtol=1e-7, atol=1e-10).loss[-1]
            for r in (res.lower, res.upper)]
    assert ends[0] <= floor < ends[1]


def test_radius_arguments(square):
    good = dict(loss=square, theta_star=[1.0], direction=[1.0], r_max=1.0, horizon=1.0)
    for name, value, error, match in [
        ("loss", "square", TypeError, "loss must be a NetworkLoss"),
        ("theta_star", [1.0, 1.0], ValueError, "theta_star must have shape"),
        ("theta_star", [2.0], ValueError, "theta_star must have zero loss"),
        ("direction", [0.0], ValueError, "direction must be nonzero"),
        ("direction", [np.nan], ValueError, "direction contains NaN"),
        ("r_max", -1.0, ValueError, "r_max must be finite and > 0"),
        ("horizon", np.inf, ValueError, "horizon must be finite and > 0"),
        ("grid", 0, ValueError, "grid must be >= 1"),
        ("bisections", -1, ValueError, "bisections must be >= 0"),
        ("zero_rtol", 0.0, ValueError, "zero_rtol must be finite and > 0"),
    ]:
        with pytest.raises(error, match=match):
            convergence_radius(**{**good, name: value})
