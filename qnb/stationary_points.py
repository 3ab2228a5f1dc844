"""Stationary points of the weight-space risk (Gamarnik, Kızıldağ and Zadik).

The risk of a width-``m`` network with quadratic activation and unit output
weights, in the convention of Gamarnik, Kızıldağ and Zadik (seeds 001/002),

    L(W) = (1/N) sum_i (y_i - ||W x_i||^2)^2,    W in R^{m x d},

depends on ``W`` only through ``B = W^T W`` (no ``1/m`` here, unlike the
``A = W^T W / m`` of :func:`qnb.gram`; planted labels are
``y = qnb.labels(X, B_star)``). With residuals ``r_i = y_i - x_i^T B x_i`` and
``S = (1/N) sum_i r_i x_i x_i^T``,

    grad L = -4 W S,
    Hess L [E] = -4 E S + (8/N) sum_i (x_i^T W^T E x_i) W x_i x_i^T,

so ``W`` is stationary iff ``W S = 0`` (iff ``B S = 0``). A stationary ``W`` of
rank ``d`` has ``S = 0``: ``B`` is then a least-squares fit of the labels over
all symmetric matrices, so the loss is zero for planted data, and ``B = B*``
once ``N >= d (d + 1) / 2`` (generic inputs). Rank-deficient stationary points
with positive loss exist: ``W = 0`` (a local maximum when ``S(0)`` is positive
definite) and, for every ``k < d``, points of rank ``k``.

:func:`stationary_points` finds them by Newton-type root finding on the
gradient from many starts. The rank of ``W`` is invariant under gradient
dynamics (``dW/dt = 4 W S`` gives ``W(t) = W(0) Phi(t)`` with ``Phi``
invertible; the row space itself moves, by ``S``), and a rank-``k`` ``W`` is
``O(m)``-equivalent to ``[V; 0]`` with ``V`` of shape ``(k, d)``, where ``grad L([V; 0]) = [grad L_k(V); 0]``: the
rank-``k`` stationary points of width ``m`` are the stationary points of width
``k``, padded with zero rows. The rank-deficient starts (rows in a random
``k``-dimensional subspace) are therefore solved in width ``k``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from ._validation import as_array, as_data, as_psd, as_real, as_rng, check_int, check_positive
from .result import Result

# Tolerances of stationary_points, named once. All are relative, so the verdicts do
# not change when W, X or y are rescaled.
GTOL = 1e-9
"""Certified stationary point: ``||grad L||_F <= GTOL * 4 ||W||_2 sigma(W)``, where
``sigma(W) = (1/N) sum_i (|y_i| + x_i^T B x_i) ||x_i||^2`` bounds ``||S||`` term by term
without cancellation (the floating-point error of ``S`` is ``~ 1e-16 sigma``). ``W = 0`` is
stationary exactly."""
RANK_RTOL = 1e-6
"""Rank of ``W``: singular values above ``RANK_RTOL`` times the largest. Newton converges
quadratically, so a rank-``k`` limit has its other singular values at round-off, far below."""
ZERO_LOSS_RTOL = 1e-10
"""Zero loss: ``L <= ZERO_LOSS_RTOL * mean(y^2)`` (the loss of ``W = 0``). At a certified
full-rank point ``||S||`` is ``O(GTOL)``, so the residual of the least-squares fit, and the
loss, are ``O(GTOL^2)`` relative (times the conditioning of the inputs); the positive-loss
stationary points of planted data sit at fractions ``~ 1e-2 .. 1`` of ``mean(y^2)``."""
EIG_RTOL = 1e-6
"""A Hessian eigenvalue is zero when ``|lambda| <= EIG_RTOL * max |lambda|``, negative when
below ``-EIG_RTOL * max |lambda|``. The certified gradient perturbs the Hessian by
``O(GTOL)`` relative, three orders below."""
DEDUP_RTOL = 1e-6
"""Two points are one when ``||B1 - B2||_F <= DEDUP_RTOL * max(||B1||_F, ||B2||_F, b)``, with
``b = mean|y| / mean ||x||^2`` the size of a ``B`` that fits labels of the data's size."""
RECOVERY_RTOL = 1e-6
"""``B`` recovers ``B_star`` when ``||B - B*||_F <= RECOVERY_RTOL ||B*||_F``; at a certified
full-rank point above ``N*`` the error is round-off times the conditioning of the fit."""
DEFAULT_SCALES = (0.3, 1.0, 3.0)
"""Start sizes: ``W^T W ~ scale^2 * b * I`` (``b`` as in ``DEDUP_RTOL``)."""

