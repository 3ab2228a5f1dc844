"""When is the teacher the only positive semidefinite matrix that fits the data?

The minimizers of the empirical loss (6) over positive semidefinite matrices
form the convex set ``F = {A >= 0 : x_k^T A x_k = y_k for all k}``, which
contains ``A*``. Gradient descent from a full-rank start ends somewhere in
``F`` (Theorem 4.1 of Sarao Mannelli et al.), so it can only recover the
teacher for every start when ``F = {A*}``. This module decides that question
exactly, as a convex problem, without running gradient descent.

Reduction. Let ``A* = U1 Lambda U1^T`` with ``U1`` the ``r`` eigenvectors of
its range and ``U0`` the ``s = d - r`` of its null space. Write a direction as
``H = [[S, B], [B^T, C]]`` in the basis ``[U1, U0]``. ``A* + tH`` stays
positive semidefinite for small ``t > 0`` when ``C`` is positive definite,
and is in ``F`` when ``x_k^T H x_k = 0`` for all ``k``. With ``z_k = U1^T x_k``
and ``w_k = U0^T x_k`` the constraints read
``z_k^T S z_k + 2 z_k^T B w_k + w_k^T C w_k = 0``. Eliminating ``(S, B)``
leaves a subspace ``K`` of admissible ``C``: those with
``(w_k^T C w_k)_k`` in the range of the ``(S, B)`` part. Its orthogonal
complement ``V`` is spanned by ``sum_k v_k w_k w_k^T`` over the vectors ``v``
orthogonal to that range, i.e. by the dual certificates
``Z = sum_k v_k x_k x_k^T`` with ``Z A* = 0``.

Decision (a theorem of alternatives for the cone of positive semidefinite
matrices):

* if ``V`` contains a positive definite matrix (a strictly complementary dual
  certificate) and ``S -> (z_k^T S z_k)_k`` is injective, ``F = {A*}``:
  every ``A`` in ``F`` satisfies ``<Z, A> = <Z, A*> = 0``, so its range lies in
  that of ``A*``, where the constraints determine it;
* if ``K`` contains a positive definite ``C`` (or the ``S`` map has a
  kernel), ``F`` contains another point, which is constructed and returned.

For data in general position exactly one of the two holds. Each is checked
by maximizing the smallest eigenvalue over the unit Frobenius ball of the
subspace (a small semidefinite program that always has interior points,
solved with Clarabel), and a claim is made only when an exactly computed
smallest eigenvalue is positive, so each verdict carries its own certificate.
The two maxima are the signed margin reported as ``certificate``: a number
with one value per instance, whatever the solver's path to it, unlike the
witness, which is one point of a convex set and is not unique.
"""

from __future__ import annotations

import numpy as np
import clarabel
from scipy import sparse

from ._symmetric import RANK_RTOL, TEACHER_RANK_RTOL, SymmetricCoordinates, nonzero_eigenvalues
from ._validation import as_array, as_psd, check_int, check_positive
from .result import Result

STATUS_DECIDED = 0
STATUS_UNDECIDED = 1

MESSAGES = {
    STATUS_DECIDED: "decided",
    STATUS_UNDECIDED: "undecided: the instance is at the boundary between the cases to round-off",
}


# --- sample counts and the span condition --------------------------------------

def critical_samples(d, m_star):
    """Number of constraints that pins down a PSD teacher of rank ``m*``, eq. (13).

    ``n_c = d (m* + 1) - m* (m* + 1) / 2`` for ``m* < d``: the dimension of the
    set of symmetric ``H`` with ``C = 0`` in the block form of the module
    docstring plus one constraint per direction of the null space;
    ``d (d + 1) / 2``, the dimension of the symmetric matrices, for ``m* >= d``.

    Parameters
    ----------
    d : int
        Input dimension.
    m_star : int
        Number of teacher hidden units (rank of ``A*`` is ``min(m*, d)``).

    Returns
    -------
    int

    Examples
    --------
    >>> critical_samples(8, 1), critical_samples(8, 8), critical_samples(8, 20)
    (15, 36, 36)
    """
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    if m_star >= d:
        return d * (d + 1) // 2
    return d * (m_star + 1) - m_star * (m_star + 1) // 2


