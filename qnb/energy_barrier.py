"""The energy barrier of Gamarnik, Kizildag and Zadik: the least risk of a rank-deficient student.

With ``B = W^T W`` and a full-rank teacher ``B* = W*^T W*``, a student with
``m >= d - 1`` hidden units can realise every positive semidefinite ``B`` of
rank at most ``d - 1``. The barrier is

    min { L(B) : B >= 0, rank B <= d - 1 },   L(B) = E[(x^T (B - B*) x)^2]

(:func:`qnb.population_risk`), or the same over the empirical risk
``(1/N) sum_k (y_k - x_k^T B x_k)^2``. It bounds from below the risk of
every student whose matrix is singular: a student that reaches a risk below
it has full rank.

Reduction. ``B`` is singular exactly when ``B v = 0`` for some unit ``v``. For
fixed ``v`` write ``B = V C V^T`` with ``V`` an orthonormal basis of
``v^perp`` and ``C`` a PSD ``(d - 1) x (d - 1)`` matrix: the inner problem
``min_C L(V C V^T)`` is a convex quadratic program over the PSD cone, solved
here with Clarabel. The outer minimisation over the unit sphere is not
convex; it is done by a local optimiser from several starts (the eigenvectors
of ``B*`` and random directions), with the derivative of the inner optimum in
``v`` from the envelope theorem: rotating ``v`` by ``delta`` (orthogonal to
``v``) and the optimal ``B`` with it changes ``B`` by
``-v (B delta)^T - (B delta) v^T``, so the gradient on the sphere is
``-2 (I - v v^T) B G v`` with ``G`` the gradient of the risk at the optimal
``B``.

Closed forms.

* Gaussian inputs (``mu4 = 3 mu2^2``). In the basis ``(v, v^perp)`` write
  ``B* = [[a, b^T], [b, M]]``. Then
  ``L / mu2^2 = 2 (a^2 + 2 |b|^2 + ||C - M||^2) + (tr(C - M) - a)^2``,
  minimised over all symmetric ``C`` at ``C = M + a I / (d + 1)``, which is
  positive definite (``M`` is), so the cone constraint is inactive. The inner
  value is ``mu2^2 (4 v^T B*^2 v - 2 d (v^T B* v)^2 / (d + 1))``; in the
  eigenbasis of ``B*`` it is a concave function of the weights ``v_i^2`` on
  the simplex, so its minimum is at a vertex: ``v = u``, the eigenvector of
  the smallest eigenvalue ``lam`` of ``B*``. The barrier is
  ``2 mu2^2 lam^2 (d + 2) / (d + 1)``, reached at
  ``B = B* - lam u u^T + lam (I - u u^T) / (d + 1)``.
* Rademacher inputs (``mu4 = mu2^2``): the diagonal of ``D = B - B*`` enters
  only through ``tr D``, so ``B* + diag(delta)`` with ``sum delta = 0`` has
  risk 0; with ``delta = t (e_j - e_i)`` and ``t`` the smallest positive root
  of the quadratic ``det(B* + diag(delta)) = 0`` it is singular and PSD: the
  barrier is 0.

Bound. ``L >= min(mu4 - mu2^2, 2 mu2^2) ||B - B*||_F^2`` and
``||B - B*||_F >= lam_min(B*)`` for singular ``B`` give
:func:`barrier_lower_bound`.
"""

from __future__ import annotations

import clarabel
import numpy as np
from scipy import optimize, sparse

from ._symmetric import TEACHER_RANK_RTOL, SymmetricCoordinates
from ._validation import as_data, as_rng, as_symmetric, check_choice, check_int
from .data import INPUTS, input_moments
from .losses import EmpiricalLoss, population_risk, population_risk_gradient
from .result import Result

# Restarts agree when their values are within AGREE_RTOL of the best value plus
# ZERO_RTOL of the risk of B = 0. The values are risks of exactly feasible points,
# evaluated in closed form; where the barrier is 0 (Rademacher inputs, N < d (d + 1) / 2)
# the searches end within 1e-15 L(0) of it, and a Gaussian barrier of 6e-9 L(0) (a
# teacher with lam_min / lam_max = 1e-4, d = 4) is found to 2e-10 relative: 1e-12 L(0)
# covers the round-off without swamping a small barrier.
AGREE_RTOL = 1e-6
ZERO_RTOL = 1e-12
# An inner solution is accepted when its KKT residual (the most negative
# eigenvalue of the gradient in C, and the complementarity <G_C, C>) is below
# KKT_RTOL times the size of the gradient at B = 0.
KKT_RTOL = 1e-6

