"""The weight-space two-layer network of qnb/two_layer.py: f(x) = sum_j v_j sigma(w_j . x).

Derivatives against central differences for every activation, with v fixed (both signs)
and trained; identities that tie the quadratic network to the book's student; the
dimension of the symmetry fibre against an independent numerical rank; the stationarity
report at a benign minimum (whose loss is checked against a least-squares fit over all
symmetric matrices) and at a strict saddle; the flow's integrators against each other;
gradient descent's statuses; perturbed gradient descent escaping a saddle that plain
gradient descent cannot leave.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb

D, K, N = 3, 4, 10
V_MIXED = np.array([1.0, -0.5, 2.0, -1.5])  # fixed output weights of both signs

# Every activation of ACTIVATIONS, the sloped ones at two slopes: (name, beta).
ACTIVATION_CASES = [("quadratic", None), ("softplus", 1.0), ("softplus", 2.0), ("sigmoid", 1.0),
                    ("sigmoid", 2.0), ("erf", None), ("exponential", None)]
ACTIVATION_IDS = [name if beta is None else f"{name}-beta{beta:g}" for name, beta in ACTIVATION_CASES]

# Central differences with step h on a function of unit scale: the truncation error is
# h^2 |f'''| / 6 and the round-off error is about eps |f| / h. At H = 1e-5 that is 1e-10 +
# 2e-11; FD_TOL allows a factor of 1000 over their sum for the constants (third derivatives
# and values a few times the first derivative here, sums over n = 10 samples), still four
# orders below an error in a derivative's formula (a wrong factor or a missing term is O(1)).
H = 1e-5
EPS = np.finfo(float).eps
FD_TOL = 1e3 * (H**2 + EPS / H)


def data(seed=0, n=N, d=D):
    """Gaussian inputs and Gaussian labels (no teacher: the derivatives do not care)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def make_loss(name, beta, trained, seed=0):
    X, y = data(seed)
    if trained:
        return qnb.NetworkLoss(X, y, name, k=K, beta=beta)
    return qnb.NetworkLoss(X, y, name, v=V_MIXED, beta=beta)


