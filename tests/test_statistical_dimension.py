"""Statistical-dimension predictions: the exact minimisations against brute force and a conic
solver, the tridiagonal eigenvalue model against dense matrices, seeds, bad inputs and bounds."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

import qnb
from qnb.statistical_dimension import (PROBLEMS, STATUS_SUCCESS, gaussian_symmetric, goe_eigenvalues,
                                       normal_cone_distance, predicted_threshold, statistical_dimension,
                                       tau_minimizer)


def objective(tau, trace, r, mu):
    return r * tau**2 - 2 * trace * tau + np.sum(np.maximum(np.asarray(mu) - tau, 0.0) ** 2)


# (a) the closed-form minimisation over tau against brute force

@pytest.mark.parametrize("r, s, lower", [(1, 0, 0.0), (1, 1, 0.0), (1, 7, 0.0), (2, 20, -np.inf),
                                         (3, 5, 0.7), (1, 30, -np.inf), (4, 3, -2.0)])
def test_tau_minimizer_against_grid_and_brent(r, s, lower):
    rng = np.random.default_rng(100 * r + s)
    for _ in range(20):
        trace = rng.normal(scale=2.0)
        mu = rng.normal(scale=3.0, size=s)
        if s > 2:
            mu[1] = mu[2]  # a repeated breakpoint
        tau = tau_minimizer(trace, r, mu, lower)
        best = objective(tau, trace, r, mu)
        lo = lower if np.isfinite(lower) else -50.0
        grid = np.linspace(lo, 50.0, 200_001)
        on_grid = min(objective(t, trace, r, mu) for t in grid[np.argsort(np.abs(grid - tau))[:50]])
        brent = minimize_scalar(objective, bounds=(lo, 50.0), args=(trace, r, mu), method="bounded",
                                options={"xatol": 1e-12})
        # a full grid scan is slow in Python; its global minimum lies near the Brent minimiser
        coarse = np.array([objective(t, trace, r, mu) for t in grid[::500]])
        assert best <= coarse.min() + 1e-12
        assert best <= on_grid + 1e-12
        brute = min(brent.fun, objective(lo, trace, r, mu))  # bounded Brent never evaluates an end
        assert best <= brute + 1e-12
        assert_allclose(best, brute, rtol=1e-9, atol=1e-9)
        assert tau >= lower
        if tau > lower:  # interior: the derivative vanishes
            assert abs(r * tau - trace - np.sum(np.maximum(mu - tau, 0.0))) < 1e-9 * (1 + abs(trace) + np.abs(mu).sum())


def test_tau_minimizer_is_vectorised():
    rng = np.random.default_rng(0)
    trace, mu = rng.normal(size=30), rng.normal(size=(30, 6))
    many = tau_minimizer(trace, 2, mu)
    one = [tau_minimizer(t, 2, m) for t, m in zip(trace, mu)]
    assert_allclose(many, one, rtol=0, atol=0)


# (b) the block formulas against a conic solver

cp = pytest.importorskip("cvxpy")


def cvxpy_distance(G, r, problem, h=None):
    """``dist^2(G, N + R h)`` with ``N`` parametrised directly: ``tau I - U0 P U0^T``."""
    d = G.shape[0]
    s = d - r
    P = cp.Variable((s, s), PSD=True)
    U0 = np.eye(d)[:, r:]
    point = -U0 @ P @ U0.T
    constraints = []
    if problem == "phaselift":
        tau = cp.Variable(nonneg=True)
        point = point + tau * np.eye(d)
    if h is not None:
        gamma = cp.Variable()
        point = point + gamma * h
    prob = cp.Problem(cp.Minimize(cp.sum_squares(G - point)), constraints)
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL
    return prob.value


@pytest.mark.parametrize("d, r", [(3, 1), (4, 2), (5, 1)])
@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("with_mean", [False, True])
def test_block_formula_against_cvxpy(d, r, problem, with_mean):
    rng = np.random.default_rng(d * 10 + r)
    for _ in range(3):
        G = gaussian_symmetric(d, rng)
        h = np.eye(d) + 0.5 * gaussian_symmetric(d, rng) if with_mean else None
        ours = normal_cone_distance(G, r, problem, h=h)
        assert_allclose(ours, cvxpy_distance(G, r, problem, h), rtol=1e-6, atol=1e-6)


def test_cone_inclusions_order_the_distances():
    """``N_T ⊂ N_D`` and ``N ⊂ N + R h``; as ``h -> I`` uniqueness tends to the free-``tau`` value."""
    rng = np.random.default_rng(7)
    d, r = 6, 2
    for _ in range(5):
        G, W = gaussian_symmetric(d, rng), gaussian_symmetric(d, rng)
        h = np.eye(d) + 0.3 * W
        pl, u = (normal_cone_distance(G, r, p, h=h) for p in PROBLEMS)
        assert pl <= u + 1e-8
        assert pl <= normal_cone_distance(G, r, "phaselift") + 1e-8
        assert u <= normal_cone_distance(G, r, "uniqueness") + 1e-8
        mu = np.linalg.eigvalsh(G[r:, r:])
        tau = tau_minimizer(np.trace(G[:r, :r]), r, mu, -np.inf)
        free = (np.sum((G[:r, :r] - tau * np.eye(r)) ** 2) + 2 * np.sum(G[:r, r:] ** 2)
                + np.sum(np.maximum(mu - tau, 0) ** 2))
        # uniqueness is continuous at h = I; PhaseLift is not (gamma ~ 1/eps keeps gamma eps W finite)
        near = np.eye(d) + 1e-5 * W
        assert_allclose(normal_cone_distance(G, r, "uniqueness", h=near), free, rtol=1e-3, atol=1e-3)
        assert normal_cone_distance(G, r, "phaselift", h=near) <= free + 1e-3


def test_h_in_the_normal_cone_is_refused():
    with pytest.raises(ValueError, match="h or -h lies in the normal cone"):
        normal_cone_distance(np.eye(3), 1, "phaselift", h=np.eye(3))


# (c) the tridiagonal model against dense matrices

def test_tridiagonal_eigenvalues_have_the_dense_distribution():
    s, samples = 9, 4000
    tri = goe_eigenvalues(s, samples, np.random.default_rng(1))
    B = np.random.default_rng(2).standard_normal((samples, s, s))
    dense = np.linalg.eigvalsh((B + np.swapaxes(B, 1, 2)) / 2)
    for stat in (lambda lam: lam[:, -1], lambda lam: np.sum(lam**2, axis=1), lambda lam: lam[:, 0] * lam[:, -1]):
        a, b = stat(tri), stat(dense)
        se = np.hypot(a.std(), b.std()) / np.sqrt(samples)
        assert abs(a.mean() - b.mean()) < 4 * se
    # and both match the exact E ||G||_F^2 = s (s + 1) / 2
    sq = np.sum(tri**2, axis=1)
    assert abs(sq.mean() - s * (s + 1) / 2) < 4 * sq.std() / np.sqrt(samples)


# (d) seeds

def test_fixed_seed_repeats_and_none_reports_its_seed():
    a = statistical_dimension(12, 2, samples=50, rng=3)
    assert a.seed == 3 and a == statistical_dimension(12, 2, samples=50, rng=3)
    b = statistical_dimension(12, 2, samples=50, rng=None)
    assert isinstance(b.seed, int) and b.seed >= 0
    assert statistical_dimension(12, 2, samples=50, rng=b.seed).delta == b.delta
    g = statistical_dimension(12, 2, samples=50, rng=np.random.default_rng(5))
    assert g.seed == statistical_dimension(12, 2, samples=50, rng=np.random.default_rng(5)).seed
    p = predicted_threshold(5, 1, "uniqueness", samples=4, rng=None, iterations=2)
    q = predicted_threshold(5, 1, "uniqueness", samples=4, rng=p.seed, iterations=2)
    assert p.n == q.n and np.array_equal(p.iterates, q.iterates)


# (e) bad inputs name the argument

@pytest.mark.parametrize("call, error, match", [
    (lambda: statistical_dimension(1, 1), ValueError, "d must be >= 2"),
    (lambda: statistical_dimension(4.0, 1), TypeError, "d must be an integer"),
    (lambda: statistical_dimension(4, 0), ValueError, "r must be >= 1"),
    (lambda: statistical_dimension(4, 4), ValueError, "r must be < d"),
    (lambda: statistical_dimension(4, 1, samples=1), ValueError, "samples must be >= 2"),
    (lambda: statistical_dimension(4, 1, rng="x"), TypeError, "rng must be"),
    (lambda: statistical_dimension(4, 1, rng=-1), ValueError, "rng must be"),
    (lambda: predicted_threshold(4, 1, problem="lasso"), ValueError, "problem must be one of"),
    (lambda: predicted_threshold(4, 1, problem=1), TypeError, "problem must be a string"),
    (lambda: predicted_threshold(4, 1, iterations=0), ValueError, "iterations must be >= 1"),
    (lambda: predicted_threshold(4, 5), ValueError, "r must be < d"),
    (lambda: normal_cone_distance(np.ones((2, 3)), 1), ValueError, "G must be square"),
    (lambda: normal_cone_distance(np.eye(3), 1, h=np.eye(2)), ValueError, "h must have shape"),
    (lambda: normal_cone_distance(np.eye(3), 1, h=np.zeros((3, 3))), ValueError, "h must not be zero"),
])
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


# (f) bounds and the trend towards 3 r d

@pytest.mark.parametrize("d, r", [(2, 1), (3, 2), (6, 1), (6, 3), (12, 2)])
def test_delta_between_its_bounds(d, r):
    """``D`` contains ``{H : U0^T H U0 = 0, tr H11 <= 0}``, a half-space of the tangent space
    ``{U0^T H U0 = 0}`` (dimension ``r (r + 1) / 2 + r s``), whose statistical dimension is that
    dimension minus 1/2; and ``D ⊂ T``, whose statistical dimension is
    ``r (r + 1) / 2 + r s + s (s + 1) / 4`` (exact). Monotonicity under inclusion gives both bounds.
    The tangent-space dimension itself is not a lower bound: at ``d = 2, r = 1`` delta is about 1.75."""
    s = d - r
    tangent = r * (r + 1) / 2 + r * s
    tiny = (d, r) in ((2, 1), (3, 2))
    res = statistical_dimension(d, r, samples=20000 if tiny else 3000, rng=11)
    assert tangent - 0.5 - 4 * res.stderr < res.delta < tangent + s * (s + 1) / 4 + 4 * res.stderr
    assert res.delta < d * (d + 1) / 2
    if tiny:
        assert res.delta < tangent - 5 * res.stderr


def test_delta_over_d_increases_towards_three():
    ratios, errors = [], []
    for d, samples in ((16, 1500), (64, 600), (256, 150)):
        res = statistical_dimension(d, 1, samples=samples, rng=d)
        ratios.append(res.delta / d)
        errors.append(res.stderr / d)
    for k in range(2):
        assert ratios[k + 1] - ratios[k] > 4 * np.hypot(errors[k], errors[k + 1])
    assert ratios[-1] < 3


def test_predicted_thresholds_converge_and_order():
    """The fixed point is reached within its Monte Carlo error, and ``n_PL <= n_u`` (uniqueness
    implies recovery by trace minimisation)."""
    pl = predicted_threshold(12, 1, "phaselift", samples=30, rng=4)
    u = predicted_threshold(12, 1, "uniqueness", samples=30, rng=4)
    for res in (pl, u):
        assert res.status == STATUS_SUCCESS and res.success
        assert abs(res.residual) <= res.stderr
        assert res.delta_centred == pl.delta_centred  # the same G draws
    assert pl.n <= u.n
    # PhaseLift's constraint tau >= 0 rarely binds: the mean barely moves its prediction
    assert abs(pl.n - pl.delta_centred) < 2 * pl.stderr_centred


def test_public_names():
    for name in ("statistical_dimension", "predicted_threshold", "normal_cone_distance"):
        assert name in qnb.__all__ and callable(getattr(qnb, name))
