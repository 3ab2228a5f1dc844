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
  kernel), ``F`` contains another point, which is constructed and returned;
* if the inputs lie in a proper subspace, ``A* + v v^T`` with ``v`` orthogonal
  to all of them is another point of ``F``, whatever the teacher and however
  many inputs there are (then ``K`` need not contain a positive definite
  matrix: the other points of ``F`` may all have a singular null-space block).

For data in general position exactly one of the first two holds. Both are
checked by one small semidefinite program (solved with Clarabel), the
trace-normalised margin of ``V``,

    rho = max { lambda_min(Z) : Z in V, tr Z = s }
        = min { s nu : X >= 0, tr X = 1, X - nu I in K }

(Lagrange duality). ``rho > 0`` exactly when ``V`` contains a positive
definite matrix; then ``rho`` is in ``(0, 1]``. Otherwise the dual optimum
gives the other side: the trace-normalised margin of ``K``,
``m_K = max { lambda_min(C) : C in K, tr C = s }``, equals
``-rho / (1 - rho)`` (the dual of that program, ``min s nu'`` over
``Z' in V`` with ``nu' I + Z' >= 0`` and ``tr(nu' I + Z') = 1``, reduces to
``rho`` once ``Z'`` is scaled to trace ``s``, provided ``V`` has an element
of nonzero trace), and when ``rho < 0`` it is reached at ``C = X - nu I``,
positive definite and in ``K``. If every element of ``V`` has zero trace
(``V = {0}`` included), ``I`` is in ``K`` and ``m_K = 1``, the largest value
possible. A claim is made only when an exactly computed trace-normalised
smallest eigenvalue ``s lambda_min(M) / tr M`` of a matrix ``M`` of the
subspace is positive, so each verdict carries its own certificate. The signed
margin reported as ``certificate`` is ``rho`` when it is positive (unique),
else ``-m_K = rho / (1 - rho)``, in ``[-1, 0)``: a number with one value per
instance, whatever the solver's path to it, unlike the witness, which is one
point of a convex set and is not unique. (The trace normalisation is the one a
solver that sees only traces can compute too; ``sqrt(s) f <= rho <= s f``
relates it to the Frobenius-normalised margin ``f`` of a positive ``V``
side.)

Normalised data. The constraint of ``x_k`` is homogeneous of degree 2:
``x^T A x = y`` and ``(c x)^T A (c x) = c^2 y`` are the same constraint, and
``F`` scales with ``A*``. So the decision is made on the unit rows
``u_k = x_k / |x_k|`` (labels ``u_k^T A* u_k``, i.e. ``y_k / |x_k|^2``) and on
``A* / ||A*||_2``, which changes neither ``F`` nor the verdict: a zero row (the
constraint ``0 = 0``) is dropped, and rows on one line (``x``, ``2 x``, ``-x``,
equal to round-off after normalisation) are merged into one constraint. The
subspaces ``V`` and ``K`` do not depend on the row scales, so the margins are
those of the raw rows; the rank decisions no longer do either. (For a
full-rank ``A*`` the certificate is a ratio of singular values of the map
``S -> (u_k^T S u_k)_k``, which is taken on the unit rows for the same reason.)

Thresholds. Every matrix whose rank is decided is built from unit vectors, so
its entries and rows are ``O(1)``, its largest singular value is ``O(1)`` to
``O(sqrt(n))``, and its round-off is a small multiple of ``eps = 2.2e-16``
times its size. The first-order bounds below are each taken ``ROUND_OFF_SAFETY
= 10`` times over:

* a computed unit row is within ``e_row = (d + 4) eps`` of the exact one (the
  norm to ``d eps``, the division and the rounding of a scaled input to
  ``eps`` each): two rows whose unit vectors are within ``10 e_row`` (chord,
  up to sign) are one constraint;
* ``eigh`` is backward stable, with error ``d eps`` on ``A* / ||A*||_2``:
  eigenvalues below ``tau = 10 d eps`` are zeros, those above
  ``max(rank_tol, tau)`` span the face, and the computed range is within
  ``e_face = d eps / gap`` of the exact one (Davis-Kahan; ``gap`` from the
  smallest kept to the largest dropped eigenvalue). Eigenvalues between
  ``tau`` and ``rank_tol`` are zeros for ``rank_tol`` but not for ``A*``: the
  verdict is then that of the face which keeps them (a larger face admits
  more directions, so uniqueness there implies uniqueness with them dropped),
  or, failing a decision there, a witness found with them dropped;
* the coordinates ``[Z, W] = U [U1, U0]`` of the ``p`` unit rows are known to
  ``E = sqrt(p) (e_row + d eps) + ||U||_2 e_face`` in 2-norm. A ``p x q``
  matrix whose row ``k`` is bilinear in them (the ``S`` map, the constraint
  matrix ``M1`` of the ``(S, B)`` blocks) moves by at most ``4 E``, and its
  singular value decomposition adds ``max(p, q) eps sigma_max``: call the sum
  ``err``. A singular value up to ``10 err`` is a zero, one above
  ``max(10 err, rtol sigma_max)`` is not, and one in between leaves the rank
  undetermined at this precision: no uniqueness is then claimed. The inputs
  lie in a proper subspace when the same test on the unit rows themselves
  (with ``E`` and without the factor 4) finds a rank below ``d``;
