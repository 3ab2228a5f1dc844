"""The population flow (7)/(8), its eigenvalue equations (20) and their asymptotic laws.

The population flows are the flows of :mod:`qnb.flows` for the population loss
(9), ``E(A) = tr((A - A*)^2) + (tr(A - A*))^2 / 2``, with gradient
``G = 2 (A - A*) + tr(A - A*) I`` (Lemma 2.2 of Sarao Mannelli et al.): on the
weights, eq. (7), ``dW/dt = -W G``, and on ``A``, eq. (8),
``dA/dt = -(A G + G A)``.

From ``A(0) = I`` the population flow (8) keeps ``A(t)`` diagonal in an
eigenbasis of ``A*`` (Theorem 5.2), and its eigenvalues solve eq. (20),

    ``dlam_i/dt = 2 sum_j (lam*_j - lam_j) lam_i + 4 (lam*_i - lam_i) lam_i``,

with the loss (21), ``E = sum_i (lam_i - lam*_i)^2 + (sum_i (lam_i - lam*_i))^2 / 2``.

The functions below solve (7), (8) and (20) and give the asymptotic
predictions the book compares with them: the paper's formulas (24)-(29) and
the corrected late-time law derived in the chapter on the population flow.
Every solver's ``status`` is one of the codes of :mod:`qnb.flows`
(``qnb.flows.STATUS_SUCCESS`` ...).
"""

from __future__ import annotations

import numpy as np

from ._descent import attach_losses, check_matrix_start, check_weights, solve_matrix_flow, solve_weight_flow
from ._integration import EXPLICIT_METHODS, IMPLICIT_METHODS, MATRIX_METHODS, WEIGHT_METHODS, integrate, solver_options
from ._symmetric import RANK_RTOL, ROUND_OFF_RTOL, nonzero_eigenvalues
from ._validation import as_array, as_psd, as_real, check_int, check_positive
from .losses import PopulationLoss
from .result import Result


# --- the population flows (7) and (8) --------------------------------------------

def population_flow(A0, A_star, t_eval, method="LSODA", rtol=1e-9, atol=1e-14, step=None,
                    max_steps=10_000_000):
    """Gradient flow (8) of the population loss on the matrix ``A``.

    Solves ``dA/dt = -(A G + G A)`` with ``G = 2 (A - A*) + tr(A - A*) I``
    from ``A(0) = A0`` (Lemma 2.2 of Sarao Mannelli et al.).

    Parameters
    ----------
    A0 : array_like, shape (d, d)
        Positive semidefinite start, not zero (``A = 0`` never moves).
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher matrix.
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    method, rtol, atol, step, max_steps
        As in :func:`qnb.empirical_flow`.

    Returns
    -------
    Result
        ``t``, ``A`` (shape ``(len(t), d, d)``), ``loss`` (``E`` of eq. (9)),
        ``success``, ``status``, ``message``, ``method`` and counts, as in
        :func:`qnb.empirical_flow`.

    Examples
    --------
    >>> import numpy as np
    >>> res = population_flow(np.eye(2), 2 * np.eye(2), [0.0, 10.0])
    >>> np.round(res.A[-1], 6) + 0.0
    array([[2., 0.],
           [0., 2.]])
    """
    A_star = as_psd(A_star, "A_star")
    loss = PopulationLoss(A_star)
    A0 = check_matrix_start(A0, loss.d)
    options = solver_options(t_eval, method, MATRIX_METHODS, rtol, atol, step, max_steps)
    return attach_losses(solve_matrix_flow(A0, loss, **options), loss)


def population_weight_flow(W0, A_star, t_eval, method="DOP853", rtol=1e-10, atol=1e-12,
                           step=None, max_steps=10_000_000):
    """Gradient flow (7) of the population loss on the weights.

    Solves ``dw_i/dt = tr(A* - A) w_i + 2 (A* - A) w_i`` with
    ``A = W^T W / m`` (Lemma 2.2 of Sarao Mannelli et al.).

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Initial weights, one hidden unit per row, not all zero.
    A_star, t_eval
        As in :func:`population_flow`.
    method, rtol, atol, step, max_steps
        As in :func:`qnb.weight_flow`.

    Returns
    -------
    Result
        ``t``, ``W``, ``A``, ``loss`` (``E(A)`` of eq. (9)) and the status
        fields, as in :func:`qnb.weight_flow`.

    Examples
    --------
    A single hidden unit cannot represent ``A* = I``; it stops at the best
    rank-one matrix along its direction, ``(4/3) u u^T``:

    >>> import numpy as np
    >>> res = population_weight_flow(np.ones((1, 2)), np.eye(2), [0.0, 5.0])
    >>> np.round(res.A[-1], 6) + 0.0
    array([[0.666667, 0.666667],
           [0.666667, 0.666667]])
    """
    A_star = as_psd(A_star, "A_star")
    loss = PopulationLoss(A_star)
    W0 = check_weights(W0, loss.d)
    options = solver_options(t_eval, method, WEIGHT_METHODS, rtol, atol, step, max_steps)
    return attach_losses(solve_weight_flow(W0, loss, **options), loss)