STATUS_SOLVED = 0
STATUS_NOT_VERIFIED = 1
STATUS_RESTARTS_DISAGREE = 2
MESSAGES = {
    STATUS_SOLVED: "the barrier was found",
    STATUS_NOT_VERIFIED: "no restart ended at a verified inner optimum",
    STATUS_RESTARTS_DISAGREE: "fewer than 2 restarts reached the best value within the tolerance",
}
METHODS = ("auto", "closed_form", "search")


class _Quadratic:
    """A convex quadratic ``f(B) = b.H b + 2 g.b + c`` of ``b = svec(B)``, with exact value and gradient."""

    def __init__(self, d, H, g, const, value, gradient):
        self.d, self.H, self.g, self.const = d, H, g, const
        self.value, self.gradient = value, gradient
        self.coords = SymmetricCoordinates(d)
        self.sub = SymmetricCoordinates(d - 1)
        # Clarabel's PSD triangle: upper triangle column by column, off-diagonals times sqrt(2).
        self.order = np.lexsort((self.sub.rows, self.sub.cols))
        self.grad_scale = 2 * float(np.linalg.norm(g))  # |gradient at B = 0|
        self.zero_value = float(const)  # f(0)
        unit = self.sub.smat(np.eye(self.sub.size)[self.order])  # Clarabel coordinate directions
        self.unit = unit

    def complement(self, v):
        """Orthonormal basis ``V`` (d, d - 1) of ``v^perp``."""
        Q, _ = np.linalg.qr(np.column_stack([v, np.eye(self.d)]))
        return Q[:, 1:self.d]

    def inner(self, v):
        """``min f(V C V^T)`` over PSD ``C``: ``(value, B, kkt_ok)`` with ``B`` exactly PSD and ``B v = 0``."""
        V = self.complement(v)
        T = self.coords.svec(V @ self.unit @ V.T).T  # svec_d(V C V^T) = T x
        P = 2 * T.T @ self.H @ T
        q = 2 * T.T @ self.g
        scale = max(float(np.max(np.abs(P))), 1e-300)
        n = q.size
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        cone = clarabel.PSDTriangleConeT(self.d - 1) if self.d > 2 else clarabel.NonnegativeConeT(1)
        solver = clarabel.DefaultSolver(sparse.csc_matrix(np.triu(P / scale)), q / scale,
                                        sparse.csc_matrix(-np.eye(n)), np.zeros(n), [cone], settings)
        solution = solver.solve()
        x = np.asarray(solution.x)
        C = self.sub.smat(self._natural(x))
        lam, U = np.linalg.eigh(C)
        C = (U * np.clip(lam, 0, None)) @ U.T  # exactly in the cone
        B = V @ C @ V.T
        B = 0.5 * (B + B.T)
        G_C = V.T @ self.gradient(B) @ V
        kkt = max(-float(np.linalg.eigvalsh(G_C)[0]), abs(float(np.sum(G_C * C))))
        ok = (str(solution.status) in ("Solved", "AlmostSolved") and np.all(np.isfinite(x))
              and kkt <= KKT_RTOL * max(self.grad_scale, 1e-300) * max(1.0, float(np.linalg.norm(C))))
        return float(self.value(B)), B, bool(ok)

    def _natural(self, x):
        w = np.empty_like(x)
        w[self.order] = x
        return w

    def sphere_value_and_gradient(self, z):
        norm = float(np.linalg.norm(z))
        v = z / norm
        value, B, _ = self.inner(v)
        G = self.gradient(B)
        grad_v = -2 * B @ G @ v
        grad_v -= v * (v @ grad_v)
        return value, grad_v / norm