* the null space of ``M1^T`` is known to ``eta = err / gap_1`` (Wedin), the
  matrices ``sum_k v_k w_k w_k^T`` that span ``V`` to
  ``err_T = ||Phi||_2 eta + 2 E + ...`` (``Phi`` holds the ``w_k w_k^T``, each
  of norm at most 1), ranked like the others, and ``V`` itself to
  ``delta = err_T / gap_T``: the exact ``V`` (and ``K``) holds a matrix within
  ``delta ||M||_F`` of any computed ``M``. A margin is decided near zero,
  where the trace-normalised ``M`` (``tr M = s``) is PSD up to that small
  margin, so ``||M||_F <= tr M = s``: its smallest eigenvalue is known to
  ``s delta``, and its trace to ``sqrt(s) s delta``, which moves
  ``s lambda_min(M) / tr M`` by ``|lambda_min(M)| sqrt(s) delta`` more,
  negligible near zero (and at most ``s delta`` for ``|lambda_min| <= 1``).
  ``eigvalsh`` adds ``s eps ||M||_2 <= s^2 eps``. So a margin counts when it
  exceeds ``10 s (delta + s eps)`` (reported as ``round_off``), ``s`` times
  the bound of a Frobenius-unit ``M``;
* a witness ``W = A* + ||A*|| H`` is checked against the data directly: it
  must be PSD to ``10 d eps ||A*||`` (or as far as ``A*`` itself is), differ
  from ``A*`` by more than that, and fit every unit input,
  ``max_k |u_k^T H u_k| <= tol ||H||_2``, with ``tol = 10 (err + delta)``
  from the bounds above without ``e_face`` (a witness is assembled in the
  computed basis, so only the arithmetic counts) plus twice the merge
  tolerance.