STATUS_FOUND = 0
STATUS_NONE_CONVERGED = 1
MESSAGES = {
    STATUS_FOUND: "{converged} of {starts} starts converged to a certified stationary point; "
                  "{points} distinct points (by B = W^T W)",
    STATUS_NONE_CONVERGED: "none of the {starts} starts converged to a certified stationary point "
                           "(relative gradient norm <= {gtol:g})",
}


class WeightRisk:
    """The weight-space risk ``L(W) = (1/N) sum_i (y_i - ||W x_i||^2)^2``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs, one per row.
    y : array_like, shape (N,)
        Labels.

    Notes
    -----
    ``hessian`` is the exact Hessian of ``L`` with respect to ``W.ravel()``
    (row-major ``vec``, index ``a d + j`` for ``W[a, j]``):

        H = -4 I_m (x) S + (8/N) sum_i g_i g_i^T,   g_i = vec(W x_i x_i^T) = (W x_i) (x) x_i,

    (``(x)`` the Kronecker product). At a zero of the loss ``S = 0`` and ``H``
    is positive semidefinite; at ``W = 0`` it is ``-4 I_m (x) S(0)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> risk = WeightRisk(X, [1.0, 4.0, 5.0])
    >>> risk.value(np.array([[1.0, 0.0], [0.0, 2.0]]))
    0.0
    >>> risk.gradient(np.zeros((1, 2)))
    array([[0., 0.]])
    >>> risk.hessian(np.zeros((1, 2))).shape
    (2, 2)
    """

    def __init__(self, X, y):
        self.X, self.y = as_data(X, y)
        self.N, self.d = self.X.shape

    def _weights(self, W):
        W = as_array(W, "W", 2)
        if W.shape[1] != self.d:
            raise ValueError(f"W must have d = {self.d} columns, got shape {W.shape}")
        return W

    def residuals(self, W):
        """Residuals ``r_i = y_i - ||W x_i||^2``, shape ``(N,)``."""
        W = self._weights(W)
        return self.y - np.sum((self.X @ W.T) ** 2, axis=1)

    def S(self, W):
        """The matrix ``S = (1/N) sum_i r_i x_i x_i^T``, shape ``(d, d)``."""
        r = self.residuals(W)
        return (self.X.T * r) @ self.X / self.N

    def value(self, W):
        """``L(W)``, a float."""
        r = self.residuals(W)
        return float(np.mean(r ** 2))

    def gradient(self, W):
        """``grad L(W) = -4 W S``, shape ``(m, d)``."""
        W = self._weights(W)
        return -4.0 * W @ self.S(W)

    def hessian(self, W):
        """The exact Hessian with respect to ``W.ravel()``, shape ``(m d, m d)``."""
        W = self._weights(W)
        m = W.shape[0]
        U = self.X @ W.T                                     # rows u_i = W x_i
        G = (U[:, :, None] * self.X[:, None, :]).reshape(self.N, m * self.d)
        H = -4.0 * np.kron(np.eye(m), self.S(W)) + (8.0 / self.N) * G.T @ G
        return 0.5 * (H + H.T)

    def gradient_scale(self, W):
        """``4 ||W||_2 sigma(W)``: the size of ``grad L`` without cancellation (see ``GTOL``)."""
        W = self._weights(W)
        quad = np.sum((self.X @ W.T) ** 2, axis=1)
        sigma = np.mean((np.abs(self.y) + quad) * np.sum(self.X ** 2, axis=1))
        return 4.0 * np.linalg.norm(W, 2) * sigma if W.size and np.any(W) else 0.0

    def relative_gradient_norm(self, W):
        """``||grad L||_F / gradient_scale(W)``; 0 at ``W = 0``, which is exactly stationary."""
        W = self._weights(W)
        scale = self.gradient_scale(W)
        if scale == 0.0:
            return 0.0
        return float(np.linalg.norm(self.gradient(W)) / scale)


def orbit_dimension(m, rank):
    """Dimension of the ``O(m)`` orbit ``{Q W}`` of a ``W`` of the given rank.

    The tangent space is ``{K W : K skew}``; ``K W = 0`` exactly for the skew
    ``K`` supported on the ``(m - rank)``-dimensional complement of the column
    space of ``W``, so the dimension is ``m (m - 1) / 2 - (m - k) (m - k - 1) / 2``.
    For ``rank = d <= m`` this is ``m d - d (d + 1) / 2``, the dimension of the
    fibre ``{W : W^T W = B}``, so at a full-rank zero of the loss with
    ``N >= d (d + 1) / 2`` the Hessian's null space is exactly this tangent space.

    Examples
    --------
    >>> orbit_dimension(3, 3), orbit_dimension(4, 3), orbit_dimension(4, 0)
    (3, 6, 0)
    """
    m = check_int(m, "m")
    rank = check_int(rank, "rank", minimum=0)
    if rank > m:
        raise ValueError(f"rank must be <= m = {m}, got {rank}")
    return m * (m - 1) // 2 - (m - rank) * (m - rank - 1) // 2