def _population_objective(B_star, inputs):
    d = B_star.shape[0]
    coords = SymmetricCoordinates(d)
    mu2, mu4 = input_moments(inputs)
    diagonal = coords.rows == coords.cols
    # In svec coordinates: diagonal block (mu4 - mu2^2) I + mu2^2 1 1^T, off-diagonal 2 mu2^2 I.
    H = np.diag(np.where(diagonal, mu4 - mu2**2, 2 * mu2**2))
    H[np.ix_(diagonal, diagonal)] += mu2**2
    b_star = coords.svec(B_star)
    return _Quadratic(d, H, -H @ b_star, float(b_star @ H @ b_star),
                      lambda B: population_risk(B, B_star, inputs),
                      lambda B: population_risk_gradient(B, B_star, inputs))


def _empirical_objective(X, y):
    N, d = X.shape
    coords = SymmetricCoordinates(d)
    Phi = coords.svec(X[:, :, None] * X[:, None, :])  # row k: svec(x_k x_k^T)
    # The risk (1/N) sum_k r_k^2 is twice the book's E_n (6), and so is its gradient.
    loss = EmpiricalLoss(X, y)
    return _Quadratic(d, Phi.T @ Phi / N, -Phi.T @ y / N, float(y @ y / N),
                      lambda B: 2 * loss.value(B), lambda B: 2 * loss.gradient(B))


def _starts(reference, restarts, rng):
    """Eigenvectors of ``reference`` (smallest eigenvalue first), then random unit vectors."""
    d = reference.shape[0]
    _, U = np.linalg.eigh(reference)
    starts = [U[:, k] for k in range(min(restarts, d))]
    for _ in range(restarts - len(starts)):
        z = rng.standard_normal(d)
        starts.append(z / np.linalg.norm(z))
    return starts


def _search(objective, reference, restarts, rng):
    """Sphere search with restarts; a Result with the fields of :func:`rank_deficient_barrier`."""
    values, minimizers, vectors, verified = [], [], [], []
    for v0 in _starts(reference, restarts, rng):
        run = optimize.minimize(objective.sphere_value_and_gradient, v0, jac=True, method="BFGS",
                                options={"gtol": 1e-9 * max(objective.grad_scale, 1e-300), "maxiter": 200})
        v = run.x / np.linalg.norm(run.x)
        value, B, ok = objective.inner(v)
        values.append(value)
        minimizers.append(B)
        vectors.append(v)
        verified.append(ok)
    values = np.array(values)
    verified = np.array(verified)
    tol_abs = ZERO_RTOL * objective.zero_value
    result = Result(value=np.nan, minimizer=None, null_vector=None, method="search",
                    restart_values=values, restart_verified=verified, agreeing_restarts=0,
                    tolerance=np.nan, spread=float(values.max() - values.min()))
    if not verified.any():
        return _status(result, STATUS_NOT_VERIFIED)
    best = int(np.argmin(np.where(verified, values, np.inf)))
    tol = AGREE_RTOL * max(values[best], 0.0) + tol_abs
    agreeing = int(np.sum(verified & (values <= values[best] + tol)))
    result.update(value=float(values[best]), minimizer=minimizers[best], null_vector=vectors[best],
                  agreeing_restarts=agreeing, tolerance=float(tol))
    return _status(result, STATUS_SOLVED if agreeing >= 2 else STATUS_RESTARTS_DISAGREE)


def _status(result, status):
    result.update(success=status == STATUS_SOLVED, status=status, message=MESSAGES[status])
    if status == STATUS_RESTARTS_DISAGREE:
        result.message += (f" ({result.agreeing_restarts} of {result.restart_values.size} within "
                           f"{result.tolerance:.1e} of {result.value:.6g}; more restarts may help)")
    return result


def _check_teacher(B_star):
    B_star = as_symmetric(B_star, "B_star")
    d = B_star.shape[0]
    if d < 2:
        raise ValueError(f"B_star must be at least 2 x 2, got shape {B_star.shape}")
    lam = np.linalg.eigvalsh(B_star)
    if not lam[0] > TEACHER_RANK_RTOL * max(lam[-1], 0.0) or lam[-1] <= 0:
        raise ValueError(f"B_star must be positive definite; its smallest eigenvalue is {lam[0]:.3g}")
    return B_star, lam


def _closed_form_gaussian(B_star, mu2):
    d = B_star.shape[0]
    lam, U = np.linalg.eigh(B_star)
    u = U[:, 0]
    P = np.eye(d) - np.outer(u, u)
    B = B_star - lam[0] * np.outer(u, u) + lam[0] / (d + 1) * P
    B = P @ B @ P  # B u = 0 to round-off
    return 2 * mu2**2 * lam[0] ** 2 * (d + 2) / (d + 1), 0.5 * (B + B.T), u


