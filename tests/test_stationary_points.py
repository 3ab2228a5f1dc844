"""The weight-space risk of Gamarnik, Kızıldağ and Zadik and its stationary points.

Derivatives against central differences; the Hessian at a planted zero (its null space is
the tangent of the fibre {W : W^T W = B*}); and what the search finds on planted data with
Gaussian inputs above and below N* = d (d + 1) / 2.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
from qnb.stationary_points import EIG_RTOL


def planted(d, N, seed=0):
    """B* = W0^T W0 from a Gaussian d x d W0, Gaussian inputs, labels x^T B* x."""
    rng = np.random.default_rng(seed)
    W0 = rng.standard_normal((d, d))
    B_star = W0.T @ W0
    X = rng.standard_normal((N, d))
    return W0, B_star, X, qnb.labels(X, B_star)


def square_root(W0, m, seed=1):
    """A W of width m >= d with W^T W = W0^T W0: W0 padded with zero rows, then rotated."""
    d = W0.shape[1]
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((m, m)))
    return Q @ np.vstack([W0, np.zeros((m - d, d))])


@pytest.fixture
def risk():
    _, _, X, y = planted(3, 9, seed=3)
    return qnb.WeightRisk(X, y)


def test_value_is_the_definition(risk):
    W = np.random.default_rng(4).standard_normal((4, 3))
    expected = np.mean([(yi - np.sum((W @ x) ** 2)) ** 2 for x, yi in zip(risk.X, risk.y)])
    assert_allclose(risk.value(W), expected, rtol=1e-12)


@pytest.mark.parametrize("m", [1, 3, 4])
def test_gradient_matches_central_differences(risk, m):
    rng = np.random.default_rng(100 + m)  # not 3: default_rng(3) drew the planted W0
    W = rng.standard_normal((m, 3))
    grad = risk.gradient(W)
    eps = 1e-5
    for _ in range(4):
        E = rng.standard_normal(W.shape)
        fd = (risk.value(W + eps * E) - risk.value(W - eps * E)) / (2 * eps)
        assert_allclose(fd, np.sum(grad * E), rtol=1e-7)


@pytest.mark.parametrize("m", [1, 3, 4])
def test_hessian_matches_central_differences_of_the_gradient(risk, m):
    W = np.random.default_rng(10 + m).standard_normal((m, 3))
    H = risk.hessian(W)
    eps = 1e-5
    fd = np.empty_like(H)
    for k in range(W.size):
        E = np.zeros(W.size)
        E[k] = eps
        E = E.reshape(W.shape)
        fd[:, k] = (risk.gradient(W + E) - risk.gradient(W - E)).ravel() / (2 * eps)
    assert_allclose(H, fd, rtol=1e-7, atol=1e-7 * np.abs(H).max())
    assert_allclose(H, H.T)


def test_hessian_at_zero_is_minus_four_S(risk):
    H = risk.hessian(np.zeros((2, 3)))
    assert_allclose(H, -4 * np.kron(np.eye(2), risk.S(np.zeros((2, 3)))))


def test_orbit_dimension_formula():
    for m in range(1, 6):
        for k in range(m + 1):
            # Rank of {K W : K skew} for a random W of rank k with d = k columns.
            W = np.random.default_rng(m * 10 + k).standard_normal((m, max(k, 1)))
            if k == 0:
                W[:] = 0
            else:
                W[k:] = 0
            basis = []
            for a in range(m):
                for b in range(a + 1, m):
                    K = np.zeros((m, m))
                    K[a, b], K[b, a] = 1, -1
                    basis.append((K @ W).ravel())
            rank = np.linalg.matrix_rank(np.array(basis)) if basis else 0
            assert qnb.orbit_dimension(m, k) == rank
    # rank d <= m: m d - d (d + 1) / 2, the dimension of the fibre {W^T W = B}
    assert all(qnb.orbit_dimension(m, d) == m * d - d * (d + 1) // 2 for d in range(1, 5) for m in range(d, 7))


@pytest.mark.parametrize("d, m", [(3, 3), (3, 4), (4, 4), (3, 6)])
def test_planted_zero_is_stationary_with_psd_hessian_and_orbit_null_space(d, m):
    W0, B_star, X, y = planted(d, d * (d + 1) // 2 + 3)
    risk = qnb.WeightRisk(X, y)
    W = square_root(W0, m)
    assert risk.value(W) <= 1e-24 * np.mean(y ** 2)
    assert risk.relative_gradient_norm(W) <= 1e-13
    lam = np.linalg.eigvalsh(risk.hessian(W))
    tol = EIG_RTOL * np.abs(lam).max()
    assert lam[0] >= -tol
    n_zero = int(np.sum(np.abs(lam) <= tol))
    assert n_zero == qnb.orbit_dimension(m, d) == m * d - d * (d + 1) // 2
    # ... and the null space is the tangent {K W : K skew} of the O(m) orbit.
    null = np.linalg.eigh(risk.hessian(W))[1][:, :n_zero]
    for a in range(m):
        for b in range(a + 1, m):
            K = np.zeros((m, m))
            K[a, b], K[b, a] = 1, -1
            t = (K @ W).ravel()
            assert np.linalg.norm(t - null @ (null.T @ t)) <= 1e-8 * np.linalg.norm(t) + 1e-12


@pytest.mark.parametrize("d, m", [(3, 3), (3, 4), (4, 4)])
def test_above_threshold_full_rank_points_are_the_planted_zero(d, m):
    _, B_star, X, y = planted(d, d * (d + 1) // 2 + 4)
    res = qnb.stationary_points(X, y, m, starts=40, rng=0, B_star=B_star)
    assert res.success and res.status == 0 and res.n_converged > 0
    assert np.all(res.rel_grad_norm <= res.gtol)
    full = res.full_rank
    assert full.any()
    assert np.all(res.zero_loss[full]) and np.all(res.recovers[full])
    assert np.all(res.index[full] == 0) and np.all(res.extra_zero[full] == 0)
    # The zero of the loss is full rank: no rank-deficient B fits d (d + 1) / 2 + 4 labels.
    assert not np.any(res.zero_loss[~full])
    # Rank-deficient stationary points with positive loss are saddles or maxima.
    deficient = ~full & (res.rank > 0)
    assert deficient.any() and np.all(res.loss[deficient] > 0) and np.all(res.index[deficient] >= 1)
    # W = 0: the last point, a strict local maximum (S(0) is positive definite for PSD labels).
    assert res.rank[-1] == 0 and res.index[-1] == m * d and res.loss[-1] == pytest.approx(np.mean(y ** 2))
    # Sorted by loss; one B per point.
    assert np.all(np.diff(res.loss) >= 0)
    assert_allclose(res.B, np.einsum("nai,naj->nij", res.W, res.W), atol=1e-12 * np.abs(res.B).max())


@pytest.mark.parametrize("m", [3, 4])
def test_below_threshold_full_rank_points_fit_but_miss_the_teacher(m):
    d = 3
    N = d * (d + 1) // 2 - 2
    _, B_star, X, y = planted(d, N)
    res = qnb.stationary_points(X, y, m, starts=40, rng=0, B_star=B_star)
    assert res.success
    full = res.full_rank
    assert full.sum() >= 2
    assert np.all(res.zero_loss[full]) and np.all(res.index[full] == 0)
    assert not np.all(res.recovers[full])
    # A continuum of zeros: the Hessian's null space is all of {E : u_i^T E x_i = 0}, m d - N.
    assert np.all(res.n_zero[res.zero_loss] == m * d - N)


def test_verdicts_do_not_depend_on_units():
    _, B_star, X, y = planted(3, 10)
    a = qnb.stationary_points(X, y, 3, starts=20, rng=5)
    b = qnb.stationary_points(10 * X, 1e4 * 7 * y, 3, starts=20, rng=5)
    for key in ("rank", "index", "n_zero", "zero_loss", "hits"):
        assert_allclose(a[key], b[key])
    assert_allclose(b.loss, (7e4) ** 2 * a.loss, rtol=1e-6, atol=1e-20 * b.loss.max())


def test_no_converged_start_is_a_failure_status():
    _, _, X, y = planted(3, 10)
    res = qnb.stationary_points(X, y, 3, starts=4, max_nfev=1)
    assert res.success is False and res.status == 1 and "none of the 4 starts" in res.message
    assert res.n_points == 1 and res.rank[0] == 0  # W = 0, stationary exactly, is still reported