# --- the eigenvalue equations (20)-(21) --------------------------------------------

def _as_spectrum(values, name, d=None):
    lam = as_array(values, name, 1)
    if d is not None and lam.size != d:
        raise ValueError(f"{name} must have {d} entries, got {lam.size}")
    # Eigenvalues from a numerical decomposition may be -1e-16 where 0 is meant.
    tol = ROUND_OFF_RTOL * max(1.0, float(np.max(np.abs(lam))))
    if np.any(lam < -tol):
        raise ValueError(f"{name} must be non-negative (eigenvalues of a PSD matrix), got min {lam.min():.3g}")
    return np.clip(lam, 0.0, None)


def teacher_spectrum(A_star, rank_tol=RANK_RTOL):
    """Eigenvalues of ``A*`` in ascending order, with numerical zeros set to exactly 0.

    An eigen-decomposition returns the zero eigenvalues of a rank-deficient
    teacher as values of order 1e-16 of either sign; for (20) a zero is a
    different case (a non-informative direction), so they are set to 0.

    Parameters
    ----------
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher matrix.
    rank_tol : float
        Eigenvalues below ``rank_tol`` times the largest count as zero.

    Returns
    -------
    ndarray, shape (d,)

    Examples
    --------
    >>> from qnb import gram, orthonormal_teacher
    >>> teacher_spectrum(gram(orthonormal_teacher(4, 1, rng=0)))
    array([0., 0., 0., 1.])
    """
    A_star = as_psd(A_star, "A_star")
    rank_tol = check_positive(rank_tol, "rank_tol")
    lam = np.linalg.eigvalsh(A_star)
    return np.where(nonzero_eigenvalues(lam, rank_tol), lam, 0.0)


class _EigenvalueFlow:
    """Eq. (20) for the deviations ``delta_g = lam_g - lam*_g`` of groups of equal eigenvalues.

    Eigenvalues with equal ``lam*`` and equal start stay equal for all time,
    so each group is integrated once and weighted by its size ``count``. The
    deviations are the state (not ``lam``) so that their relative accuracy
    survives when ``lam`` is within 1e-8 of ``lam*`` or closer.
    """

    def __init__(self, lam_star, count):
        self.lam_star = lam_star
        self.count = count

    def rhs(self, t, delta):
        S = -self.count @ delta
        return (2 * S - 4 * delta) * (self.lam_star + delta)

    def jac(self, t, delta):
        S = -self.count @ delta
        lam = self.lam_star + delta
        J = -2.0 * np.outer(lam, self.count)
        J[np.diag_indices_from(J)] += -4.0 * lam + 2 * S - 4 * delta
        return J


