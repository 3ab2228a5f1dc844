"""The uniqueness decision on degenerate designs whose answer is known.

Repeated, parallel, rescaled and zero rows, inputs confined to a subspace, and
teachers with eigenvalues between round-off and the rank threshold. The
constraint of an input ``x`` is ``x^T A x = x^T A* x``, homogeneous of degree 2,
so ``x``, ``2 x`` and ``-1e6 x`` are one constraint and ``F`` depends only on the
set of lines: several answers below are exact consequences of that alone. The
others come from exact rational arithmetic on integer designs (dimension
counting with the distinct rows), and non-uniqueness is also exhibited
independently, as a second point of ``F`` found by cvxpy.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
from qnb.uniqueness import STATUS_DECIDED, STATUS_UNDECIDED, is_unique_minimizer, span_condition


# --- exact algebra on integer (or any floating-point, i.e. rational) data -----------------

def exact_rank(M):
    """Rank of a matrix of floats, each taken as the rational number it is (Gaussian elimination)."""
    rows = [[Fraction(float(x)) for x in row] for row in np.asarray(M)]
    rank, ncols = 0, (len(rows[0]) if rows else 0)
    for c in range(ncols):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][c] != 0:
                f = rows[i][c] / rows[rank][c]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
    return rank


def face_map(X, W):
    """Matrix of ``K -> (x_k^T (W^T K + K^T W) x_k)_k`` for the teacher ``A* = W^T W`` (``W``: r x d).

    ``W^T K + K^T W`` runs over the symmetric ``H`` with zero block on the null space of
    ``A*`` (the blocks ``S`` and ``B`` of qnb.uniqueness); the row of ``x`` is
    ``2 kron(W x, x)``. If this map is onto ``R^p`` for the ``p`` distinct lines, then
    ``C = I`` is an admissible null-space block, so ``A* + t H`` with
    ``H = [[S, B], [B^T, I]]`` lies in ``F`` for small ``t > 0``: ``F != {A*}``.
    """
    return 2 * np.stack([np.kron(W @ x, x) for x in X])


def quadratic_forms(X):
    """Rows ``vech``-like of ``x x^T``: ``x_a x_b`` for ``a <= b`` (rank = dim span{x x^T})."""
    a, b = np.triu_indices(X.shape[1])
    return X[:, a] * X[:, b]


def integer_rows(rng, n, d, low=-3, high=3):
    return rng.integers(low, high + 1, (n, d)).astype(float)


def copies(X, times, rng, factors=(1.0,)):
    """Every row ``times`` times, multiplied by factors drawn from ``factors``, in random order."""
    Y = np.repeat(X, times, axis=0) * rng.choice(factors, size=X.shape[0] * times)[:, None]
    return Y[rng.permutation(Y.shape[0])]


# --- checks ---------------------------------------------------------------------------------

def check_witness(res, X, A_star, distance=1e-6):
    """A non-unique verdict: decided, and another PSD matrix that fits every input (each relative
    to |x|^2 ||A*||, which is what a constraint's round-off is relative to, whatever the row scale)."""
    assert res.success and res.status == STATUS_DECIDED and not res.unique and res.certificate <= 0
    W = res.witness
    assert W is not None and res.witness_residual < 1e-10
    scale = np.linalg.eigvalsh(A_star)[-1]
    assert np.linalg.eigvalsh(W)[0] > -1e-10 * scale
    U = X[np.any(X != 0, axis=1)]
    U = U / np.linalg.norm(U, axis=1, keepdims=True)
    assert np.all(np.abs(np.einsum("ki,ij,kj->k", U, W - A_star, U)) < 1e-10 * scale)
    assert np.linalg.norm(W - A_star) > distance * np.linalg.norm(A_star)


def second_point(X, A_star, seed=0):
    """An independent decision of 'not unique': a point of F far from A*, found by cvxpy.

    F is cut by tr A <= tr A* + 1 (to keep it bounded) and a random linear functional is
    maximised and minimised over it. If F contains a segment from A* in direction H, one of
    the two optima is at distance >= t |<R, H>| / ||R|| > 0 from A* for almost every R, of
    order 0.1 to 1 here. The point returned is checked directly: its fit and its smallest
    eigenvalue to 1e-6 (Clarabel's tolerance is 1e-8), and its distance to A* at 1e-2 relative,
    four orders above what the solver's error could produce. Rows are passed as unit vectors
    (the same constraints), which keeps rescaled designs well conditioned for the solver, and
    repeated designs as their distinct rows (the same F: Clarabel can fail on equality
    constraints repeated exactly). An 'inaccurate' solve is retried with SCS.
    """
    cp = pytest.importorskip("cvxpy")
    d = X.shape[1]
    U = X[np.any(X != 0, axis=1)]
    U = U / np.linalg.norm(U, axis=1, keepdims=True)
    R = np.random.default_rng(seed).standard_normal((d, d))
    R = R + R.T
    best = 0.0
    for sign in (1.0, -1.0):
        A = cp.Variable((d, d), PSD=True)
        fits = [cp.sum(cp.multiply(np.outer(u, u), A)) == u @ A_star @ u for u in U]
        problem = cp.Problem(cp.Maximize(sign * cp.trace(R @ A)), fits + [cp.trace(A) <= np.trace(A_star) + 1])
        for solver in (cp.CLARABEL, cp.SCS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # 'inaccurate': the status says so
                    problem.solve(solver=solver)
            except cp.error.SolverError:
                continue
            if problem.status == "optimal":
                break
        assert problem.status == "optimal"
        P = A.value
        scale = np.linalg.eigvalsh(A_star)[-1]
        assert np.max(np.abs(np.einsum("ki,ij,kj->k", U, P - A_star, U))) < 1e-6 * scale
        assert np.linalg.eigvalsh(P)[0] > -1e-6 * scale
        best = max(best, np.linalg.norm(P - A_star) / np.linalg.norm(A_star))
    assert best > 1e-2
    return best


def never_falsely_unique(res):
    """When the exact answer is 'not unique': a verified witness, or undecided saying why."""
    assert not res.unique
    if res.success:
        assert res.witness is not None
    else:
        assert res.status == STATUS_UNDECIDED and res.witness is None
        assert res.message.startswith("undecided: ") and len(res.message) > 40


# --- repeated rows --------------------------------------------------------------------------------

@pytest.mark.parametrize("d", [4, 5, 6])
def test_three_distinct_rows_repeated_five_times(d):
    """n = 15 >= n_c = 2d - 1, but only 3 constraints: F != {A*}, exactly. The 3 lines span at most
    a 3-dimensional subspace, so A* + v v^T fits for v orthogonal to them; and where the face
    map is onto R^3 (also checked exactly), a positive definite null-space block is admissible."""
    rng = np.random.default_rng(d)
    for _ in range(4):
        a = rng.integers(1, 4, d) * rng.choice([-1, 1], d)
        A_star = np.outer(a, a).astype(float)
        X0 = integer_rows(rng, 3, d)
        assert exact_rank(X0) <= 3 < d
        X = copies(X0, 5, rng)
        res = is_unique_minimizer(X, A_star)
        check_witness(res, X, A_star)
        assert res.n == 15 and res.n_distinct == exact_rank(quadratic_forms(X0)) == 3
        if exact_rank(face_map(X0, a[None, :].astype(float))) == 3:
            assert res.certificate < 0
        second_point(X0, A_star)


@pytest.mark.parametrize("d", [4, 5, 6])
def test_d_distinct_rows_repeated_never_identify_a_rank_one_teacher(d):
    """d distinct lines spanning R^d, each three times (n = 3d > n_c): the face map of a rank-1
    teacher is d x d and invertible (exact), so every null-space block is admissible."""
    rng = np.random.default_rng(10 + d)
    for _ in range(4):
        a = rng.integers(1, 4, d) * rng.choice([-1, 1], d)
        A_star = np.outer(a, a).astype(float)
        X0 = integer_rows(rng, d, d)
        if exact_rank(face_map(X0, a[None, :].astype(float))) < d:
            continue
        X = copies(X0, 3, rng, factors=(1.0, -2.0, 0.5))
        res = is_unique_minimizer(X, A_star)
        check_witness(res, X, A_star)
        assert res.n_distinct == d and res.certificate < 0  # a positive definite null-space block exists
        second_point(X0, A_star)


def test_repeated_rows_with_enough_distinct_ones_keep_the_verdict():
    """3d distinct Gaussian rows (usually enough for a rank-1 teacher), each repeated: the same F,
    so the same verdict and the same margin (a number of F, to the solver's accuracy)."""
    rng = np.random.default_rng(3)
    verdicts = []
    for d in (4, 5, 6):
        for seed in range(4):
            X0, A_star = qnb.sample_inputs(3 * d, d, rng=rng), qnb.gram(qnb.gaussian_teacher(d, 1, rng=rng))
            base = is_unique_minimizer(X0, A_star)
            X = copies(X0, 4, rng)
            res = is_unique_minimizer(X, A_star)
            assert base.success and res.success and res.unique == base.unique
            assert_allclose(res.certificate, base.certificate, rtol=0, atol=1e-6)
            verdicts.append(res.unique)
    assert sum(verdicts) >= 10


def test_full_rank_teacher_on_repeated_integer_rows_exact():
    """A full-rank teacher is identified exactly when the x x^T of the distinct rows span Sym(d),
    a rank computed here in rational arithmetic. Repeated, parallel and rescaled copies of the
    rows change nothing (factors that are powers of 2 or small integers, so that the copies are
    exactly parallel); without one of the lines (all its copies) it is not identified."""
    rng = np.random.default_rng(5)
    for d in (3, 4):
        dim = d * (d + 1) // 2
        W = integer_rows(rng, d + 1, d)
        A_star = W.T @ W
        assert exact_rank(W) == d  # positive definite
        X0 = integer_rows(rng, dim, d)
        while exact_rank(quadratic_forms(X0)) < dim:
            X0 = integer_rows(rng, dim, d)
        X = copies(X0, 3, rng, factors=(1.0, 2.0, -3.0, 2.0 ** 20, -(2.0 ** -20)))
        res = is_unique_minimizer(X, A_star)
        assert res.success and res.unique and res.certificate > 0 and res.n_distinct == dim
        assert span_condition(X)
        fewer = X[[exact_rank(np.vstack([x, X0[0]])) == 2 for x in X]]  # every copy of one line gone
        assert exact_rank(quadratic_forms(fewer)) == dim - 1
        res = is_unique_minimizer(fewer, A_star)
        check_witness(res, fewer, A_star)
        assert not span_condition(fewer)
        second_point(X0[1:], A_star)


# --- parallel and rescaled rows ----------------------------------------------------------------

def test_parallel_rows_give_the_verdict_of_the_distinct_rows():
    """x, 2x and -x/2 are one constraint: the verdict and the margin of X0 and of [X0; 2 X0; -X0/2]."""
    rng = np.random.default_rng(7)
    seen = set()
    for d, m_star in ((6, 1), (6, 2), (8, 1)):
        lo = qnb.critical_samples(d, m_star)
        for trial in range(3):
            A_star, X, _, _ = qnb.nested_instance_data(11, trial, d, m_star)
            for n in (lo - 3, lo - 1, lo + 1, lo + 3):
                X0 = X[:n]
                Y = np.vstack([X0, 2 * X0, -0.5 * X0])[rng.permutation(3 * n)]
                base, res = is_unique_minimizer(X0, A_star), is_unique_minimizer(Y, A_star)
                assert base.success and res.success and res.unique == base.unique
                assert res.n == 3 * n and res.n_distinct == n
                assert_allclose(res.certificate, base.certificate, rtol=0, atol=1e-6)
                if not res.unique:
                    check_witness(res, Y, A_star)
                seen.add(res.unique)
    assert seen == {True, False}
    # The independent solver sees a second point on one of the non-unique parallel designs.
    A_star, X, _, _ = qnb.nested_instance_data(11, 0, 6, 1)
    second_point(np.vstack([X[:8], 2 * X[:8]]), A_star)


def test_rows_rescaled_by_1e6_give_the_unscaled_verdicts():
    """Each row times 1e6 or 1e-6 (labels over 24 orders of magnitude): the same lines, so the
    same verdicts on all 54 instances, the same margins, and witnesses that fit every row."""
    rng = np.random.default_rng(8)
    count, verdicts = 0, []
    for d, m_star in ((5, 1), (6, 1), (6, 2), (8, 1), (8, 2), (5, 2)):
        n_c = qnb.critical_samples(d, m_star)
        for trial in range(3):
            A_star, X, _, _ = qnb.nested_instance_data(13, trial, d, m_star)
            for n in (n_c - 2, n_c, n_c + 2):
                X0 = X[:n]
                Xs = X0 * 10.0 ** rng.choice([-6, 6], size=n)[:, None]
                base, res = is_unique_minimizer(X0, A_star), is_unique_minimizer(Xs, A_star)
                assert base.success and res.success and res.unique == base.unique
                assert_allclose(res.certificate, base.certificate, rtol=0, atol=1e-6)
                if not res.unique:
                    check_witness(res, Xs, A_star)
                count += 1
                verdicts.append(res.unique)
    assert count >= 36 and 0 < sum(verdicts) < count


def test_span_condition_ignores_row_scales_and_repetitions():
    rng = np.random.default_rng(9)
    for d in (3, 4, 5):
        dim = d * (d + 1) // 2
        for n in (dim - 1, dim, dim + 2):
            X = qnb.sample_inputs(n, d, rng=rng)
            expected = n >= dim
            assert span_condition(X) == expected
            assert span_condition(X * 10.0 ** rng.choice([-6, 6], size=n)[:, None]) == expected
            assert span_condition(copies(X, 3, rng, factors=(1.0, -2.0))) == expected
        X = qnb.sample_inputs(dim - 1, d, rng=rng)
        assert not span_condition(np.vstack([X, 5 * X[:1], np.zeros((1, d))]))


def test_zero_rows_are_no_constraint():
    A_star, X, _, _ = qnb.nested_instance_data(17, 0, 6, 1)
    for n in (9, 13, 17):
        base = is_unique_minimizer(X[:n], A_star)
        res = is_unique_minimizer(np.vstack([X[:n], np.zeros((3, 6))]), A_star)
        assert res.unique == base.unique and res.n_distinct == n
        assert_allclose(res.certificate, base.certificate, rtol=0, atol=1e-6)
    X0 = np.zeros((4, 6))
    check_witness(is_unique_minimizer(X0, A_star), X0, A_star)


# --- inputs in a proper subspace -----------------------------------------------------------------

@pytest.mark.parametrize("d, codim", [(4, 1), (5, 1), (5, 2), (6, 1), (6, 3)])
def test_inputs_in_a_proper_subspace_never_identify_any_teacher(d, codim):
    """If every x_k is orthogonal to v, then x_k^T (A* + v v^T) x_k = x_k^T A* x_k: F != {A*} for
    every teacher, however many inputs (here d(d+1)/2 + 5, more than a full-rank teacher needs
    in general position). Integer rows with x_k . v = 0 exactly; teachers of rank 1, 2 and d."""
    rng = np.random.default_rng(100 * d + codim)
    n = d * (d + 1) // 2 + 5
    for trial in range(2):
        V = integer_rows(rng, codim, d)
        R = integer_rows(rng, n, d)
        # Integer rows orthogonal to the rows of V: R times an integer basis of V's complement.
        P = np.round(np.linalg.det(V @ V.T) * (np.eye(d) - V.T @ np.linalg.solve(V @ V.T, V)))
        X = R @ P
        assert exact_rank(V @ P) == 0 and exact_rank(X) == d - codim
        a = rng.integers(1, 4, d).astype(float)
        teachers = [np.outer(a, a), qnb.gram(qnb.gaussian_teacher(d, 2, rng=rng)),
                    qnb.gram(qnb.gaussian_teacher(d, d + 2, rng=rng))]
        for A_star in teachers:
            v = V[0]
            assert np.all((X @ v) == 0)  # so A* + v v^T fits exactly
            res = is_unique_minimizer(X, A_star)
            check_witness(res, X, A_star)
        second_point(X, teachers[1], seed=trial)


# --- near-degenerate designs: a correct verdict or 'undecided', never a false 'unique' ------------

def test_teacher_eigenvalues_between_round_off_and_rank_tol():
    """A* = a a^T + 1e-11 |a|^2 I has full rank: with fewer than d(d+1)/2 inputs F != {A*} (the
    span condition fails, and A* + tH stays PSD for small t). rank_tol = 1e-9 calls the small
    eigenvalues zeros, and the rank-1 face would be identified; A* itself is not."""
    rng = np.random.default_rng(21)
    d = 6
    for _ in range(3):
        a = rng.standard_normal(d)
        X = qnb.sample_inputs(3 * d, d, rng=rng)
        assert is_unique_minimizer(X, np.outer(a, a)).unique
        A_star = np.outer(a, a) + 1e-11 * (a @ a) * np.eye(d)
        res = is_unique_minimizer(X, A_star)
        never_falsely_unique(res)
        if res.success:
            # The eigenvalues 1e-11 limit how far along H the witness can go while staying PSD.
            check_witness(res, X, A_star, distance=1e-12)
            assert res.rank == d
    # Enough inputs for the span condition: then it is unique (or undecided, never wrongly 'not').
    X = qnb.sample_inputs(d * (d + 1) // 2 + 3, d, rng=rng)
    res = is_unique_minimizer(X, A_star)
    assert res.unique or res.status == STATUS_UNDECIDED


@pytest.mark.parametrize("angle", [1e-7, 1e-9, 1e-11, 1e-13])
def test_near_parallel_rows_never_give_a_false_uniqueness(angle):
    """3 integer lines and 3 lines at ``angle`` from them: 6 distinct constraints for a rank-1
    teacher in d = 6, so at most d: the face map is onto (rank computed exactly on the floats),
    F != {A*}. Close to round-off the rows look parallel: 'not unique' (a witness that fits
    every row to round-off) or 'undecided', never 'unique'."""
    rng = np.random.default_rng(31)
    d = 6
    for _ in range(3):
        a = rng.integers(1, 4, d) * rng.choice([-1, 1], d)
        A_star = np.outer(a, a).astype(float)
        X0 = integer_rows(rng, 3, d)
        X = np.vstack([X0, X0 + angle * np.linalg.norm(X0, axis=1, keepdims=True) * rng.standard_normal((3, d))])
        if exact_rank(face_map(X, a[None, :].astype(float))) < 6:
            continue
        res = is_unique_minimizer(copies(X, 2, rng), A_star)
        never_falsely_unique(res)


# --- dual certificates of zero trace: I is an admissible null-space block -----------------------

def test_traceless_dual_certificates_give_certificate_minus_one():
    """A* = e1 e1^T (d = 3, s = 2) and inputs (1, b_k, c_k) with the points (b_k, c_k) on the unit
    circle: the one v orthogonal to the constraints of the (S, B) blocks (sum v_k = sum v_k b_k =
    sum v_k c_k = 0) is (1, -1, 1, -1), whose sum_k v_k w_k w_k^T = diag(2, -2) has zero trace, so
    V = span{diag(1, -1)} holds no element of trace s, I is in K and the certificate is -1, the
    smallest possible, with no program solved. Moving one point off the circle by eps gives V an
    element of trace O(eps): the trace-normalised margin of K is then below 1 and matches an
    independent cvxpy solve (qnb's value is a lower bound of it)."""
    cp = pytest.importorskip("cvxpy")
    A_star = np.diag([1.0, 0.0, 0.0])
    X = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, -1.0, 0.0], [1.0, 0.0, -1.0]])
    res = is_unique_minimizer(X, A_star)
    check_witness(res, X, A_star)
    assert res.certificate == -1.0 and res.nit == 0
    for eps in (1e-6, 1e-3, 1e-1):
        Y = X.copy()
        Y[3, 2] = -1.0 - eps
        res = is_unique_minimizer(Y, A_star)
        check_witness(res, Y, A_star)
        # m_K = max lambda_min(C) over admissible C = [[c11, c12], [c12, c22]] at tr C = 2: the
        # direction H = [[S, B], [B^T, C]] fits input (1, w) when S + 2 B.w + w^T C w = 0.
        S, B, C, t = cp.Variable(), cp.Variable(2), cp.Variable((2, 2), symmetric=True), cp.Variable()
        fits = [S + 2 * B @ y[1:] + y[1:] @ C @ y[1:] == 0 for y in Y]
        problem = cp.Problem(cp.Maximize(t), fits + [C - t * np.eye(2) >> 0, cp.trace(C) == 2])
        problem.solve(solver=cp.CLARABEL)
        assert problem.status == "optimal"
        assert -1 < res.certificate < -0.9
        assert_allclose(-res.certificate, t.value, rtol=0, atol=1e-6)
