"""The uniqueness decision on instances whose answer is known, against cvxpy and against the flow."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
from qnb.uniqueness import (MESSAGES, STATUS_DECIDED, STATUS_UNDECIDED, critical_samples, is_unique_minimizer,
                             span_condition)


def instance(d, m_star, n, seed, teacher=qnb.gaussian_teacher):
    rng = np.random.default_rng(seed)
    A_star = qnb.gram(teacher(d, m_star, rng=rng))
    return qnb.sample_inputs(n, d, rng=rng), A_star


def check_witness(res, X, A_star):
    """A non-unique verdict must come with another PSD matrix that fits the data."""
    W = res.witness
    assert W is not None
    assert np.linalg.eigvalsh(W)[0] > -1e-10 * np.abs(W).max()
    assert res.witness_residual < 1e-10
    assert_allclose(qnb.labels(X, W), qnb.labels(X, A_star), rtol=1e-9, atol=1e-9)
    assert np.linalg.norm(W - A_star) > 1e-6 * np.linalg.norm(A_star)


@pytest.mark.parametrize("d, m_star, expected", [(8, 1, 15), (8, 2, 21), (8, 7, 36), (8, 8, 36), (5, 9, 15), (100, 1, 199)])
def test_critical_samples(d, m_star, expected):
    assert critical_samples(d, m_star) == expected


def test_span_condition_needs_d_d_plus_1_over_2_generic_samples():
    d = 5
    dim = d * (d + 1) // 2
    assert not span_condition(qnb.sample_inputs(dim - 1, d, rng=0))
    assert span_condition(qnb.sample_inputs(dim, d, rng=0))
    X = qnb.sample_inputs(dim, d, rng=1)
    X[-1] = X[0]  # a repeated input adds no new direction
    assert not span_condition(X)


@pytest.mark.parametrize("d, m_star", [(6, 1), (6, 3), (6, 6), (5, 11)])
def test_enough_samples_for_all_symmetric_matrices_always_unique(d, m_star):
    for seed in range(3):
        X, A_star = instance(d, m_star, d * (d + 1) // 2, seed)
        res = is_unique_minimizer(X, A_star)
        assert res.success and res.unique and res.certificate > 0


@pytest.mark.parametrize("d, m_star", [(6, 1), (6, 2), (8, 3)])
def test_at_most_the_face_dimension_never_unique(d, m_star):
    """With n <= r(r+1)/2 + r(d - r) the constraints cannot pin down the null-space block."""
    r = min(m_star, d)
    for n in (r * (r + 1) // 2 - 1, r * (r + 1) // 2 + r * (d - r)):
        if n < 1:
            continue
        X, A_star = instance(d, m_star, n, seed=n)
        res = is_unique_minimizer(X, A_star)
        assert res.success and not res.unique and res.certificate <= 0
        check_witness(res, X, A_star)


def test_full_rank_teacher_unique_exactly_when_the_span_condition_holds():
    d = 4
    for n in range(6, 13):
        X, A_star = instance(d, 6, n, seed=n)
        assert is_unique_minimizer(X, A_star).unique == span_condition(X)


def test_transition_for_a_single_unit_brackets_the_count():
    """n_c = 15 for d = 8: uniqueness is rare well below it (possible once n > d) and sure well above."""
    d = 8
    below = [is_unique_minimizer(*instance(d, 1, 10, seed=s)).unique for s in range(20)]
    above = [is_unique_minimizer(*instance(d, 1, 22, seed=s)).unique for s in range(20)]
    assert np.mean(below) <= 0.25 and all(above)


def test_every_verdict_carries_its_certificate():
    for seed in range(12):
        X, A_star = instance(7, 1, 12 + seed % 4, seed, teacher=qnb.orthonormal_teacher)
        res = is_unique_minimizer(X, A_star)
        assert res.success and res.status == STATUS_DECIDED == 0 and res.message == MESSAGES[STATUS_DECIDED]
        if res.unique:
            assert res.certificate > 0 and res.witness is None
        else:
            check_witness(res, X, A_star)
        # Each margin is far above its round-off bound on data in general position.
        assert res.certificate == 0 or abs(res.certificate) > 1e3 * res.round_off
        assert 0 <= res.round_off < 1e-8 and res.n_distinct == res.n


def test_undecided_says_why():
    """Three rows copied with a change of 3e-11 (not merged: distinct constraints, but nearly
    dependent) put a singular value between round-off (5e-12) and rtol x largest (2e-10): no
    claim, and the message says which rank."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(6)
    X = rng.standard_normal((16, 6))
    assert is_unique_minimizer(X, np.outer(a, a)).unique
    X = np.vstack([X, X[:3] + 3e-11 * rng.standard_normal((3, 6))])
    res = is_unique_minimizer(X, np.outer(a, a))
    assert not res.success and res.status == STATUS_UNDECIDED == 1 and not res.unique
    assert res.certificate == 0.0 and res.witness is None and res.n_distinct == 19
    assert res.message.startswith("undecided: ") and "not determined at working precision" in res.message
    assert MESSAGES[STATUS_UNDECIDED].format(why="x") == "undecided: x"