def eigenvalue_flow(lam_star, t_eval, lam0=None, multiplicity=None, method="LSODA", rtol=1e-10,
                    atol=1e-100):
    """Solve the eigenvalue equations (20) of the population flow.

    Parameters
    ----------
    lam_star : array_like, shape (d,)
        Eigenvalues of the teacher matrix ``A*`` (non-negative).
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    lam0 : array_like, shape (d,), optional
        Eigenvalues of ``A(0)`` in the same eigenbasis, not all zero
        (``A = 0`` never moves); default all ones, ``A(0) = I`` as in
        Theorem 5.2.
    multiplicity : array_like of int, shape (d,), optional
        How many eigenvalues of ``A*`` each entry stands for (default 1
        each), at most ``2**53`` (the integers a float holds exactly). With
        it a teacher of huge dimension is described by its distinct
        eigenvalues, e.g. ``lam_star=[1, 0]`` with ``multiplicity=[m_star,
        d - m_star]``; ``lam`` then has one column per entry.
    method : {'LSODA', 'BDF', 'Radau', 'RK45', 'RK23', 'DOP853'}
        Integrator of :func:`scipy.integrate.solve_ivp` (implicit ones use the
        analytic Jacobian).
    rtol, atol : float
        Tolerances on the deviations ``lam - lam*``. The tiny default ``atol``
        makes the error control relative, so deviations stay accurate when
        they are many orders of magnitude below ``lam*``. (Much smaller
        values, near 1e-300, underflow in the integrator's error norm.)

    Returns
    -------
    Result
        ``t``; ``lam`` (shape ``(len(t), d)``); ``delta = lam - lam*``
        computed directly (accurate even when tiny); ``loss``, eq. (21);
        ``groups``, the number of distinct eigenvalue trajectories integrated
        (equal ``(lam*_i, lam0_i)`` pairs move together); ``success``,
        ``status``, ``message``, ``method`` and counts. Eigenvalues so
        large that the right-hand side of (20), quadratic in them,
        overflows, or overflows the integrator's error norm once divided by
        the tolerances (with the default ``atol``, a velocity above about
        1e50 in a group whose deviation is zero does), cannot be integrated
        in double precision: the run then stops at once with
        ``success=False`` and a message saying where, as does any run whose
        velocity stops being finite.

    Examples
    --------
    >>> import numpy as np
    >>> res = eigenvalue_flow([1.0, 0.0, 0.0], [0.0, 1.0, 1e4])
    >>> res.groups, res.lam.shape
    (2, (3, 3))
    >>> bool(res.loss[-1] < 1e-7)
    True
    >>> big = eigenvalue_flow([1.0, 0.0], [0.0, 1e4], multiplicity=[1, 2])
    >>> bool(np.isclose(big.loss[-1], res.loss[-1], rtol=1e-8))
    True
    """
    lam_star = _as_spectrum(lam_star, "lam_star")
    d = lam_star.size
    lam0 = np.ones(d) if lam0 is None else _as_spectrum(lam0, "lam0", d)
    if not np.any(lam0):
        # Every term of (20) carries a factor lam_i: A(0) = 0 never moves.
        raise ValueError("lam0 is zero: A = 0 is a fixed point of the flow (20), which never leaves it; "
                         "start from nonzero eigenvalues")
    weight = np.ones(d) if multiplicity is None else _as_multiplicity(multiplicity, d)
    options = solver_options(t_eval, method, IMPLICIT_METHODS + EXPLICIT_METHODS, rtol, atol, None, None)
    t_eval = options["t_eval"]

    pairs, group_of = np.unique(np.column_stack([lam_star, lam0]), axis=0, return_inverse=True)
    group_of = group_of.ravel()
    count = np.bincount(group_of, weights=weight)
    flow = _EigenvalueFlow(pairs[:, 0], count)
    delta_g, result = integrate(flow.rhs, pairs[:, 1] - pairs[:, 0], t_eval, options["method"],
                                options["rtol"], options["atol"], flow.jac)
    delta = delta_g[:, group_of]
    result["t"] = t_eval
    result["lam"] = lam_star + delta
    result["delta"] = delta
    result["loss"] = delta**2 @ weight + 0.5 * (delta @ weight) ** 2
    result["groups"] = int(pairs.shape[0])
    return result


# Multiplicities are counts of eigenvalues, stored as floats: beyond 2**53 a float no longer
# holds every integer, and the sums weighted by them lose the small groups entirely.
MAX_MULTIPLICITY = 2**53


def _as_multiplicity(multiplicity, d):
    arr = as_array(multiplicity, "multiplicity", 1)
    if arr.size != d:
        raise ValueError(f"multiplicity must have {d} entries, got {arr.size}")
    if np.any(arr < 1) or np.any(arr != np.round(arr)):
        raise ValueError("multiplicity must hold positive integers")
    if np.any(arr > MAX_MULTIPLICITY):
        raise ValueError(f"multiplicity must hold integers up to 2**53 = {MAX_MULTIPLICITY:.4g} (exact in "
                         f"double precision), got {arr.max():.3g}")
    return arr


# --- the paper's asymptotic formulas (section 5.1) -----------------------------

def _check_sizes(d, m_star):
    return check_int(d, "d"), check_int(m_star, "m_star")


def _times(t):
    t = as_real(t, "t")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("t must be finite and non-negative")
    return t


def _scalar_or_array(x):
    """A plain float for a scalar time, an array for an array of times."""
    return float(x) if np.ndim(x) == 0 else x


def short_time_eigenvalue(t, d):
    """Eqs. (24)-(25): every eigenvalue starts as ``1 / (1 + 2 d t)`` (for ``t << 1/d``).

    Examples
    --------
    >>> short_time_eigenvalue(0.5, 4)
    0.2
    """
    d = check_int(d, "d")
    return _scalar_or_array(1.0 / (1.0 + 2.0 * d * _times(t)))


def jump_time(d, m_star):
    """Paper's time ``t_J = log(2d) / (2 m* + 4)`` at which informative eigenvalues reach the teacher's.

    Examples
    --------
    >>> round(jump_time(8, 2), 4)
    0.3466
    """
    d, m_star = _check_sizes(d, m_star)
    return float(np.log(2 * d) / (2 * m_star + 4))