def span_condition(X, rtol=RANK_RTOL):
    """Whether the matrices ``x_k x_k^T`` span the symmetric ``d x d`` matrices.

    This is the condition of Gamarnik, Kızıldağ and Zadik under which the
    empirical loss is strictly convex on all symmetric matrices, so that any
    full-rank teacher is identified; it needs ``n >= d (d + 1) / 2`` and holds
    almost surely for Gaussian inputs once that many are available.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    rtol : float
        Singular values below ``rtol`` times the largest count as zero.

    Returns
    -------
    bool

    Examples
    --------
    >>> from qnb import sample_inputs
    >>> span_condition(sample_inputs(9, 4, rng=0)), span_condition(sample_inputs(10, 4, rng=0))
    (False, True)
    """
    X = as_array(X, "X", 2)
    rtol = check_positive(rtol, "rtol")
    F = SymmetricCoordinates(X.shape[1]).quadratic_forms(X)
    if F.shape[0] < F.shape[1]:
        return False
    sv = np.linalg.svd(F, compute_uv=False)
    return bool(sv[-1] > rtol * sv[0])


# --- largest smallest-eigenvalue over a subspace of symmetric matrices ------------

def _max_min_eigenvalue(Q, Q_perp, coordinates):
    """Largest smallest eigenvalue over the unit Frobenius ball of a subspace of symmetric matrices.

    ``Q`` and ``Q_perp`` hold orthonormal bases of the subspace and of its
    orthogonal complement in the ``svec`` coordinates of ``coordinates`` (in
    which the Frobenius product is Euclidean). The margin

        max_{||c|| <= 1} lambda_min(smat(Q c))  =  min_{Y >= 0, tr Y = 1} ||Q^T svec(Y)||

    (a minimax identity over two compact convex sets) is solved in whichever
    form has the smaller dense block for Clarabel's interior-point method: the
    left one, ``max t s.t. smat(Q c) - t I >= 0, ||c|| <= 1``, when the subspace
    is the smaller of the two, else the right one, written as
    ``min tau s.t. ||svec(Y) - Q_perp u|| <= tau, Y >= 0, tr Y = 1`` (the
    distance from ``Y`` to the complement is its component in the subspace).
    Both always have interior points, which is what makes them well posed,
    unlike a program over the minimizers of the loss, whose feasible set may
    be a single point.

    The optimal value is unique even where the maximizer is not, and it is
    positive exactly when the subspace contains a positive definite matrix;
    then a maximizer has unit norm. The returned value is the exact smallest
    eigenvalue of a unit-norm matrix of the subspace built from the solver's
    answer (several candidates are tried and the best kept): a feasible point,
    so a lower bound of the margin, within the solver's tolerance (about 1e-8)
    of it, and a certificate of positive definiteness when positive.

    Returns
    -------
    value : float
        ``-inf`` for the zero subspace or a zero solution.
    M : ndarray or None
        The unit-norm matrix achieving ``value``.
    iterations : int
    """
    if Q.shape[1] == 0:
        return -np.inf, None, 0
    # Clarabel's PSD triangle: upper triangle, column by column, off-diagonals times sqrt(2).
    order = np.lexsort((coordinates.rows, coordinates.cols))
    if Q.shape[1] <= Q_perp.shape[1]:
        candidates, iterations = _margin_primal(Q[order], coordinates.svec(np.eye(coordinates.d))[order],
                                                coordinates.d)
    else:
        candidates, iterations = _margin_dual(Q_perp[order], coordinates.svec(np.eye(coordinates.d))[order],
                                              coordinates.d)
    best, best_M = -np.inf, None
    for v in candidates:
        w = np.zeros(order.size)
        w[order] = v
        w = Q @ (Q.T @ w)  # into the subspace, exactly
        norm = np.linalg.norm(w)
        if not np.isfinite(norm) or norm == 0:
            continue
        M = coordinates.smat(w / norm)
        value = float(np.linalg.eigvalsh(M)[0])
        if value > best:
            best, best_M = value, M
    return best, best_M, iterations