def central_differences(f, theta, h):
    """Columns (f(theta + h e_i) - f(theta - h e_i)) / (2 h), one per coordinate of theta."""
    cols = []
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = h
        cols.append((np.asarray(f(theta + e)) - np.asarray(f(theta - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def step_for(theta):
    """H scaled to the parameters, so the relative perturbation is H."""
    return H * max(1.0, float(np.max(np.abs(theta))))


# --- derivatives against central differences ---------------------------------------------------


@pytest.mark.parametrize("name, beta", ACTIVATION_CASES, ids=ACTIVATION_IDS)
def test_activation_derivatives_match_central_differences(name, beta):
    act = qnb.Activation(name, beta=beta)
    z = np.linspace(-3.0, 3.0, 61)
    h = H * np.maximum(1.0, np.abs(z))
    first_fd = (act(z + h) - act(z - h)) / (2 * h)
    second_fd = (act.first(z + h) - act.first(z - h)) / (2 * h)
    # Compared at the scale of the function whose differences are taken (the round-off term).
    assert_allclose(act.first(z), first_fd, rtol=FD_TOL, atol=FD_TOL * np.max(np.abs(act(z))))
    assert_allclose(act.second(z), second_fd, rtol=FD_TOL, atol=FD_TOL * np.max(np.abs(act.first(z))))


@pytest.mark.parametrize("trained", [False, True], ids=["fixed v", "trained v"])
@pytest.mark.parametrize("name, beta", ACTIVATION_CASES, ids=ACTIVATION_IDS)
def test_gradient_matches_central_differences_of_the_value(name, beta, trained):
    loss = make_loss(name, beta, trained)
    theta = loss.random_start(rng=1)
    g = loss.gradient(theta)
    fd = central_differences(loss.value, theta, step_for(theta))
    assert_allclose(g, fd, rtol=FD_TOL, atol=FD_TOL * max(loss.value(theta), np.max(np.abs(g))))


@pytest.mark.parametrize("trained", [False, True], ids=["fixed v", "trained v"])
@pytest.mark.parametrize("name, beta", ACTIVATION_CASES, ids=ACTIVATION_IDS)
def test_hessian_matches_central_differences_of_the_gradient(name, beta, trained):
    loss = make_loss(name, beta, trained)
    theta = loss.random_start(rng=2)
    Hs = loss.hessian(theta)
    fd = central_differences(loss.gradient, theta, step_for(theta))
    # Both triangles are compared with differences of their own, so the final symmetrisation
    # in hessian() cannot hide a wrong off-diagonal block (the (w_j, v_j) cross terms).
    assert_allclose(Hs, fd, rtol=FD_TOL, atol=FD_TOL * np.max(np.abs(Hs)))
    assert_array_equal(Hs, Hs.T)
    assert Hs.shape == (loss.size, loss.size)


@pytest.mark.parametrize("trained", [False, True], ids=["fixed v", "trained v"])
@pytest.mark.parametrize("name, beta", ACTIVATION_CASES, ids=ACTIVATION_IDS)
def test_jacobian_matches_central_differences_of_the_outputs(name, beta, trained):
    loss = make_loss(name, beta, trained)
    theta = loss.random_start(rng=3)
    J = loss.jacobian(theta)
    fd = central_differences(loss.predict, theta, step_for(theta))
    assert J.shape == (N, loss.size)
    assert_allclose(J, fd, rtol=FD_TOL, atol=FD_TOL * np.max(np.abs(loss.predict(theta))))
    # The gradient is J^T r / n with r the residuals (the Notes of NetworkLoss).
    assert_allclose(loss.gradient(theta), J.T @ loss.residuals(theta) / N, rtol=1e-12, atol=1e-15)


# --- identities ------------------------------------------------------------------------------------


def test_quadratic_network_is_the_quadratic_form_of_W_T_diag_v_W():
    X, y = data(4)
    loss = qnb.NetworkLoss(X, y, v=V_MIXED)
    W = np.random.default_rng(5).standard_normal((K, D))
    M = W.T @ np.diag(V_MIXED) @ W
    assert_allclose(loss.predict(loss.join(W)), np.einsum("ia,ab,ib->i", X, M, X), rtol=1e-12)
    # New inputs go through the same form.
    X_new = np.random.default_rng(6).standard_normal((3, D))
    assert_allclose(loss.predict(loss.join(W), X_new), np.einsum("ia,ab,ib->i", X_new, M, X_new), rtol=1e-12)


def test_quadratic_network_with_v_one_over_m_is_the_books_student():
    # The book's student is x^T A x with A = gram(W) = W^T W / m: output weights 1/m.
    X, y = data(7)
    m = 5
    loss = qnb.NetworkLoss(X, y, v=np.full(m, 1.0 / m))
    W = np.random.default_rng(8).standard_normal((m, D))
    assert_allclose(loss.predict(loss.join(W)), qnb.labels(X, qnb.gram(W)), rtol=1e-12)
    # And the loss is E_n of the book's matrix loss at that A (both are (1/(2n)) sum r^2).
    assert_allclose(loss.value(loss.join(W)), qnb.EmpiricalLoss(X, y).value(qnb.gram(W)), rtol=1e-12)


def test_softplus_with_a_large_slope_is_close_to_relu():
    # log(1 + e^{b z}) / b - max(z, 0) = log(1 + e^{-b |z|}) / b lies in (0, log(2) / b],
    # with the maximum at z = 0 (in floating point it rounds to 0 once e^{-b |z|} < eps).
    beta = 50.0
    act = qnb.Activation("softplus", beta=beta)
    z = np.linspace(-2.0, 2.0, 401)
    gap = act(z) - np.maximum(z, 0.0)
    assert np.all(gap >= -EPS * np.abs(z))  # b z / b may round by an ulp of z
    assert np.max(gap) <= math.log(2) / beta * (1 + 1e-12)
    assert_allclose(act(0.0), math.log(2) / beta, rtol=1e-14)
    # Large b z does not overflow, and the derivative tends to the step function.
    assert_allclose(act(np.array([-40.0, 40.0])), [0.0, 40.0], atol=1e-300, rtol=1e-15)
    assert_allclose(act.first(np.array([-1.0, 1.0])), [0.0, 1.0], atol=1e-20)


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_sigmoid_slope_at_zero_is_beta_over_four(beta):
    act = qnb.Activation("sigmoid", beta=beta)
    assert_allclose(act(0.0), 0.5, rtol=1e-15)
    assert_allclose(act.first(0.0), beta / 4, rtol=1e-15)
    assert act.second(0.0) == 0.0  # the inflection point


def test_erf_slope_at_zero():
    act = qnb.Activation("erf")
    assert_allclose(act.first(0.0), 2 / math.sqrt(math.pi), rtol=1e-15)
    assert_allclose(act(1.0), math.erf(1.0), rtol=1e-15)


@pytest.mark.parametrize("trained", [False, True], ids=["fixed v", "trained v"])
@pytest.mark.parametrize("name, beta", ACTIVATION_CASES, ids=ACTIVATION_IDS)
def test_hessian_at_a_zero_loss_point_is_the_gauss_newton_matrix(name, beta, trained):
    # Labels produced by the network itself: the residuals vanish exactly, and with them the
    # second-order term sum_i r_i Hess f_i, leaving J^T J / n, which is PSD.
    X, _ = data(9)
    probe = make_loss(name, beta, trained, seed=9)
    theta = probe.random_start(rng=10)
    y = probe.predict(theta)
    loss = (qnb.NetworkLoss(X, y, name, k=K, beta=beta) if trained
            else qnb.NetworkLoss(X, y, name, v=V_MIXED, beta=beta))
    assert loss.value(theta) == 0.0
    J = loss.jacobian(theta)
    Hs = loss.hessian(theta)
    assert_allclose(Hs, J.T @ J / N, rtol=1e-12, atol=1e-14 * np.max(np.abs(Hs)))
    lam = np.linalg.eigvalsh(Hs)
    assert lam[0] >= -1e-12 * lam[-1]


# --- symmetry dimension ----------------------------------------------------------------------------


def fd_rank_of_M(W, v, trained):
    """The rank of the differential of theta -> M = W^T diag(v) W, computed independently.

    M is quadratic in theta, so its central differences are exact up to round-off (the
    third derivative vanishes) and any step works; singular values below 1e-8 of the
    largest are round-off (the differences carry errors of order eps / h relative).
    """
    k, d = W.shape

    def M(theta):
        Wt = theta[: k * d].reshape(k, d)
        vt = theta[k * d:] if trained else v
        return (Wt.T @ np.diag(vt) @ Wt).ravel()

    theta = np.concatenate([W.ravel(), v]) if trained else W.ravel()
    Jm = central_differences(M, theta, 1e-3)
    s = np.linalg.svd(Jm, compute_uv=False)
    return int(np.sum(s > 1e-8 * s[0])) if s[0] > 0 else 0


def test_symmetry_dimension_fixed_mixed_v_generic_W():
    # v with at least d entries of each sign, k >= 2 d: M = W^T diag(v) W fills the
    # d (d + 1) / 2 symmetric directions, so the fibre has k d - d (d + 1) / 2 dimensions.
    d, k = 3, 7
    v = np.array([1.0, 2.0, 0.5, -1.0, -3.0, -0.7, 1.2])
    X, y = data(11, d=d)
    loss = qnb.NetworkLoss(X, y, v=v)
    W = np.random.default_rng(12).standard_normal((k, d))
    assert loss.symmetry_dimension(loss.join(W)) == k * d - d * (d + 1) // 2
    assert loss.symmetry_dimension(loss.join(W)) == loss.size - fd_rank_of_M(W, v, False)


def test_symmetry_dimension_at_zero_is_the_parameter_count():
    X, y = data(13)
    fixed = qnb.NetworkLoss(X, y, v=V_MIXED)
    trained = qnb.NetworkLoss(X, y, k=K)
    assert fixed.symmetry_dimension(np.zeros(fixed.size)) == fixed.size == K * D
    assert trained.symmetry_dimension(np.zeros(trained.size)) == trained.size == K * D + K


@pytest.mark.parametrize("name, beta", ACTIVATION_CASES[1:], ids=ACTIVATION_IDS[1:])
def test_symmetry_dimension_is_unknown_for_other_activations(name, beta):
    loss = make_loss(name, beta, trained=False)
    theta = loss.random_start(rng=14)
    assert loss.symmetry_dimension(theta) is None
    report = loss.stationarity(theta)
    assert report.symmetry_dimension is None and report.certified_minimum is None


def rank_deficient_W(rng, k, d, r):
    """A k x d matrix of rank r (r < d): rows in an r-dimensional subspace."""
    return rng.standard_normal((k, r)) @ rng.standard_normal((r, d))


@pytest.mark.parametrize("case", ["generic", "rank one", "rank two", "zero rows", "zero v entries"])
def test_symmetry_dimension_trained_v_matches_an_independent_rank(case):
    rng = np.random.default_rng(15)
    d, k = 3, 5
    W = rng.standard_normal((k, d))
    v = rng.standard_normal(k)
    if case == "rank one":
        W = rank_deficient_W(rng, k, d, 1)
    elif case == "rank two":
        W = rank_deficient_W(rng, k, d, 2)
    elif case == "zero rows":
        W[:3] = 0.0
    elif case == "zero v entries":
        W = rank_deficient_W(rng, k, d, 2)
        v[:2] = 0.0
    X, y = data(16, d=d)
    loss = qnb.NetworkLoss(X, y, k=k)
    expected = loss.size - fd_rank_of_M(W, v, True)
    assert loss.symmetry_dimension(loss.join(W, v)) == expected
    if case == "generic":  # then dM reaches every symmetric matrix
        assert expected == loss.size - d * (d + 1) // 2


# --- stationarity ----------------------------------------------------------------------------------


def symmetric_least_squares_loss(X, y):
    """min over symmetric M of (1/(2n)) sum_i (x_i^T M x_i - y_i)^2, by lstsq on vech coordinates.

    x^T M x = sum_{a<=b} c_ab M_ab x_a x_b with c_ab = 1 on the diagonal and 2 off it.
    """
    d = X.shape[1]
    a, b = np.triu_indices(d)
    features = X[:, a] * X[:, b] * np.where(a == b, 1.0, 2.0)
    coef, *_ = np.linalg.lstsq(features, y, rcond=None)
    r = features @ coef - y
    return float(r @ r) / (2 * len(y))


def test_polished_gradient_descent_limit_of_a_benign_case_is_a_certified_minimum():
    # Mixed signs with d of each, k = 2 d: M = W^T diag(v) W ranges over all symmetric
    # matrices, random labels with n = 12 > d (d + 1) / 2 = 6 are not fitted exactly, and the
    # limit is the least-squares fit over symmetric matrices.
    d, n = 3, 12
    v = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    X, y = data(0, n=n, d=d)
    loss = qnb.NetworkLoss(X, y, v=v)
    res = qnb.gradient_descent(loss, loss.random_start(rng=1), 0.02)
    assert res.success, res.message
    theta = qnb.polish_stationary_point(loss, res.theta)
    report = loss.stationarity(theta)
    assert report.stationary and report.negative == 0
    assert report.symmetry_dimension == 2 * d * d - d * (d + 1) // 2
    assert report.null == report.symmetry_dimension
    assert report.certified_minimum is True
    best = symmetric_least_squares_loss(X, y)
    assert best > 1e-3 * loss.zero_network_loss()  # really not an interpolating fit
    assert not report.zero_loss
    assert_allclose(report.loss, best, rtol=1e-10)
    # The report's numbers are those of the loss.
    assert_allclose(report.gradient_norm, np.linalg.norm(loss.gradient(theta)), rtol=1e-12)
    assert_allclose(report.eigenvalues, np.linalg.eigvalsh(loss.hessian(theta)), rtol=1e-12,
                    atol=1e-12 * np.max(np.abs(report.eigenvalues)))


def test_zero_weights_are_a_strict_saddle_for_mixed_signs():
    # At W = 0 (quadratic, fixed v) the gradient vanishes exactly and the Hessian is
    # -2 blockdiag(v_j S), S = (1/n) sum_i y_i x_i x_i^T. Labels |x|^2 make S positive
    # definite, so every unit with v_j > 0 contributes d negative eigenvalues.
    X, _ = data(17)
    y = np.sum(X**2, axis=1)
    loss = qnb.NetworkLoss(X, y, v=V_MIXED)
    report = loss.stationarity(np.zeros(loss.size))
    S = (X * y[:, None]).T @ X / N
    assert np.all(np.linalg.eigvalsh(S) > 0)
    assert report.gradient_norm == 0.0 and report.stationary
    assert report.negative == D * int(np.sum(V_MIXED > 0))
    assert_allclose(report.min_eigenvalue, -2 * V_MIXED.max() * np.linalg.eigvalsh(S)[-1], rtol=1e-12)
    assert report.certified_minimum is False
    assert report.null == 0 and report.symmetry_dimension == loss.size


def test_a_constructed_saddle_away_from_zero_is_not_certified():
    # A teacher of both signs, fitted with the positive units only while the negative units
    # sit at zero: a stationary point of the full loss (a zero row has zero gradient), but the
    # negative direction of the teacher is unfitted, so the zero rows see negative curvature.
    d, n = 3, 15
    X, _ = data(18, n=n, d=d)
    y = qnb.labels(X, np.diag([2.0, 1.0, -1.5]))
    positive = qnb.NetworkLoss(X, y, v=np.ones(d))
    res = qnb.gradient_descent(positive, positive.random_start(rng=19), 0.01, gtol=1e-9)
    assert res.success, res.message
    W_pos = qnb.polish_stationary_point(positive, res.theta).reshape(d, d)
    full = qnb.NetworkLoss(X, y, v=np.concatenate([np.ones(d), -np.ones(d)]))
    theta = full.join(np.vstack([W_pos, np.zeros((d, d))]))
    report = full.stationarity(theta)
    assert report.stationary, report.gradient_norm
    assert report.negative > 0 and report.min_eigenvalue < 0
    assert report.certified_minimum is False
    # Gradient descent from a small push along the most negative direction lowers the loss.
    lam, vecs = np.linalg.eigh(full.hessian(theta))
    pushed = qnb.gradient_descent(full, theta + 1e-3 * vecs[:, 0], 0.01, gtol=1e-6)
    assert pushed.loss < report.loss - 1e-3 * abs(report.loss)


# --- network_flow ----------------------------------------------------------------------------------


def flow_case():
    X, y = data(20, n=8, d=2)
    loss = qnb.NetworkLoss(X, y, v=[1.0, -1.0, 0.5])
    return loss, loss.random_start(rng=21)


def test_flow_integrators_agree():
    loss, theta0 = flow_case()
    t = [0.0, 0.5, 2.0]
    runs = {m: qnb.network_flow(loss, theta0, t, method=m) for m in ("LSODA", "BDF", "DOP853")}
    for m, res in runs.items():
        assert res.success, (m, res.message)
        assert_allclose(res.theta[0], theta0, rtol=1e-15)  # dense output at t = 0
        assert res.loss[-1] < res.loss[0]
    # rtol = 1e-9, atol = 1e-12 per step; the global error of a contracting flow over t = 2
    # stays within a few hundred local tolerances.
    ref = runs["DOP853"].theta
    scale = np.max(np.abs(ref))
    for m in ("LSODA", "BDF"):
        assert_allclose(runs[m].theta, ref, rtol=0, atol=1e-6 * scale)
    # Gradient descent with step h is Euler's method: global error O(h) (about
    # h t max|d^2 theta / dt^2| / 2); with h = 1e-4 well within 1e-3 of the scale.
    gd = qnb.network_flow(loss, theta0, t, method="gd", step=1e-4)
    assert gd.success, gd.message
    assert_allclose(gd.theta, ref, rtol=0, atol=1e-3 * scale)
    err = np.max(np.abs(gd.theta - ref))
    assert err > 1e-9 * scale  # it really is a first-order method, not the same integrator
    # Halving the step halves the error (first order).
    gd2 = qnb.network_flow(loss, theta0, t, method="gd", step=5e-5)
    assert_allclose(np.max(np.abs(gd2.theta - ref)) / err, 0.5, rtol=0.1)


def test_flow_gd_with_too_large_a_step_diverges():
    loss, theta0 = flow_case()
    res = qnb.network_flow(loss, theta0, [0.0, 50.0], method="gd", step=5.0)
    assert res.success is False and res.status == 2
    assert "diverged" in res.message and "decrease step" in res.message
    assert np.all(np.isnan(res.theta[-1]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_flow_start_must_be_finite(bad):
    loss, theta0 = flow_case()
    theta0 = theta0.copy()
    theta0[1] = bad
    with pytest.raises(ValueError, match="theta0"):
        qnb.network_flow(loss, theta0, [0.0, 1.0])


# --- gradient_descent ------------------------------------------------------------------------------


def gd_case():
    """The benign quadratic case of the stationarity test, on other data: linear convergence.

    (The other activations converge too slowly to gtol for a fast test: their Hessians at
    the limits of such small random problems have eigenvalues near zero.)
    """
    X, y = data(22, n=12)
    return qnb.NetworkLoss(X, y, v=[1.0, 1.0, 1.0, -1.0, -1.0, -1.0])


def test_gradient_descent_succeeds_only_at_gtol():
    loss = gd_case()
    theta0 = loss.random_start(rng=23)
    gtol = 1e-8
    res = qnb.gradient_descent(loss, theta0, 0.02, gtol=gtol)
    assert res.success and res.status == 0, res.message
    assert res.gradient_norm <= gtol
    assert_allclose(np.linalg.norm(loss.gradient(res.theta)), res.gradient_norm, rtol=1e-12)
    assert_allclose(res.loss, loss.value(res.theta), rtol=1e-14)
    # The same run cut short is no success, and its gradient is above gtol.
    short = qnb.gradient_descent(loss, theta0, 0.02, gtol=gtol, max_steps=5)
    assert short.success is False and short.status == 1 and short.nsteps == 5
    assert "max_steps=5" in short.message
    assert short.gradient_norm > gtol
    assert_allclose(np.linalg.norm(loss.gradient(short.theta)), short.gradient_norm, rtol=1e-12)


def test_gradient_descent_with_too_large_a_step_diverges():
    loss = gd_case()
    res = qnb.gradient_descent(loss, loss.random_start(rng=24), 50.0)
    assert res.success is False and res.status == 2
    assert "diverged" in res.message and "decrease step" in res.message
    assert math.isnan(res.loss)


def test_gradient_descent_loss_history_does_not_rise():
    loss = gd_case()
    res = qnb.gradient_descent(loss, loss.random_start(rng=25), 0.02, gtol=1e-8, record_every=3)
    assert res.success, res.message
    assert res.steps[0] == 0 and res.steps[-1] == res.nsteps and len(res.steps) > 10
    assert np.all(np.diff(res.steps) > 0)
    # Round-off allowance: a few ulps of the starting loss.
    assert np.all(np.diff(res.losses) <= 4 * EPS * res.losses[0])
    assert res.losses[-1] < 0.9 * res.losses[0]


# --- perturbed gradient descent --------------------------------------------------------------------


def saddle_case():
    """W = 0 with quadratic activation, v of both signs and labels |x|^2: an exact strict saddle."""
    X, _ = data(26)
    return qnb.NetworkLoss(X, np.sum(X**2, axis=1), v=V_MIXED)


EPSILON = 1e-4
PGD = dict(step=0.02, epsilon=EPSILON, escape_steps=2000)


def test_gradient_descent_cannot_leave_the_saddle():
    loss = saddle_case()
    theta0 = np.zeros(loss.size)
    assert np.all(loss.gradient(theta0) == 0)
    res = qnb.gradient_descent(loss, theta0, 0.02, gtol=1e-12)
    assert_array_equal(res.theta, theta0)
    assert res.loss == loss.value(theta0)


def test_perturbed_gradient_descent_escapes_the_saddle_to_a_verified_point():
    loss = saddle_case()
    theta0 = np.zeros(loss.size)
    res = qnb.perturbed_gradient_descent(loss, theta0, **PGD, rng=0)
    assert res.success is True and res.status == 0, res.message
    assert res.perturbations >= 1
    gnorm = np.linalg.norm(loss.gradient(res.theta))
    lam = np.linalg.eigvalsh(loss.hessian(res.theta))[0]
    assert gnorm <= EPSILON
    assert lam >= -math.sqrt(EPSILON)
    assert_allclose(res.gradient_norm, gnorm, rtol=1e-12)
    assert_allclose(res.min_eigenvalue, lam, rtol=1e-9, atol=1e-12)
    assert res.loss < loss.value(theta0)


# Runs cut short: during the first escape (escape_steps 2000), and with escapes of one step
# from a tiny radius, which leave the iterate a candidate near the saddle (status 3) until
# the negative direction has grown (status 1).
SHORT_RUNS = [(1, 2000, None, 1), (10, 2000, None, 1), (100, 2000, None, 1), (200, 2000, None, 1),
              (1, 1, 1e-7, 3), (2, 1, 1e-7, 3), (5, 1, 1e-7, 1)]


@pytest.mark.parametrize("max_steps, escape_steps, radius, status", SHORT_RUNS)
def test_perturbed_gradient_descent_without_enough_steps_fails_truthfully(max_steps, escape_steps, radius,
                                                                          status):
    loss = saddle_case()
    options = dict(PGD, escape_steps=escape_steps, radius=radius)
    res = qnb.perturbed_gradient_descent(loss, np.zeros(loss.size), **options, max_steps=max_steps, rng=0)
    assert res.success is False and res.status == status, res.message
    assert res.nsteps <= max_steps
    # What the report says holds at the point it returns. (An escape that used up max_steps
    # used to report status 3, "gradient norm <= epsilon", with the saddle's eigenvalue, at a
    # point whose gradient was far above epsilon: the first four cases.)
    gnorm = np.linalg.norm(loss.gradient(res.theta))
    assert_allclose(res.gradient_norm, gnorm, rtol=1e-12)
    if res.status == 1:
        assert gnorm > EPSILON and "max_steps" in res.message
    else:
        assert gnorm <= EPSILON
        assert_allclose(res.min_eigenvalue, np.linalg.eigvalsh(loss.hessian(res.theta))[0], rtol=1e-9)
        assert res.min_eigenvalue < -math.sqrt(EPSILON)


def test_perturbed_gradient_descent_is_deterministic_for_a_seed():
    loss = saddle_case()
    theta0 = np.zeros(loss.size)
    a = qnb.perturbed_gradient_descent(loss, theta0, **PGD, rng=3)
    b = qnb.perturbed_gradient_descent(loss, theta0, **PGD, rng=3)
    c = qnb.perturbed_gradient_descent(loss, theta0, **PGD, rng=4)
    assert_array_equal(a.theta, b.theta)
    assert a.nsteps == b.nsteps and a.perturbations == b.perturbations
    assert not np.array_equal(a.theta, c.theta)  # the seed does drive the perturbations


def test_gradient_descent_says_when_its_step_makes_it_oscillate():
    # At n = d(d+1)/2 the exact fit is ill-conditioned and a step set from the data's scale is
    # beyond the stability limit near it: the iterates settle into a period-two cycle whose loss
    # stays bounded (so the divergence check does not fire) while the gradient stays large.
    d, n = 6, 21
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n) * np.sqrt(2.0)
    loss = qnb.NetworkLoss(X, y, v=np.r_[np.ones(d), -np.ones(d)])
    theta0 = loss.random_start(rng)
    big = qnb.gradient_descent(loss, theta0, 0.0252, gtol=1e-8, max_steps=20_000, record_every=1000)
    assert big.status == 1 and not big.success
    assert big.gradient_norm > 1.0 and "the iterates oscillate" in big.message
    # A stable step that is merely slow is not blamed.
    small = qnb.gradient_descent(loss, theta0, 0.001, gtol=1e-8, max_steps=20_000, record_every=100)
    assert small.status == 1 and "oscillate" not in small.message