def test_rank_threshold_treats_round_off_eigenvalues_as_zero():
    X, A_star = instance(6, 2, 14, seed=3)
    noisy = A_star + 1e-14 * np.eye(6)  # eigenvalues of order 1e-14 where 0 is meant
    assert is_unique_minimizer(X, noisy).rank == 2
    assert is_unique_minimizer(X, noisy).unique == is_unique_minimizer(X, A_star).unique


def test_agrees_with_gradient_flow_from_a_full_rank_start():
    """Unique: the flow recovers A*. Not unique: it ends at another zero-loss point."""
    d, agree, total = 6, 0, 0
    for seed, n in enumerate([8, 9, 10, 11, 12, 13, 14, 16, 18]):
        X, A_star = instance(d, 1, n, seed=100 + seed)
        res = is_unique_minimizer(X, A_star)
        A0 = qnb.gram(np.random.default_rng(seed).standard_normal((d, d)))
        flow = qnb.empirical_flow(A0, X, qnb.labels(X, A_star), [0.0, 1e6])
        recovered = np.linalg.norm(flow.A[-1] - A_star) < 1e-3 * np.linalg.norm(A_star)
        if res.unique:
            assert recovered
        agree += recovered == res.unique
        total += 1
    assert agree == total


def test_agrees_with_a_generic_conic_solver():
    cp = pytest.importorskip("cvxpy")
    d = 6
    for seed, n in enumerate([9, 10, 11, 12, 14, 16]):
        X, A_star = instance(d, 1, n, seed=200 + seed)
        A = cp.Variable((d, d), PSD=True)
        R = np.random.default_rng(seed).standard_normal((d, d))
        constraints = [cp.sum(cp.multiply(np.outer(x, x), A)) == x @ A_star @ x for x in X]
        cp.Problem(cp.Minimize(cp.trace((R + R.T) @ A)), constraints).solve()
        other = np.linalg.norm(A.value - A_star) > 1e-3 * np.linalg.norm(A_star)
        assert is_unique_minimizer(X, A_star).unique == (not other)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: is_unique_minimizer(np.ones(3), np.eye(3)), ValueError, "X must be 2-dimensional"),
        (lambda: is_unique_minimizer(np.ones((4, 3)), np.eye(2)), ValueError, r"A_star must have shape \(3, 3\)"),
        (lambda: is_unique_minimizer(np.ones((4, 2)), -np.eye(2)), ValueError, "A_star must be positive semidefinite"),
        (lambda: is_unique_minimizer(np.ones((4, 2)), np.zeros((2, 2))), ValueError, "A_star must be nonzero"),
        (lambda: is_unique_minimizer(np.ones((4, 2)), np.eye(2), rank_tol=0), ValueError, "rank_tol must be finite and > 0"),
        (lambda: span_condition("data"), TypeError, "X must be a numeric array"),
        (lambda: critical_samples(0, 1), ValueError, "d must be >= 1"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the certificate is a number of the instance, not of the solver's path ---------------

@pytest.mark.parametrize("n", [9, 11, 13, 17, 21])
def test_certificate_is_invariant_under_relabelling_and_rotation(n):
    """The margin is the optimum of a convex program, so it must not depend on the order of
    the inputs or on the basis: permuting rows and rotating (X, A*) -> (X Q, Q^T A* Q) give
    the same value to the solver's tolerance (an interior-point multiplier would not)."""
    X, A_star = instance(8, 1, n, seed=3)
    base = is_unique_minimizer(X, A_star)
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    permuted = is_unique_minimizer(X[rng.permutation(n)], A_star)
    rotated = is_unique_minimizer(X @ Q, Q.T @ A_star @ Q)
    for res in (permuted, rotated):
        assert res.success and res.unique == base.unique
        assert_allclose(res.certificate, base.certificate, rtol=0, atol=1e-6)
    assert (base.certificate > 0) == base.unique


def null_space_split(A_star):
    lam, U = np.linalg.eigh(A_star)
    return U[:, lam > 1e-9 * lam[-1]], U[:, lam <= 1e-9 * lam[-1]]


def margin_of_V(X, A_star):
    """rho = max lambda_min(Z0) over the null-space blocks Z0 = U0^T Z U0 of the dual certificates
    Z = sum_k v_k x_k x_k^T with Z A* = 0, at tr Z0 = s (cvxpy, from the data, not from qnb's V)."""
    cp = pytest.importorskip("cvxpy")
    U1, U0 = null_space_split(A_star)
    s = U0.shape[1]
    U = X / np.linalg.norm(X, axis=1, keepdims=True)  # the same Z's (v_k absorbs |x_k|^2), better scaled
    v, t, Z0 = cp.Variable(U.shape[0]), cp.Variable(), cp.Variable((s, s), symmetric=True)
    constraints = [(U @ U1).T @ cp.diag(v) @ U == 0,  # U1^T Z = 0, i.e. Z A* = 0
                   Z0 == (U @ U0).T @ cp.diag(v) @ (U @ U0), cp.trace(Z0) == s, Z0 - t * np.eye(s) >> 0]
    problem = cp.Problem(cp.Maximize(t), constraints)
    problem.solve(solver=cp.CLARABEL)
    assert problem.status == "optimal"
    return float(t.value)


def margin_of_K(X, A_star):
    """m_K = max lambda_min(C) over the null-space blocks C of directions H = [[S, B], [B^T, C]]
    (basis of A*'s range and null space) with x_k^T H x_k = 0, at tr C = s (cvxpy)."""
    cp = pytest.importorskip("cvxpy")
    U1, U0 = null_space_split(A_star)
    r, s = U1.shape[1], U0.shape[1]
    S, B, C = cp.Variable((r, r), symmetric=True), cp.Variable((r, s)), cp.Variable((s, s), symmetric=True)
    t = cp.Variable()
    Z, W = X @ U1, X @ U0
    fits = [Z[k] @ S @ Z[k] + 2 * Z[k] @ B @ W[k] + W[k] @ C @ W[k] == 0 for k in range(X.shape[0])]
    problem = cp.Problem(cp.Maximize(t), fits + [C - t * np.eye(s) >> 0, cp.trace(C) == s])
    problem.solve(solver=cp.CLARABEL)
    assert problem.status == "optimal"
    return float(t.value)


def test_certificate_of_a_unique_instance_matches_an_independent_solve():
    """The returned value is s lambda_min(Z) / tr Z of a feasible point Z of V, so a lower bound
    of the trace-normalised margin rho; cvxpy's independent solve of the same maximum agrees."""
    X, A_star = instance(8, 1, 17, seed=3)
    res = is_unique_minimizer(X, A_star)
    assert res.unique and 0 < res.certificate <= 1
    rho = margin_of_V(X, A_star)
    assert_allclose(res.certificate, rho, rtol=0, atol=1e-6)
    assert res.certificate <= rho + 1e-7


def test_certificate_of_a_non_unique_instance_matches_an_independent_solve():
    """Not unique: minus the trace-normalised margin m_K of the admissible null-space blocks,
    solved independently by cvxpy (a lower bound of m_K is returned, so the certificate is at
    least -m_K)."""
    X, A_star = instance(6, 1, 8, seed=5)
    res = is_unique_minimizer(X, A_star)
    assert not res.unique and -1 <= res.certificate < 0
    m_K = margin_of_K(X, A_star)
    assert_allclose(-res.certificate, m_K, rtol=0, atol=1e-6)
    assert -res.certificate <= m_K + 1e-7


@pytest.mark.parametrize("d, n, seed", [(6, 8, 5), (8, 11, 1), (6, 9, 3), (8, 13, 0)])
def test_margin_of_K_is_minus_rho_over_one_minus_rho(d, n, seed):
    """Lagrange duality of the one program: m_K = -rho / (1 - rho), with rho the margin of V, each
    solved separately by cvxpy. Not unique (rho < 0 < m_K): the certificate is
    rho / (1 - rho) = -m_K. Unique (the last instance): rho > 0 > m_K, and the certificate is rho."""
    X, A_star = instance(d, 1, n, seed)
    res = is_unique_minimizer(X, A_star)
    rho, m_K = margin_of_V(X, A_star), margin_of_K(X, A_star)
    assert_allclose(m_K, -rho / (1 - rho), rtol=0, atol=1e-6)
    if res.unique:
        assert m_K < 0 < rho
        assert_allclose(res.certificate, rho, rtol=0, atol=1e-6)
    else:
        assert rho < 0 < m_K < 1
        assert_allclose(res.certificate, rho / (1 - rho), rtol=0, atol=1e-6)


def test_certificate_extremes():
    """rho = 1 when I is a dual certificate's null-space block (every symmetric matrix is one, as
    with n = d (d + 1) / 2 inputs); -1 when V = {0} (n = d inputs for a rank-one teacher: the
    face map is square and invertible, so C = I is admissible)."""
    X, A_star = instance(4, 1, 10, seed=0)
    assert_allclose(is_unique_minimizer(X, A_star).certificate, 1.0, rtol=0, atol=1e-8)
    X, A_star = instance(8, 1, 8, seed=0)
    res = is_unique_minimizer(X, A_star)
    assert not res.unique and res.certificate == -1.0 and res.nit == 0
    check_witness(res, X, A_star)