def _solve_conic(cost, A, b, cones):
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    n = A.shape[1]
    solver = clarabel.DefaultSolver(sparse.csc_matrix((n, n)), cost, sparse.csc_matrix(A), b, cones, settings)
    return solver.solve()


def _margin_primal(Q, identity, d):
    """``max t s.t. smat(Q c) - t I >= 0, (1, c) in SOC``; candidate: ``Q c``."""
    p, q = Q.shape
    A = np.zeros((p + 1 + q, q + 1))
    A[:p, :q] = -Q
    A[:p, q] = identity
    A[p + 1:, :q] = -np.eye(q)  # s = b - A x = (1, c)
    b = np.zeros(p + 1 + q)
    b[p] = 1.0
    cost = np.zeros(q + 1)
    cost[q] = -1.0
    solution = _solve_conic(cost, A, b, [clarabel.PSDTriangleConeT(d), clarabel.SecondOrderConeT(q + 1)])
    return [Q @ np.asarray(solution.x)[:q]], int(solution.iterations)


def _margin_dual(Q_perp, identity, d):
    """``min tau s.t. tr Y = 1, Y >= 0, (tau, y - Q_perp u) in SOC`` over ``x = (y, u, tau)``.

    Candidates for the subspace's maximizer: ``y`` itself (the maximizer is
    the normalised component of an optimal ``Y`` in the subspace) and the
    multiplier of the second-order cone, which is the maximizer up to sign.
    """
    p, q = Q_perp.shape
    A = np.zeros((1 + p + 1 + p, p + q + 1))
    A[0, :p] = identity  # tr Y = 1 (zero cone: s = 1 - <I, y> = 0)
    A[1:p + 1, :p] = -np.eye(p)  # s = y in the PSD cone
    A[p + 1, p + q] = -1.0  # s = (tau, y - Q_perp u) in the second-order cone
    A[p + 2:, :p] = -np.eye(p)
    A[p + 2:, p:p + q] = Q_perp
    b = np.zeros(A.shape[0])
    b[0] = 1.0
    cost = np.zeros(p + q + 1)
    cost[p + q] = 1.0
    solution = _solve_conic(cost, A, b, [clarabel.ZeroConeT(1), clarabel.PSDTriangleConeT(d),
                                         clarabel.SecondOrderConeT(p + 1)])
    y = np.asarray(solution.x)[:p]
    z = np.asarray(solution.z)[p + 2:]
    return [y, z, -z], int(solution.iterations)


# --- the decision -------------------------------------------------------------------

def _null_space(M, rtol):
    """Orthonormal basis of the complement of the column space of ``M`` (shape (n, p))."""
    U, sv, _ = np.linalg.svd(M, full_matrices=True)
    rank = int(np.sum(sv > rtol * sv[0])) if sv.size else 0
    return U[:, rank:]


def _alternative_minimizer(lam, U1, U0, Wn, S, C, constraints, scale):
    """A point ``A* + tH`` of ``F`` other than ``A*``, from a direction with ``C > 0`` (or ``C = 0``).

    With ``C`` given, ``S`` and ``B`` are completed by least squares on
    ``constraints`` (the matrix of the ``(S, B)`` part of the constraints) so
    that the data stay fitted; ``t`` is half the largest step that keeps the
    matrix PSD.
    """
    r, s = U1.shape[1], U0.shape[1]
    if C is not None and s:
        target = -np.einsum("ki,ij,kj->k", Wn, C, Wn)
        coef = np.linalg.lstsq(constraints, target, rcond=None)[0]
        p_S = r * (r + 1) // 2
        S = SymmetricCoordinates(r).unvech(coef[:p_S])
        B = coef[p_S:].reshape(r, s)
    else:
        B = np.zeros((r, s))
        C = np.zeros((s, s))
    H_top = np.hstack([S, B])
    H = np.vstack([H_top, np.hstack([B.T, C])])
    basis = np.hstack([U1, U0])
    H = basis @ H @ basis.T
    # Largest t with Lambda + t S - t B C^-1 B^T >= 0 (Schur complement; C > 0).
    inv_root = 1.0 / np.sqrt(lam)
    schur = S - (B @ np.linalg.solve(C, B.T) if s and np.any(C) else 0.0)
    worst = np.linalg.eigvalsh(inv_root[:, None] * schur * inv_root[None, :])[0] if r else 0.0
    t = 0.5 / max(-worst, 1e-300) if worst < 0 else 1.0
    t = min(t, scale / max(np.linalg.norm(H), 1e-300))
    return t * H