def paper_late_loss(t, d=None, m_star=None):
    """Eq. (26): ``E ~ 1 / (16 t^2)`` for ``m* < d`` (independent of ``d`` and ``m*``)."""
    return _scalar_or_array(1.0 / (16.0 * _times(t) ** 2))


def paper_orthonormal_loss(t, d, m_star):
    """Eq. (27): ``E ~ (1/4) ((d - m*) / (1 + 2 (2 + d - m*) t))^2`` for an orthonormal teacher.

    Examples
    --------
    >>> paper_orthonormal_loss(0.0, 8, 2)
    9.0
    """
    d, m_star = _check_sizes(d, m_star)
    k = d - m_star
    return _scalar_or_array(0.25 * (k / (1.0 + 2.0 * (2 + k) * _times(t))) ** 2)


def paper_exponential_loss(t, d):
    """Eq. (29): ``E ~ (1/2d) exp(-2 (2d + 4) t)`` for ``m* >= d`` and an orthonormal teacher."""
    d = check_int(d, "d")
    return _scalar_or_array(np.exp(-2.0 * (2 * d + 4) * _times(t)) / (2.0 * d))


# --- the corrected laws (derived in the chapter) ----------------------------------

def late_eigenvalue(t, d, m_star):
    """Late-time uninformative eigenvalue ``eps ~ (m* + 2) / (4 (d + 2) t)`` for ``m* < d``.

    The informative eigenvalues settle at ``lam*_i + S/2`` with
    ``S = tr(A* - A)``; inserting this into (20) gives
    ``deps/dt = -4 (d + 2) / (m* + 2) eps^2``.

    Examples
    --------
    >>> late_eigenvalue(1.0, 8, 1)
    0.075
    """
    d, m_star = _check_sizes(d, m_star)
    if m_star >= d:
        raise ValueError(f"the algebraic law needs m_star < d, got m_star={m_star}, d={d}")
    return _scalar_or_array((m_star + 2) / (4.0 * (d + 2) * _times(t)))


def late_loss(t, d, m_star):
    """Late-time loss ``E ~ (d - m*) (m* + 2) / (16 (d + 2) t^2)`` for ``m* < d``, any teacher of rank ``m*``.

    Examples
    --------
    >>> round(late_loss(1.0, 8, 1) * 16, 6)
    2.1
    """
    d, m_star = _check_sizes(d, m_star)
    if m_star >= d:
        raise ValueError(f"the algebraic law needs m_star < d, got m_star={m_star}, d={d}")
    return _scalar_or_array((d - m_star) * (m_star + 2) / (16.0 * (d + 2) * _times(t) ** 2))


def decay_rates(lam_star):
    """Exponential rates of the population flow linearised at a full-rank ``A*``.

    Near ``A*`` write ``A = A* + D``. In the eigenbasis of ``A*`` an
    off-diagonal entry ``D_ij`` decays at rate ``2 (lam*_i + lam*_j)``; the
    diagonal ``delta`` solves ``ddelta/dt = -Lambda* (4 I + 2 11^T) delta``.
    A deviation decays like ``exp(-rate t)`` and the loss like ``exp(-2 rate t)``.

    Parameters
    ----------
    lam_star : array_like, shape (d,)
        Positive eigenvalues of ``A*``.

    Returns
    -------
    Result
        ``diagonal`` (the ``d`` rates of the eigenvalue equations, ascending),
        ``off_diagonal`` (the ``d(d-1)/2`` rates ``2 (lam*_i + lam*_j)``,
        ascending) and ``slowest`` (the smallest of all, which governs a
        generic full-rank start).

    Examples
    --------
    >>> import numpy as np
    >>> r = decay_rates([1.0, 1.0, 1.0])
    >>> np.round(r.diagonal, 12), round(r.slowest, 12)
    (array([ 4.,  4., 10.]), 4.0)
    """
    lam = _as_spectrum(lam_star, "lam_star")
    if np.any(lam <= 0):
        raise ValueError("decay_rates needs a full-rank teacher (all lam_star > 0)")
    root = np.sqrt(lam)
    d = lam.size
    # Lambda* (4I + 2 11^T) is similar to the symmetric root (4I + 2 11^T) root.
    sym = root[:, None] * (4.0 * np.eye(d) + 2.0) * root[None, :]
    diagonal = np.linalg.eigvalsh(sym)
    i, j = np.triu_indices(d, 1)
    off = np.sort(2.0 * (lam[i] + lam[j]))
    slowest = min(diagonal[0], off[0]) if off.size else diagonal[0]
    return Result(diagonal=diagonal, off_diagonal=off, slowest=float(slowest))