On Gaussian inputs the singular values of these matrices lie between about
``1e-2`` and ``1``, and their bounds near ``1e-13``. ``round_off`` ranges from
``2e-15`` to ``3e-7`` over the book's stored threshold sweeps (``d <= 16``,
the 7200 instances at ``n_u - 1`` and ``n_u``), where the smallest margin,
``1e-6``, is still 270 times its bound. There the thresholds only remove the false ranks that a
purely relative threshold reads into round-off (a subspace ``V`` spanned by
noise, as repeated rows or inputs in a subspace produce, gave ``unique=True``
where ``F`` contains a half-line), and the verdicts and margins are those of
the relative thresholds. Where a decision falls between the bounds, or no
witness fits to round-off, the result is ``status = 1`` (undecided) with a
message that says which.
"""

from __future__ import annotations

import numpy as np
import clarabel
from scipy import sparse

from ._symmetric import RANK_RTOL, TEACHER_RANK_RTOL, SymmetricCoordinates
from ._validation import as_array, as_psd, check_int, check_positive
from .certificates import certify_uniqueness
from .result import Result

STATUS_DECIDED = 0
STATUS_UNDECIDED = 1

MESSAGES = {
    STATUS_DECIDED: "decided",
    STATUS_UNDECIDED: "undecided: {why}",
}

ROUND_OFF_SAFETY = 10
# From this null-space dimension s = d - rank A* on, the rank-one barrier solver of
# qnb.certificates (O(n^3) per Newton step) is faster than the dense interior-point
# method on the s (s + 1) / 2 coordinates of V (O(s^6)): measured ratios dense / rank-one
# of 0.8 at s = 15, 1.6 to 2.9 at s = 22, 23 and 8.5 at s = 31 (benchmarks/bench_certificates.py).
RANK_ONE_MIN_NULLITY = 20
_EPS = np.finfo(float).eps


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
    full-rank teacher is identified; it needs ``n >= d (d + 1) / 2`` distinct
    lines ``x_k`` (repeated and parallel rows count once) and holds almost
    surely for Gaussian inputs once that many are available.

    The rank is decided on the unit rows (``x_k x_k^T`` and its multiples span
    the same line), with the absolute threshold of the module docstring as
    well as the relative one: a row scaled by ``1e6`` or ``1e-6`` changes
    nothing.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    rtol : float
        Singular values below ``rtol`` times the largest count as zero, and so
        do those below the round-off bound (so one between the two, a rank
        not determined at working precision, gives False).

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
    d = X.shape[1]
    _, U, e_row = _lines(X)
    F = SymmetricCoordinates(d).quadratic_forms(U)
    if F.shape[0] < F.shape[1]:
        return False
    sv = np.linalg.svd(F, compute_uv=False)
    err = _matrix_error(F.shape, np.sqrt(U.shape[0]) * e_row, sv[0])
    return bool(sv[-1] > max(ROUND_OFF_SAFETY * err, rtol * sv[0]))


# --- normalised data and round-off bounds ------------------------------------------

def _lines(X):
    """Unit rows of ``X`` (zero rows dropped) and one row per line among them.

    Returns ``(U_all, U, e_row)``: every nonzero row scaled to unit norm, the
    first row of each line (rows whose unit vectors are within
    ``ROUND_OFF_SAFETY e_row`` of each other up to sign), and ``e_row``, the
    round-off of a unit row.
    """
    d = X.shape[1]
    e_row = (d + 4) * _EPS
    peak = np.max(np.abs(X), axis=1)
    U_all = X[peak > 0] / peak[peak > 0, None]  # first to O(1): no overflow or underflow in the norm
    U_all = U_all / np.linalg.norm(U_all, axis=1, keepdims=True)
    p = U_all.shape[0]
    merge = ROUND_OFF_SAFETY * e_row
    taken = np.zeros(p, dtype=bool)
    keep = []
    for i in range(p):
        if taken[i]:
            continue
        keep.append(i)
        near = np.flatnonzero((np.abs(U_all[i + 1:] @ U_all[i]) > 0.5) & ~taken[i + 1:]) + i + 1
        if near.size:
            # The chord, accurate to eps (1 - |cos| would only resolve angles above 1e-8).
            chord = np.minimum(np.linalg.norm(U_all[near] - U_all[i], axis=1),
                               np.linalg.norm(U_all[near] + U_all[i], axis=1))
            taken[near[chord <= merge]] = True
    return U_all, U_all[keep], e_row


def _matrix_error(shape, e_coordinates, sigma_max):
    """2-norm round-off of a ``(p, q)`` matrix whose row ``k`` is bilinear in the coordinates of a unit vector.

    ``e_coordinates`` bounds the 2-norm error of the ``(p, d)`` matrix of those
    coordinates; a bilinear row with unit arguments moves by at most 4 times its
    argument's error, so the matrix by ``4 e_coordinates``; the singular value
    decomposition adds its backward error ``max(p, q) eps sigma_max``.
    """
    p, q = shape
    return 4 * e_coordinates + max(p, q) * _EPS * sigma_max


def _split(sv, err, rtol):
    """Rank of a matrix with singular values ``sv`` (descending) known to ``err``.

    Returns ``(rank, undetermined)``: the number of values above
    ``max(ROUND_OFF_SAFETY err, rtol sv[0])``, and the largest value between
    ``ROUND_OFF_SAFETY err`` and that (None if there is none).
    """
    if sv.size == 0:
        return 0, None
    atol = ROUND_OFF_SAFETY * err
    rank = int(np.sum(sv > max(atol, rtol * sv[0])))
    gray = sv[rank:][sv[rank:] > atol]
    return rank, (float(gray[0]) if gray.size else None)


def _gap(sv, rank):
    """Distance from the smallest kept singular value to the largest dropped one (inf if none is kept).

    Values beyond the array (a matrix with fewer columns than rows) are zeros.
    """
    if rank == 0:
        return np.inf
    return sv[rank - 1] - (sv[rank] if rank < sv.size else 0.0)


# --- largest trace-normalised smallest eigenvalue over a subspace of symmetric matrices ---

def _max_min_eigenvalue(Q_V, Q_K, coordinates, tol):
    """The trace-normalised margin of ``V`` and of ``K = V^perp``, from one conic program.

    ``Q_V`` and ``Q_K`` hold orthonormal bases of ``V`` and ``K`` in the
    ``svec`` coordinates of ``coordinates`` (``s x s`` symmetric matrices, in
    which the Frobenius product is Euclidean). The margin of ``V`` is

        rho = max { lambda_min(Z) : Z in V, tr Z = s }
            = min { s nu : X >= 0, tr X = 1, X - nu I in K }

    (Lagrange duality; the right-hand program is strictly feasible at
    ``X = I / s``, ``nu = 1 / s``, so there is no gap). ``rho <= 1``, with
    equality when ``I`` is in ``V``, and ``rho > 0`` exactly when ``V``
    contains a positive definite matrix. The margin of ``K``,
    ``m_K = max { lambda_min(C) : C in K, tr C = s }``, follows from the same
    solve. Its own dual is ``min s nu'`` over ``Z' in V`` with
    ``nu' I + Z' >= 0`` and ``tr(nu' I + Z') = 1``. For ``tr Z' = tau > 0``
    write ``Z' = tau Z / s`` (``tr Z = s``, ``lambda = lambda_min(Z) <= 1``):
    then ``s nu' = 1 - tau`` and the cone constraint is ``tau (1 - lambda) <= 1``,
    so the best ``tau`` gives ``s nu' = -lambda / (1 - lambda)``, decreasing in
    ``lambda``; ``tau <= 0`` gives ``s nu' >= 1``, more than that. Hence
    ``m_K = -rho / (1 - rho)`` whenever ``V`` has an element of nonzero trace
    (``-inf`` when ``rho = 1``), and when ``rho < 0`` the dual optimum gives
    its maximizer, ``C = X - nu I`` (``lambda_min(C) >= -nu > 0``,
    ``tr C = 1 - rho``, rescaled to trace ``s``).
    If every element of ``V`` has zero trace (``V = {0}`` included), ``I`` is
    in ``K`` and ``m_K = 1``, the largest value possible.

    The program is solved by Clarabel in whichever form has the smaller dense
    block: the left one, ``max t s.t. smat(Q_V c) - t I >= 0, <I, smat(Q_V c)> = s``,
    when ``V`` is the smaller subspace (:func:`_margin_primal`), else the
    right one with ``svec(X) - nu svec(I) = Q_K u`` (:func:`_margin_dual`);
    each form's multipliers are the other's optimal point. In both the
    equality constraints are solved exactly first, leaving a PSD cone alone
    (with equality rows, Clarabel's default factorisation stopped with a
    numerical error on 323 of the 2400 stored threshold instances at
    ``d = 16``). Both always have
    interior points when some element of ``V`` has nonzero trace (unlike a
    program over the minimizers of the loss, whose feasible set may be a
    single point).
    When ``I`` projected onto ``K`` (or onto ``V``) already reaches ``1 - tol``
    (``I`` is in that subspace to within ``tol``), it is taken, the other
    side's margin is ``-inf`` to round-off, and nothing is solved.

    The values returned are the exact trace-normalised smallest eigenvalues
    ``s lambda_min(M) / tr M`` of matrices built from the solver's answer and
    projected exactly into their subspace (several candidates are tried and
    the best kept): feasible points, so lower bounds of ``rho`` and ``m_K``,
    within the solver's tolerance (about 1e-8) of them, and certificates of
    positive definiteness when positive.

    Returns
    -------
    value_V : float
        Lower bound of ``rho`` (``-inf`` when ``I`` is in ``K``).
    value_K : float
        Lower bound of ``m_K`` (``-inf`` when ``I`` is in ``V``).
    C : ndarray, shape (s, s), or None
        The matrix of ``K`` achieving ``value_K``, of trace ``s``.
    iterations : int
    """
    s = coordinates.d
    identity = coordinates.svec(np.eye(s))
    if Q_V.shape[1] == 0:
        return -np.inf, 1.0, np.eye(s), 0
    if Q_K.shape[1] == 0:
        return 1.0, -np.inf, None, 0
    value_K, C = _best_normalised([identity], Q_K, coordinates)
    if value_K >= 1 - tol:
        return -np.inf, value_K, C, 0
    value_V, _ = _best_normalised([identity], Q_V, coordinates)
    if value_V >= 1 - tol:
        return value_V, -np.inf, None, 0
    # Clarabel's PSD triangle: upper triangle, column by column, off-diagonals times sqrt(2).
    order = np.lexsort((coordinates.rows, coordinates.cols))
    if Q_V.shape[1] <= Q_K.shape[1]:
        in_V, in_K, iterations = _margin_primal(Q_V[order], identity[order], s)
    else:
        in_V, in_K, iterations = _margin_dual(Q_K[order], identity[order], s)

    def natural(v):
        w = np.zeros(order.size)
        w[order] = v
        return w

    value_V, _ = _best_normalised([natural(v) for v in in_V], Q_V, coordinates)
    value, M = _best_normalised([natural(v) for v in in_K], Q_K, coordinates)
    if value > value_K:
        value_K, C = value, M
    return value_V, value_K, C, iterations


def _best_normalised(candidates, Q, coordinates):
    """Best ``s lambda_min(M) / tr M`` over the candidates (``svec`` vectors) projected onto ``span Q``.

    Candidates of non-positive or non-finite trace are skipped. Returns
    ``(value, M)`` with ``M`` scaled to trace ``s``, or ``(-inf, None)``.
    """
    s = coordinates.d
    identity = coordinates.svec(np.eye(s))
    best, best_M = -np.inf, None
    for v in candidates:
        w = Q @ (Q.T @ v)  # into the subspace, exactly
        trace = float(identity @ w)
        if not np.all(np.isfinite(w)) or not trace > 0:
            continue
        M = coordinates.smat(w * (s / trace))
        value = float(np.linalg.eigvalsh(M)[0])
        if value > best:
            best, best_M = value, M
    return best, best_M


def _solve_conic(cost, A, b, cones):
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    n = A.shape[1]
    solver = clarabel.DefaultSolver(sparse.csc_matrix((n, n)), cost, sparse.csc_matrix(A), b, cones, settings)
    return solver.solve()


def _margin_primal(Q_V, identity, s):
    """``max t s.t. smat(Q_V c) - t I >= 0, <I, smat(Q_V c)> = s``, the trace equation solved exactly.

    With ``g = Q_V^T svec(I)`` (nonzero), ``Q_V c = Z0 + B y``: ``Z0 = s Q_V g / |g|^2``
    has trace ``s`` and the columns of ``B`` span the traceless part of ``V``; over
    ``x = (y, t)`` only the PSD cone remains (an equality row would give Clarabel's
    KKT system a zero diagonal block, on which its default factorisation can fail).
    Candidates in ``V``: ``Z0 + B y``. In ``K``: ``X - nu I`` from the multiplier
    ``X`` of the PSD cone (Clarabel's ``A^T z + cost = 0`` reads ``tr X = 1`` and
    ``B^T svec(X) = 0``), with ``nu = <X, Z0> / s``, which makes ``X - nu I``
    orthogonal to ``Z0`` too; the dual objective is ``-<X, Z0> = -s nu``.
    """
    g = Q_V.T @ identity
    Z0 = Q_V @ (s * g / (g @ g))
    B = Q_V @ np.linalg.svd(g[None, :], full_matrices=True)[2][1:].T
    p, q = B.shape
    A = np.hstack([-B, identity[:, None]])  # PSD cone: Z0 + B y - t svec(I)
    cost = np.zeros(q + 1)
    cost[q] = -1.0
    solution = _solve_conic(cost, A, Z0, [clarabel.PSDTriangleConeT(s)])
    x, X = np.asarray(solution.x), np.asarray(solution.z)
    return [Z0 + B @ x[:q]], [X - (X @ Z0 / s) * identity], int(solution.iterations)


def _margin_dual(Q_K, identity, s):
    """``min s nu s.t. X >= 0, tr X = 1, X - nu I = smat(Q_K u)``, with ``X`` and ``nu`` eliminated.

    ``tr X = 1`` gives ``nu = (1 - g.u) / s`` with ``g = Q_K^T svec(I)``, so
    ``X = I / s + M u`` with ``M = Q_K - svec(I) g^T / s`` (the traceless part of
    ``Q_K``) and ``s nu = 1 - g.u``: over ``x = u``, minimise ``-g.u`` with only the
    PSD cone. Candidates in ``K``: ``Q_K u`` (``= X - nu I``). In ``V``:
    ``Z = z + (1 - tr(z) / s) I`` from the multiplier ``z`` of the PSD cone
    (Clarabel's ``A^T z + cost = 0`` reads ``Q_K^T svec(Z) = 0``; ``tr Z = s`` and
    ``lambda_min(Z) >= 1 - tr(z) / s``, the dual objective plus 1).
    """
    g = Q_K.T @ identity
    M = Q_K - np.outer(identity, g) / s
    solution = _solve_conic(-g, -M, identity / s, [clarabel.PSDTriangleConeT(s)])
    u, z = np.asarray(solution.x), np.asarray(solution.z)
    return [z + (1 - (identity @ z) / s) * identity], [Q_K @ u], int(solution.iterations)


# --- the decision -------------------------------------------------------------------

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
      null space of ``A*`` (of dimension ``s``); ``certificate`` is the
      trace-normalised margin ``rho``, the largest smallest eigenvalue of such
      a ``Z`` restricted to that null space over restrictions of trace ``s``:
      a number in ``(0, 1]``, above its round-off bound, ``1`` when the
      identity is one of them (for a full-rank ``A*``, the smallest over the
      largest singular value of the map ``S -> (u_k^T S u_k)_k`` on the unit
      inputs);
    * ``unique=False`` comes with ``witness``, another positive semidefinite
      matrix that fits the data (checked on every input), and
      ``certificate`` in ``[-1, 0]``: minus the largest smallest eigenvalue of
      a null-space block ``C`` of trace ``s`` of a direction that keeps the
      data fitted, ``-m_K = rho / (1 - rho)`` (``rho < 0`` now); ``-1`` when
      ``C = I`` is such a block (no dual certificate has nonzero trace on the
      null space, e.g. there is none); ``0`` when the data do not even
      determine ``A`` within the range of ``A*``, or when no such block is
      positive definite and the witness comes from a direction orthogonal
      to all the inputs.

    Both margins come from one convex program and its dual, and are unique;
    the value returned is the exact trace-normalised smallest eigenvalue
    ``s lambda_min(M) / tr M`` of a (feasible) point ``M`` built from the
    solver's answer, hence a lower bound on the margin's magnitude and within
    about 1e-8 of it. The witness is not unique (any point of the segment
    from ``A*`` to it fits too): use it as a proof, not as a number.

    Where the null space of ``A*`` has dimension ``RANK_ONE_MIN_NULLITY = 20``
    or more and the inputs are generic (no parallel inputs, spanning
    ``R^d``, ...), the decision and its margin (to 1e-8) come from the
    rank-one barrier solver :func:`qnb.certify_uniqueness`, which is faster
    there (``reason`` then ends with "(rank-one solver)"); every other instance,
    and any it leaves undecided, is decided as described here.

    The inputs enter through their lines only: rows are scaled to unit norm,
    zero rows dropped and repeated or parallel rows (``x`` and ``c x``) merged,
    which changes neither the set of minimizers nor the verdict; every rank is
    decided against a round-off bound as well as ``rtol`` (module docstring).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher matrix.
    rank_tol : float
        Eigenvalues of ``A*`` below ``rank_tol`` times the largest are zero
        (so are those below the round-off bound ``10 d eps``). Eigenvalues
        between the two are zeros only for ``rank_tol``: the verdict is then
        decided for ``A*`` as it is where possible (module docstring).
    rtol : float
        Relative threshold for the numerical rank of the constraint matrices
        (used together with their round-off bounds).

    Returns
    -------
    Result
        ``unique`` (bool), ``certificate`` (float, see above), ``witness``
        (``(d, d)`` array or None), ``witness_residual`` (largest
        ``|u_k^T (W - A*) u_k|`` over the unit inputs ``u_k = x_k / |x_k|``,
        relative to the largest ``u_k^T A* u_k``, with ``W`` the witness),
        ``rank`` (of ``A*``), ``n``, ``n_distinct`` (lines among the nonzero
        inputs: the constraints that count), ``reason`` (which case decided),
        ``nit`` (interior-point iterations), ``success``, ``status``
        (``STATUS_DECIDED = 0``, or ``STATUS_UNDECIDED = 1``: a rank is not
        determined at working precision or the instance is within round-off
        of the boundary between the cases; ``unique`` is then False) and
        ``message`` (from ``MESSAGES``; when undecided it says why).

    Examples
    --------
    >>> from qnb import gaussian_teacher, gram, sample_inputs
    >>> A_star = gram(gaussian_teacher(6, 1, rng=0))
    >>> is_unique_minimizer(sample_inputs(16, 6, rng=1), A_star).unique
    True
    >>> res = is_unique_minimizer(sample_inputs(8, 6, rng=1), A_star)
    >>> res.unique, res.witness is not None
    (False, True)

    Repeated and rescaled inputs are the same constraints:

    >>> X = sample_inputs(16, 6, rng=1)
    >>> res = is_unique_minimizer(np.vstack([X, 1e6 * X[:5], -X]), A_star)
    >>> res.unique, res.n, res.n_distinct
    (True, 37, 16)
    """
    X = as_array(X, "X", 2)
    n, d = X.shape
    A_star = as_psd(A_star, "A_star", d)
    rank_tol = check_positive(rank_tol, "rank_tol")
    rtol = check_positive(rtol, "rtol")
    U_all, U, e_row = _lines(X)
    face = _Face(A_star, rank_tol)
    if face.undetermined is None and face.U0.shape[1] >= RANK_ONE_MIN_NULLITY:
        fast = _rank_one_decision(X, U_all, A_star, rank_tol, rtol, U.shape[0])
        if fast is not None:
            return fast
    if face.undetermined is None:
        return _Decision(U_all, U, e_row, face, A_star, rtol, n).run()
    # Eigenvalues between round-off and rank_tol: zeros for rank_tol, not for A* itself. The
    # verdict for A* is that of the face that keeps them (a larger face admits more directions,
    # so uniqueness there implies uniqueness with them dropped); with them dropped, only a
    # witness, checked against A* itself, still proves something.
    kept = _Decision(U_all, U, e_row, _Face(A_star, 0.0), A_star, rtol, n).run()
    if kept.success:
        return kept
    dropped = _Decision(U_all, U, e_row, face, A_star, rtol, n).run()
    if dropped.success and not dropped.unique:
        return dropped
    kept.message = MESSAGES[STATUS_UNDECIDED].format(
        why=f"A* has an eigenvalue {face.undetermined:.1e} times its largest, below rank_tol ({rank_tol:.0e}) but "
            f"above round-off ({face.tau:.0e}); with it taken as zero the verdict would be "
            f"{'unique' if dropped.unique else 'undecided'}, for A* itself: {kept.message[len('undecided: '):]}")
    return kept