def is_unique_minimizer(X, A_star, rank_tol=TEACHER_RANK_RTOL, rtol=RANK_RTOL):
    """Decide whether ``A*`` is the only PSD matrix with ``x_k^T A x_k = x_k^T A* x_k`` for all ``k``.

    Equivalently: whether the empirical loss (6) has ``A*`` as its only
    minimizer over positive semidefinite matrices, so that the set of zero
    training loss points, where gradient descent from a full-rank start ends,
    is ``{A*}``. The decision is made by a theorem of alternatives on the face
    of the PSD cone at ``A*`` (see the module docstring), never by running
    gradient descent, and each verdict is certified:

    * ``unique=True`` comes with a dual certificate ``Z = sum_k v_k x_k x_k^T``,
      positive semidefinite with ``Z A* = 0`` and positive definite on the
      null space of ``A*``; ``certificate`` is the largest smallest eigenvalue
      of such a ``Z`` restricted to that null space, over Frobenius-unit
      restrictions: a positive number;
    * ``unique=False`` comes with ``witness``, another positive semidefinite
      matrix that fits the data, and ``certificate < 0``: minus the largest
      smallest eigenvalue of a Frobenius-unit null-space block ``C`` of a
      direction that keeps the data fitted (``0`` when the data do not even
      determine ``A`` within the range of ``A*``).

    Both margins are optimal values of convex programs, so they are unique;
    the value returned is the exact smallest eigenvalue of the solver's
    (feasible) point, hence a lower bound on the margin's magnitude and
    within about 1e-8 of it. The witness is not unique (any point of the
    segment from ``A*`` to it fits too): use it as a proof, not as a number.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher matrix.
    rank_tol : float
        Eigenvalues of ``A*`` below ``rank_tol`` times the largest are zero.
    rtol : float
        Relative threshold for the numerical rank of the constraint matrices.

    Returns
    -------
    Result
        ``unique`` (bool), ``certificate`` (float, see above), ``witness``
        (``(d, d)`` array or None), ``witness_residual`` (largest
        ``|x_k^T (W - A*) x_k|`` relative to ``max y_k``, with ``W`` the
        witness), ``rank`` (of ``A*``), ``n``, ``reason`` (which case decided),
        ``nit`` (interior-point iterations), ``success``, ``status``
        (``STATUS_DECIDED = 0``, or ``STATUS_UNDECIDED = 1``: the instance is
        within round-off of the boundary between the cases, and ``unique`` is
        then False) and ``message`` (from ``MESSAGES``).

    Examples
    --------
    >>> from qnb import gaussian_teacher, gram, sample_inputs
    >>> A_star = gram(gaussian_teacher(6, 1, rng=0))
    >>> is_unique_minimizer(sample_inputs(16, 6, rng=1), A_star).unique
    True
    >>> res = is_unique_minimizer(sample_inputs(8, 6, rng=1), A_star)
    >>> res.unique, res.witness is not None
    (False, True)
    """
    X = as_array(X, "X", 2)
    n, d = X.shape
    A_star = as_psd(A_star, "A_star", d)
    rank_tol = check_positive(rank_tol, "rank_tol")
    rtol = check_positive(rtol, "rtol")
    lam, U1, U0 = _face(A_star, rank_tol)
    r, s = U1.shape[1], U0.shape[1]
    Z, Wn = X @ U1, X @ U0

    def verdict(unique, certificate, reason, H=None, nit=0, status=STATUS_DECIDED):
        witness = None if H is None else A_star + H
        return Result(unique=bool(unique), certificate=float(certificate), witness=witness,
                      witness_residual=_fit_residual(X, A_star, witness), rank=r, n=n, reason=reason,
                      nit=nit, success=status == STATUS_DECIDED, status=status, message=MESSAGES[status])

    # 1. Directions inside the face of A* (C = 0, B = 0): an injective S map is needed.
    MS = SymmetricCoordinates(r).quadratic_forms(Z)
    _, sv_S, Vt_S = np.linalg.svd(MS)
    if np.sum(sv_S > rtol * sv_S[0]) < MS.shape[1]:
        S = SymmetricCoordinates(r).unvech(Vt_S[-1])
        H = _alternative_minimizer(lam, U1, U0, Wn, S, None, None, scale=lam[-1])
        return verdict(False, 0.0, "the constraints do not determine A within the range of A*", H)
    if s == 0:
        return verdict(True, sv_S[-1] / sv_S[0],
                       "A* has full rank and the constraints determine every symmetric matrix")

    # 2. The subspaces V (dual certificates) and K = V^perp (admissible C blocks).
    coordinates = SymmetricCoordinates(s)
    M1 = np.hstack([MS, 2 * (Z[:, :, None] * Wn[:, None, :]).reshape(n, r * s)])
    Q_V, Q_K = _certificate_subspaces(_null_space(M1, rtol), Wn, coordinates, rtol)

    # 3. Two small semidefinite programs, one per side of the alternative: the best
    #    normalised smallest eigenvalue in V (uniqueness) and, only if that is not
    #    positive, in K (a direction to another minimizer). Each optimum is unique,
    #    so the reported margin does not depend on where the solver stops.
    value_V, _, nit = _max_min_eigenvalue(Q_V, Q_K, coordinates)
    if value_V > 0:
        return verdict(True, value_V, "a dual certificate is positive definite on the null space of A*",
                       nit=nit)
    value_K, C, nit_K = _max_min_eigenvalue(Q_K, Q_V, coordinates)
    nit += nit_K
    if value_K > 0:
        H = _alternative_minimizer(lam, U1, U0, Wn, np.zeros((r, r)), C, M1, scale=lam[-1])
        return verdict(False, -value_K, "a direction with positive definite null-space block keeps the data fitted",
                       H, nit=nit)
    return verdict(False, 0.0, "undecided", nit=nit, status=STATUS_UNDECIDED)