def _closed_form_rademacher(B_star):
    """``B* + t (E_jj - E_ii)`` at the smallest positive root of its determinant, over all pairs ``i != j``."""
    d = B_star.shape[0]
    K = np.linalg.inv(B_star)
    best = (np.inf, 0, 1)
    for i in range(d):
        for j in range(d):
            if i == j:
                continue
            # det(B* + t (E_jj - E_ii)) / det(B*) = 1 + t (K_jj - K_ii) - t^2 (K_ii K_jj - K_ij^2)
            c2 = -(K[i, i] * K[j, j] - K[i, j] ** 2)
            roots = np.roots([c2, K[j, j] - K[i, i], 1.0])
            roots = roots[(np.abs(roots.imag) == 0) & (roots.real > 0)].real
            if roots.size and roots.min() < best[0]:
                best = (float(roots.min()), i, j)
    t, i, j = best
    B = B_star.copy()
    B[i, i] -= t
    B[j, j] += t
    lam, U = np.linalg.eigh(B)
    return B, U[:, 0]


def rank_deficient_barrier(B_star, inputs="gaussian", *, restarts=20, rng=0, method="auto"):
    """Least risk of a positive semidefinite student matrix of rank at most ``d - 1``.

    ``min { L(B) : B >= 0, rank B <= d - 1 }`` with ``L`` the risk of
    :func:`qnb.population_risk` (Gamarnik, Kizildag and Zadik's energy barrier;
    a student ``W`` with ``m >= d - 1`` rows realises every such ``B = W^T W``).
    The module docstring derives the method and the closed forms.

    Parameters
    ----------
    B_star : array_like, shape (d, d)
        Symmetric positive definite teacher matrix ``W*^T W*``, ``d >= 2``.
    inputs : {'gaussian', 'rademacher', 'uniform'}
        Key of :data:`qnb.INPUTS`.
    restarts : int, keyword-only
        Starts of the search on the sphere: the eigenvectors of ``B*``
        (smallest eigenvalue first), then random directions.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of the random starts.
    method : {'auto', 'closed_form', 'search'}, keyword-only
        ``'closed_form'`` for Gaussian and Rademacher inputs only;
        ``'search'``: Clarabel inner solves and the sphere search, for any
        inputs; ``'auto'``: the closed form where there is one.

    Returns
    -------
    Result
        ``value`` (the minimum of ``L``), ``minimizer`` (``B``, PSD),
        ``null_vector`` (unit ``v`` with ``B v = 0``), ``method``
        (``'closed_form'`` or ``'search'``), ``lower_bound``
        (:func:`barrier_lower_bound`), ``success``, ``status``, ``message``.
        The search adds ``restart_values`` (the verified risk at the end of
        each restart), ``restart_verified`` (the inner optimum passed its KKT
        check), ``agreeing_restarts`` (verified restarts within
        ``tolerance`` of the best, itself included), ``tolerance``
        (``AGREE_RTOL * value + ZERO_RTOL * L(0)``) and ``spread`` (largest
        minus smallest restart value). It succeeds when the best value is
        verified and at least 2 restarts agree. Every value is the risk of
        the returned ``minimizer``, an exactly feasible point.

    Examples
    --------
    >>> import numpy as np
    >>> B_star = np.diag([1.0, 2.0, 3.0])
    >>> r = rank_deficient_barrier(B_star)
    >>> r.method, round(r.value, 12), r.value == 2 * 1.0**2 * 5 / 4
    ('closed_form', 2.5, True)
    >>> r = rank_deficient_barrier(B_star, "uniform", restarts=8)
    >>> r.success, r.agreeing_restarts >= 2, round(r.value, 9), r.lower_bound
    (True, True, 1.085714286, 0.8)
    """
    B_star, _ = _check_teacher(B_star)
    inputs = check_choice(inputs, "inputs", INPUTS)
    restarts = check_int(restarts, "restarts")
    rng = as_rng(rng)
    method = check_choice(method, "method", METHODS)
    mu2, mu4 = input_moments(inputs)
    lower = barrier_lower_bound(B_star, inputs)
    closed = inputs in ("gaussian", "rademacher")
    if method == "closed_form" and not closed:
        raise ValueError(f"method='closed_form' needs inputs 'gaussian' or 'rademacher', got {inputs!r}")
    if method == "search" or not closed:
        result = _search(_population_objective(B_star, inputs), B_star, restarts, rng)
        result.lower_bound = lower
        return result
    if inputs == "gaussian":
        value, B, v = _closed_form_gaussian(B_star, mu2)
        value_check = population_risk(B, B_star, inputs)
    else:
        B, v = _closed_form_rademacher(B_star)
        value = value_check = population_risk(B, B_star, inputs)
    result = Result(value=float(value), minimizer=B, null_vector=v, method="closed_form", lower_bound=lower)
    return _status(result, STATUS_SOLVED if np.isclose(value_check, value, rtol=1e-10, atol=1e-12 * mu2**2
                                                        * float(np.sum(B_star**2))) else STATUS_NOT_VERIFIED)