def _rank_one_decision(X, U_all, A_star, rank_tol, rtol, n_distinct):
    """The verdict of :func:`qnb.certify_uniqueness` in this function's fields, or None.

    None when that solver leaves the instance to this module (inputs not generic
    enough for it) or cannot decide it: the dense decision then runs as before.
    """
    res = certify_uniqueness(X, A_star, margin=True, rank_tol=rank_tol, rtol=rtol)
    if not res.success:
        return None
    residual = None
    if res.witness is not None:
        y = np.einsum("ki,ij,kj->k", U_all, A_star, U_all)
        misfit = np.einsum("ki,ij,kj->k", U_all, res.witness - A_star, U_all)
        residual = float(np.max(np.abs(misfit)) / np.max(y))
    reason = ("a dual certificate is positive definite on the null space of A*" if res.unique
              else "a direction with positive definite null-space block keeps the data fitted")
    return Result(unique=res.unique, certificate=res.certificate, witness=res.witness, witness_residual=residual,
                  rank=res.rank, n=res.n, n_distinct=n_distinct, round_off=res.round_off,
                  reason=reason + " (rank-one solver)", nit=res.nit, success=True, status=STATUS_DECIDED,
                  message=MESSAGES[STATUS_DECIDED])


class _Face:
    """Eigenvalues ``lam`` (of ``A* / ||A*||_2``) and bases ``U1``, ``U0`` of the range and null space of ``A*``.

    ``scale`` is ``||A*||_2``, ``tau`` the round-off bound below which an
    eigenvalue is a zero, ``error`` the distance of the computed range to the
    exact one, and ``undetermined`` the largest eigenvalue taken as zero by
    ``rank_tol`` but above ``tau`` (None if there is none).
    """

    def __init__(self, A_star, rank_tol):
        lam, U = np.linalg.eigh(A_star)
        if lam[-1] <= 0:
            raise ValueError("A_star must be nonzero")
        d = lam.size
        self.scale = float(lam[-1])
        lam = lam / lam[-1]
        self.lam_min = min(float(lam[0]), 0.0)  # A* is PSD to this (validation allows round-off)
        self.tau = ROUND_OFF_SAFETY * d * _EPS
        keep = lam > max(rank_tol, self.tau)
        self.lam, self.U1, self.U0 = lam[keep], U[:, keep], U[:, ~keep]
        between = lam[~keep & (lam > self.tau)]  # only when rank_tol > tau
        self.undetermined = float(between.max()) if between.size else None
        self.error = d * _EPS / (self.lam[0] - max(lam[~keep].max(), 0.0)) if self.U0.shape[1] else 0.0