def _face(A_star, rank_tol):
    """Nonzero eigenvalues of ``A*`` and orthonormal bases ``U1``, ``U0`` of its range and null space."""
    lam, U = np.linalg.eigh(A_star)
    if lam[-1] <= 0:
        raise ValueError("A_star must be nonzero")
    keep = nonzero_eigenvalues(lam, rank_tol)
    return lam[keep], U[:, keep], U[:, ~keep]


def _fit_residual(X, A_star, witness):
    """Largest ``|x_k^T (W - A*) x_k|`` relative to ``max_k x_k^T A* x_k``; None without a witness."""
    if witness is None:
        return None
    y_scale = max(float(np.max(np.einsum("ki,ij,kj->k", X, A_star, X))), np.finfo(float).tiny)
    return float(np.max(np.abs(np.einsum("ki,ij,kj->k", X, witness - A_star, X))) / y_scale)


def _certificate_subspaces(N, Wn, coordinates, rtol):
    """Orthonormal ``svec`` bases of ``V``, spanned by ``sum_k v_k w_k w_k^T`` over the columns ``v`` of ``N``, and of ``K = V^perp``."""
    G = np.einsum("kj,ka,kb->jab", N, Wn, Wn)
    if G.shape[0]:
        Q, sv, _ = np.linalg.svd(coordinates.svec(G).T, full_matrices=True)
        dim_V = int(np.sum(sv > rtol * sv[0])) if sv.size and sv[0] > 0 else 0
    else:
        Q, dim_V = np.eye(coordinates.size), 0
    return Q[:, :dim_V], Q[:, dim_V:]