def _newton(risk, W0, max_nfev):
    """Root of the gradient by Levenberg-Marquardt with the exact Hessian as Jacobian."""
    shape = W0.shape
    fun = lambda w: risk.gradient(w.reshape(shape)).ravel()
    jac = lambda w: risk.hessian(w.reshape(shape))
    sol = least_squares(fun, W0.ravel(), jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                        max_nfev=max_nfev)
    return sol.x.reshape(shape)


def stationary_points(X, y, m, *, starts=50, rng=0, scales=DEFAULT_SCALES, gtol=GTOL, B_star=None,
                      max_nfev=200):
    """Stationary points of ``L(W) = (1/N) sum_i (y_i - ||W x_i||^2)^2`` from many starts.

    Each start is solved for a root of the gradient by Levenberg-Marquardt
    (:func:`scipy.optimize.least_squares`, ``method='lm'``, residual ``grad L``,
    Jacobian the exact Hessian), which converges to saddles and maxima as well
    as minima. Starts: ``W = 0`` (stationary exactly); about half of ``starts``
    of rank ``k`` for ``k = 1 .. min(m, d) - 1`` (rows in a random
    ``k``-dimensional subspace; solved in width ``k``, which is exact, see the
    module docstring); the rest of full width ``m``. Start sizes cycle through
    ``scales``. A limit is kept when its relative gradient norm is at most
    ``gtol`` (see ``GTOL``); kept limits are merged by ``B = W^T W`` (the
    ``O(m)`` orbit) and analysed in width ``m``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,)
        Labels.
    m : int
        Width (number of rows of ``W``).
    starts : int
        Number of random starts (``W = 0`` comes on top).
    rng : None, int or numpy.random.Generator
        Source of the starts (see :func:`qnb.as_rng`).
    scales : sequence of float
        Start sizes, relative to the data's natural size (``DEFAULT_SCALES``).
    gtol : float
        Certification tolerance on the relative gradient norm.
    B_star : array_like, shape (d, d), optional
        Planted matrix; when given, ``B_error`` and ``recovers`` are reported.
    max_nfev : int
        Evaluations per start.

    Returns
    -------
    Result
        One entry per distinct point, sorted by loss (then rank):
        ``W`` (n, m, d), ``B`` (n, d, d), ``loss``, ``grad_norm``,
        ``rel_grad_norm``, ``rank``, ``singular_values`` (n, min(m, d)),
        ``hessian_eigenvalues`` (n, m d, ascending), ``index`` (eigenvalues
        below ``-EIG_RTOL`` times the largest ``|lambda|``), ``n_zero``
        (``|lambda|`` at most that), ``orbit_dim`` (:func:`orbit_dimension`),
        ``extra_zero = n_zero - orbit_dim``, ``full_rank`` (rank ``d``),
        ``zero_loss`` (loss at most ``ZERO_LOSS_RTOL * mean(y^2)``, the global
        minimum of realizable data), ``local_min`` (``index == 0``), ``hits``
        (starts that reached it; ``W = 0`` is a candidate of its own, not
        counted); with ``B_star``: ``B_error`` (``||B - B*||_F / ||B*||_F``)
        and ``recovers`` (``B_error <= RECOVERY_RTOL``). Also ``n_points``,
        ``n_starts``, ``n_converged``, ``seed`` (``rng`` when an int, else
        None), the tolerances ``gtol``, ``rank_rtol``, ``zero_loss_rtol``,
        ``eig_rtol``, and ``success`` (at least one start reached a certified
        point; ``W = 0`` does not count), ``status``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from qnb import gaussian_teacher, gram, labels, sample_inputs
    >>> B_star = 2 * gram(gaussian_teacher(2, 2, rng=1))
    >>> X = sample_inputs(6, 2, rng=2)
    >>> res = stationary_points(X, labels(X, B_star), 2, starts=20, B_star=B_star)
    >>> res.success, bool(res.recovers[0]), int(res.rank[-1])
    (True, True, 0)
    """
    risk = WeightRisk(X, y)
    N, d = risk.N, risk.d
    m = check_int(m, "m")
    starts = check_int(starts, "starts")
    gtol = check_positive(gtol, "gtol")
    max_nfev = check_int(max_nfev, "max_nfev")
    scales = as_array(np.atleast_1d(as_real(scales, "scales")), "scales", 1)
    if np.any(scales <= 0):
        raise ValueError(f"scales must be positive, got {scales}")
    if B_star is not None:
        B_star = as_psd(B_star, "B_star", d)
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    rng = as_rng(rng)

    # Natural sizes: b = mean|y| / mean ||x||^2 is the size of a B that fits the labels.
    x2 = float(np.mean(np.sum(risk.X ** 2, axis=1)))
    y_abs = float(np.mean(np.abs(risk.y)))
    b = y_abs / x2 if y_abs > 0 and x2 > 0 else 1.0
    # Solve in units where the labels and the inputs are of size one (the verdicts are relative).
    xs, ys = np.sqrt(x2) if x2 > 0 else 1.0, y_abs if y_abs > 0 else 1.0
    unit = np.sqrt(ys) / xs                                   # W = unit * W_scaled
    scaled = WeightRisk(risk.X / xs, risk.y / ys)

    kmax = min(m, d)
    reduced = list(range(1, kmax)) if m > 1 else []
    n_reduced = starts // 2 if reduced else 0
    widths = [reduced[i % len(reduced)] for i in range(n_reduced)] + [m] * (starts - n_reduced)

    candidates = [np.zeros((m, d))]
    hits = []
    for i, k in enumerate(widths):
        c = scales[i % len(scales)]
        W0 = c * rng.standard_normal((k, d)) / np.sqrt(k)     # W0^T W0 ~ c^2 I in scaled units
        V = _newton(scaled, W0, max_nfev)
        if not np.all(np.isfinite(V)):
            continue
        W = np.zeros((m, d))
        W[:k] = unit * V
        candidates.append(W)

    # Certify, then merge by B.
    kept, kept_B, kept_g, n_converged = [], [], [], 0
    for W in candidates:
        g = risk.relative_gradient_norm(W)
        if not g <= gtol:
            continue
        n_converged += 1
        B = W.T @ W
        for j, Bj in enumerate(kept_B):
            size = max(np.linalg.norm(B), np.linalg.norm(Bj), b)
            if np.linalg.norm(B - Bj) <= DEDUP_RTOL * size:
                hits[j] += 1
                if g < kept_g[j]:
                    kept[j], kept_B[j], kept_g[j] = W, B, g
                break
        else:
            kept.append(W)
            kept_B.append(B)
            kept_g.append(g)
            hits.append(1)
    n_converged -= 1  # W = 0 is certified by construction, not by a start
    hits[0] -= 1      # ... and it is kept[0]: its relative gradient norm, 0, is never beaten

    mean_y2 = float(np.mean(risk.y ** 2))
    rows = []
    for W, B, g, h in zip(kept, kept_B, kept_g, hits):
        sv = np.linalg.svd(W, compute_uv=False)
        rank = int(np.sum(sv > RANK_RTOL * sv[0])) if sv[0] > 0 else 0
        lam = np.linalg.eigvalsh(risk.hessian(W))
        tol = EIG_RTOL * np.max(np.abs(lam))
        n_zero = int(np.sum(np.abs(lam) <= tol))
        loss = risk.value(W)
        row = dict(W=W, B=0.5 * (B + B.T), loss=loss, grad_norm=float(np.linalg.norm(risk.gradient(W))),
                   rel_grad_norm=g, rank=rank, singular_values=sv, hessian_eigenvalues=lam,
                   index=int(np.sum(lam < -tol)), n_zero=n_zero, orbit_dim=orbit_dimension(m, rank),
                   full_rank=rank == d, zero_loss=loss <= ZERO_LOSS_RTOL * mean_y2, hits=h)
        row["extra_zero"] = n_zero - row["orbit_dim"]
        row["local_min"] = row["index"] == 0
        if B_star is not None:
            row["B_error"] = float(np.linalg.norm(row["B"] - B_star) / max(np.linalg.norm(B_star), 1e-300))
            row["recovers"] = row["B_error"] <= RECOVERY_RTOL
        rows.append(row)
    rows.sort(key=lambda r: (r["loss"], -r["rank"]))

    res = Result()
    n_points = len(rows)
    status = STATUS_FOUND if n_converged > 0 else STATUS_NONE_CONVERGED
    res.success = status == STATUS_FOUND
    res.status = status
    res.message = MESSAGES[status].format(converged=n_converged, starts=starts, points=n_points, gtol=gtol)
    for key in rows[0]:
        res[key] = np.array([r[key] for r in rows])
    res.n_points = n_points
    res.n_starts = starts
    res.n_converged = n_converged
    res.seed = seed
    res.gtol, res.rank_rtol, res.zero_loss_rtol, res.eig_rtol = gtol, RANK_RTOL, ZERO_LOSS_RTOL, EIG_RTOL
    return res