def empirical_rank_deficient_barrier(X, y, *, restarts=20, rng=0):
    """Least empirical risk ``(1/N) sum_k (y_k - x_k^T B x_k)^2`` over PSD ``B`` of rank at most ``d - 1``.

    The empirical counterpart of :func:`rank_deficient_barrier`, by the same
    search (Clarabel for each unit ``v``, ``B v = 0``; restarts on the
    sphere from the eigenvectors of the least-squares symmetric fit to the
    data, then random directions). With fewer than ``d (d + 1) / 2`` samples
    the affine set of interpolating matrices passes through ``B*`` (inside the
    cone) and meets its boundary, so the barrier is 0.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs, one per row, ``d >= 2``.
    y : array_like, shape (N,)
        Labels ``x_k^T B* x_k``.
    restarts : int, keyword-only
        Starts of the search on the sphere.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of the random starts.

    Returns
    -------
    Result
        The fields of the search in :func:`rank_deficient_barrier`
        (``value``, ``minimizer``, ``null_vector``, ``method='search'``,
        ``restart_values``, ``restart_verified``, ``agreeing_restarts``,
        ``tolerance``, ``spread``, ``success``, ``status``, ``message``); the
        tolerance's scale ``L(0)`` is ``mean(y^2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from qnb import sample_inputs, labels
    >>> X = sample_inputs(4, 3, rng=0)
    >>> r = empirical_rank_deficient_barrier(X, labels(X, np.diag([1.0, 2.0, 3.0])), restarts=3)
    >>> r.success, bool(r.value < 1e-8 * np.mean(labels(X, np.diag([1.0, 2.0, 3.0])) ** 2))
    (True, True)
    """
    X, y = as_data(X, y)
    d = X.shape[1]
    if d < 2:
        raise ValueError(f"X must have at least 2 columns (d >= 2), got shape {X.shape}")
    restarts = check_int(restarts, "restarts")
    rng = as_rng(rng)
    objective = _empirical_objective(X, y)
    coef = np.linalg.lstsq(objective.coords.svec(X[:, :, None] * X[:, None, :]), y, rcond=None)[0]
    return _search(objective, objective.coords.smat(coef), restarts, rng)


def barrier_lower_bound(B_star, inputs="gaussian"):
    """The slides' lower bound ``min(mu4 - mu2^2, 2 mu2^2) lam_min(B*)^2`` on the barrier.

    From ``L(B) >= min(mu4 - mu2^2, 2 mu2^2) ||B - B*||_F^2`` (drop the
    ``(tr D)^2`` term) and ``||B - B*||_F >= lam_min(B*)`` for singular ``B``;
    ``lam_min(B*) = sigma_min(W*)^2``.

    Parameters
    ----------
    B_star : array_like, shape (d, d)
        Symmetric positive definite teacher matrix, ``d >= 2``.
    inputs : {'gaussian', 'rademacher', 'uniform'}
        Key of :data:`qnb.INPUTS`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> barrier_lower_bound(np.diag([2.0, 3.0])), barrier_lower_bound(np.diag([2.0, 3.0]), "rademacher")
    (8.0, 0.0)
    """
    _, lam = _check_teacher(B_star)
    mu2, mu4 = input_moments(inputs)
    return float(min(mu4 - mu2**2, 2 * mu2**2) * lam[0] ** 2)