class _Decision:
    """One call of :func:`is_unique_minimizer`: the steps of the module docstring, in order."""

    def __init__(self, U_all, U, e_row, face, A_star, rtol, n):
        self.U_all, self.U, self.face, self.A_star, self.rtol, self.n = U_all, U, face, A_star, rtol, n
        self.d = A_star.shape[0]
        self.merge = ROUND_OFF_SAFETY * e_row
        p = U.shape[0]
        if p:
            _, self.sv_U, self.Vt_U = np.linalg.svd(U)
        else:
            self.sv_U, self.Vt_U = np.zeros(0), np.eye(self.d)
        # 2-norm round-off of the coordinates [Z, W] = U [U1, U0] of the unit inputs: within the
        # computed basis (for a witness, which is assembled in that basis), and against the exact
        # face of A* (for the rank decisions).
        self.e_c = np.sqrt(p) * (e_row + self.d * _EPS)
        self.e_z = self.e_c + (self.sv_U[0] if p else 0.0) * face.error
        self.fit_errors = [0.0]  # round-off of the matrices met so far, within the computed basis
        self.delta_fit = 0.0  # the same for the subspaces V and K
        self.blocked = []  # why no uniqueness can be claimed
        self.nit = 0
        self.margin_tol = 0.0  # a margin counts above this

    # -- the verdicts

    def verdict(self, unique, certificate, reason, W=None, why=None):
        status = STATUS_DECIDED if why is None else STATUS_UNDECIDED
        message = MESSAGES[status].format(why=why)
        return Result(unique=bool(unique), certificate=float(certificate), witness=W,
                      witness_residual=self.residual(W), rank=self.face.lam.size, n=self.n,
                      n_distinct=self.U.shape[0], round_off=self.margin_tol, reason=reason, nit=self.nit,
                      success=status == STATUS_DECIDED, status=status, message=message)

    def undecided(self, why):
        return self.verdict(False, 0.0, "undecided", why=why)

    def residual(self, W):
        """Largest ``|u_k^T (W - A*) u_k|`` over the unit inputs, relative to the largest ``u_k^T A* u_k``."""
        if W is None:
            return None
        if self.U_all.shape[0] == 0:
            return 0.0
        y = np.einsum("ki,ij,kj->k", self.U_all, self.A_star, self.U_all)
        misfit = np.einsum("ki,ij,kj->k", self.U_all, W - self.A_star, self.U_all)
        return float(np.max(np.abs(misfit)) / max(float(np.max(y)), self.face.tau * self.face.scale))

    def tol_fit(self):
        """Largest ``max_k |u_k^T H u_k| / ||H||_2`` of a witness direction that fits to round-off."""
        return ROUND_OFF_SAFETY * (max(self.fit_errors) + self.delta_fit) + 2 * self.merge

    def witness(self, H):
        """``(A* + ||A*|| H, None)`` if it is PSD, differs from ``A*`` and fits every unit input, else ``(None, why)``.

        The fit is measured on ``H`` itself (``W - A*`` would carry the round-off of ``A*``).
        """
        H = 0.5 * (H + H.T)
        size = np.linalg.norm(H, 2)
        floor = ROUND_OFF_SAFETY * self.d * _EPS
        if size <= floor:
            return None, "the witness found is within round-off of A*"
        misfit = float(np.max(np.abs(np.einsum("ki,ij,kj->k", self.U_all, H, self.U_all)))) / size \
            if self.U_all.shape[0] else 0.0
        if misfit > self.tol_fit():
            return None, (f"the witness found fits the inputs only to {misfit:.1e} of its size, "
                          f"above the round-off bound {self.tol_fit():.1e}")
        W = self.A_star + self.face.scale * H
        lam_min = float(np.linalg.eigvalsh(W)[0])
        if lam_min < (self.face.lam_min - floor) * self.face.scale:  # as PSD as A* itself, to round-off
            return None, f"the witness found is not PSD (smallest eigenvalue {lam_min / self.face.scale:.1e} of ||A*||)"
        return W, None

    def undetermined_rank(self, what, value, err, sigma_max):
        self.blocked.append(
            f"{what} has a singular value {value:.1e} between its round-off bound "
            f"{ROUND_OFF_SAFETY * err:.1e} and rtol x largest ({self.rtol * sigma_max:.1e}): "
            "its rank is not determined at working precision")

    # -- the steps

    def run(self):
        face, U = self.face, self.U
        lam, U1, U0 = face.lam, face.U1, face.U0
        p, r, s = U.shape[0], U1.shape[1], U0.shape[1]
        Z, Wn = U @ U1, U @ U0

        # 1. Directions inside the face of A* (C = 0, B = 0): an injective S map is needed.
        coord_S = SymmetricCoordinates(r)
        MS = coord_S.quadratic_forms(Z)
        if p:
            _, sv_S, Vt_S = np.linalg.svd(MS)
        else:
            sv_S, Vt_S = np.zeros(0), np.eye(coord_S.size)
        err_S = _matrix_error(MS.shape, self.e_z, sv_S[0] if p else 0.0)
        self.fit_errors.append(_matrix_error(MS.shape, self.e_c, sv_S[0] if p else 0.0))
        rank_S, gray_S = _split(sv_S, err_S, self.rtol)
        if rank_S < coord_S.size:
            H = _step(lam, U1, U0, coord_S.unvech(Vt_S[-1]), None, None)
            W, failure = self.witness(H)
            if W is not None:
                return self.verdict(False, 0.0, "the constraints do not determine A within the range of A*", W)
            if gray_S is not None:
                self.undetermined_rank("the map S -> (z_k^T S z_k)_k (the constraints within the range of A*)",
                                       gray_S, err_S, sv_S[0])
            else:
                self.blocked.append(failure)
        if s == 0:
            if self.blocked:
                return self.undecided("; ".join(self.blocked))
            return self.verdict(True, sv_S[-1] / sv_S[0],
                                "A* has full rank and the constraints determine every symmetric matrix")

        # 2. Inputs in a proper subspace: A* + v v^T fits for v orthogonal to all of them.
        sv_U = self.sv_U
        rank_U, _ = _split(sv_U, self.e_c + max(U.shape) * _EPS * (sv_U[0] if p else 0.0), self.rtol)
        v_perp = self.Vt_U[-1] if rank_U < self.d else None

        # 3. The subspaces V (dual certificates) and K = V^perp (admissible C blocks).
        coord = SymmetricCoordinates(s)
        M1 = np.hstack([MS, 2 * (Z[:, :, None] * Wn[:, None, :]).reshape(p, r * s)])
        if p:
            L1, sv_1, Vt_1 = np.linalg.svd(M1, full_matrices=True)
        else:
            L1, sv_1, Vt_1 = np.zeros((0, 0)), np.zeros(0), np.eye(M1.shape[1])
        err_1 = _matrix_error(M1.shape, self.e_z, sv_1[0] if p else 0.0)
        err_1c = _matrix_error(M1.shape, self.e_c, sv_1[0] if p else 0.0)
        self.fit_errors.append(err_1c)
        rank_1, gray_1 = _split(sv_1, err_1, self.rtol)
        if gray_1 is not None:
            self.undetermined_rank("the constraint matrix of the (S, B) blocks", gray_1, err_1, sv_1[0])
        N = L1[:, rank_1:]
        eta = err_1 / _gap(sv_1, rank_1)  # round-off of the null space (0 when nothing is kept)
        Phi = coord.svec(Wn[:, :, None] * Wn[:, None, :])  # row k: w_k w_k^T
        T = Phi.T @ N
        if T.shape[1]:
            Q, sv_T, _ = np.linalg.svd(T, full_matrices=True)
        else:
            Q, sv_T = np.eye(coord.size), np.zeros(0)
        svd_T = max(T.shape) * _EPS * (sv_T[0] if sv_T.size else 0.0)
        norm_Phi = np.linalg.norm(Phi, 2) if p else 0.0
        err_T = norm_Phi * eta + 2 * self.e_z + svd_T
        rank_T, gray_T = _split(sv_T, err_T, self.rtol)
        if gray_T is not None:
            self.undetermined_rank("the map v -> sum_k v_k w_k w_k^T from the null space of that matrix to V",
                                   gray_T, err_T, sv_T[0])
        Q_V, Q_K = Q[:, :rank_T], Q[:, rank_T:]
        gap_T = _gap(sv_T, rank_T) if 0 < rank_T < coord.size else np.inf
        delta = err_T / gap_T
        self.delta_fit = (norm_Phi * err_1c / _gap(sv_1, rank_1) + 2 * self.e_c + svd_T) / gap_T
        margin_tol = self.margin_tol = float(ROUND_OFF_SAFETY * s * (delta + s * _EPS))

        # 4. One small semidefinite program for both sides of the alternative: the best
        #    trace-normalised smallest eigenvalue in V (uniqueness) and, from its dual, in K
        #    (a direction to another minimizer). Each optimum is unique, so the reported
        #    margin does not depend on where the solver stops.
        value_V, value_K, C, self.nit = _max_min_eigenvalue(Q_V, Q_K, coord, margin_tol)
        if v_perp is None and value_V > margin_tol:
            if self.blocked:
                return self.undecided("; ".join(self.blocked))
            return self.verdict(True, value_V, "a dual certificate is positive definite on the null space of A*")
        if value_K > margin_tol:
            target = -np.einsum("ki,ij,kj->k", Wn, C, Wn)
            coef = Vt_1[:rank_1].T @ ((L1[:, :rank_1].T @ target) / sv_1[:rank_1])
            H = _step(lam, U1, U0, coord_S.unvech(coef[:coord_S.size]), coef[coord_S.size:].reshape(r, s), C)
            W, failure = self.witness(H)
            if W is not None:
                return self.verdict(False, -value_K,
                                    "a direction with positive definite null-space block keeps the data fitted", W)
            self.blocked.append(failure)
        if v_perp is not None:
            W, failure = self.witness(np.outer(v_perp, v_perp))
            if W is not None:
                return self.verdict(False, -value_K if value_K > margin_tol else 0.0,
                                    "the inputs lie in a proper subspace: A* + v v^T fits for v orthogonal to it", W)
            self.blocked.append(failure)
        if self.blocked:
            return self.undecided("; ".join(self.blocked))
        return self.undecided(f"the instance is at the boundary between the cases to round-off (no margin above "
                              f"its round-off bound {margin_tol:.1e})")


def _step(lam, U1, U0, S, B, C):
    """A point ``A + tH`` of ``F`` other than ``A = A* / ||A*||``, from the blocks of ``H`` in the basis ``[U1, U0]``.

    ``B`` and ``C`` default to zero (a direction inside the face). With
    ``C > 0``, ``t`` is half the largest step that keeps the matrix PSD
    (the Schur complement ``Lambda + t S - t B C^-1 B^T``), and at most
    ``1 / ||H||``; returns ``tH``.
    """
    r, s = U1.shape[1], U0.shape[1]
    B = np.zeros((r, s)) if B is None else B
    C = np.zeros((s, s)) if C is None else C
    basis = np.hstack([U1, U0])
    H = basis @ np.block([[S, B], [B.T, C]]) @ basis.T
    inv_root = 1.0 / np.sqrt(lam)
    schur = S - (B @ np.linalg.solve(C, B.T) if s and np.any(C) else 0.0)
    worst = np.linalg.eigvalsh(inv_root[:, None] * schur * inv_root[None, :])[0] if r else 0.0
    t = 0.5 / max(-worst, 1e-300) if worst < 0 else 1.0
    t = min(t, 1.0 / max(np.linalg.norm(H), 1e-300))
    return t * H
