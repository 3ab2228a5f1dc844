"""Certified recovery decisions at large ``d``: uniqueness and trace minimization.

Both questions of the threshold chapter are linear matrix inequalities over
the *dual certificates* ``Z = sum_k v_k x_k x_k^T``, and every term of ``Z``
has rank one. This module decides them with a barrier method whose unknowns
are the ``n`` weights ``v_k`` (minus the linear constraints), never the
``s (s + 1) / 2`` entries of a symmetric matrix; each Newton step costs
``O(n^2 s + n^2 q + q^3)`` for ``n`` inputs, ``s = d - rank A*`` and ``q``
free weights, against ``O(s^6)`` for a dense interior-point method in the
matrix coordinates (:func:`qnb.is_unique_minimizer`, which uses this solver
where it is the faster one).

Notation (as in :mod:`qnb.uniqueness`). ``A* = U1 Lambda U1^T`` (rank ``r``),
``U0`` spans its null space; ``u_k = x_k / |x_k|``, ``z_k = U1^T u_k``,
``w_k = U0^T u_k``. A direction ``H = [[S, B], [B^T, C]]`` (basis
``[U1, U0]``) keeps the data fitted when
``z_k^T S z_k + 2 z_k^T B w_k + w_k^T C w_k = 0`` for all ``k``; the
``(S, B)`` part of these ``n`` equations is the ``n x m`` matrix ``M1``,
``m = r (r + 1) / 2 + r s``. A weight vector ``v`` with ``M1^T v = 0`` is
exactly a ``Z`` with ``Z A* = 0``; its null-space block is
``Z(v) = sum_k v_k w_k w_k^T``.

Uniqueness (``F = {A*}``). With ``V = {Z(v) : M1^T v = 0}`` the decision is
the sign of the trace-normalised margin

    rho = max { lambda_min(Z) : Z in V, tr Z = s },

the number :func:`qnb.is_unique_minimizer` reports as ``certificate`` when
positive. When ``rho < 0`` the dual of the same program gives a positive
definite ``C = X - nu I`` in ``K = V^perp``, the null-space block of a second
point of ``F``, and the reported ``certificate`` is
``rho / (1 - rho) = -max { lambda_min(C) : C in K, tr C = s }``.

Trace minimization (PhaseLift). ``A*`` is the unique minimum-trace point of
``F`` when some ``Y = I + sum_k v_k u_k u_k^T`` (``v_k`` of either sign)
has ``Y A* = 0`` and a positive definite null-space block
``I_s + Z(v)``: every ``A`` in ``F`` then has
``tr A - tr A* = <Y, A - A*> >= lambda_min(I_s + Z(v)) tr C`` (the constraint
part of ``Y`` does not see ``A - A*``), and ``C = 0`` leaves only directions
inside the face, where the data determine ``A``. ``Y A* = 0`` is the affine
system ``M1^T v = e`` (``e`` the coordinates of ``-I_r``). That program is
unbounded whenever a uniqueness certificate ``v_u`` exists (``v_p + a v_u``
for large ``a``), so it is solved homogenised, with the same trace
normalisation: ``max lambda_min(tau I_s + Z(v))`` over ``M1^T v = tau e``,
``tau > 0``, ``tr(tau I_s + Z(v)) = s``; a positive value certifies
recovery (``v / tau``), a negative one gives, from the dual, a positive
definite ``C`` in ``K`` whose direction ``H`` does not raise the trace, so
``A* + t H`` is another minimum-trace point or one of smaller trace. Since
``tau -> 0`` recovers the uniqueness program, every uniqueness certificate is
a trace-minimization certificate: ``n_PL <= n_u`` on every instance.

The barrier method. Both are ``max t`` subject to ``Y(c) - t I`` positive
definite, ``Y(c) = tau(c) I + W^T diag(a + G c) W``, over the free
coordinates ``c`` (an orthonormal basis of the linear constraints' null space
within the trace normalisation) and ``t``. It follows the central path of
``-kappa t - log det(Y(c) - t I) [- log tau(c)]``: Newton steps with a
backtracking line search (the slack is affine in the step length, so a trial
costs one Cholesky factorisation), ``kappa`` multiplied by
``_KAPPA_GROWTH`` at each centred point, and a predictor step along the
tangent of the central path. The Hessian in ``c`` is ``G^T (K o K) G`` plus
low-rank terms, with ``K = W R^-1 W^T`` (``o`` the entrywise product, ``R``
the slack): a Gram matrix of the ``n`` inputs, never a matrix of size
``s^2``, so no iterative eigensolver is needed either: at ``d <= 512`` the
dense ``s x s`` factorisations cost less than the ``n x n`` products. The
dual estimate is the Newton-corrected ``X = (R^-1 - R^-1 dR R^-1) / kappa``,
which meets the dual's linear constraints to the accuracy of the solve and
is PSD at a centred point; its value ``<X, Y(c)>`` bounds the optimum from
above, and a verification is tried only when the primal value ``t`` (a lower
bound) or that dual value says it can succeed.

Verification a posteriori. A verdict is reported only when checked on the
data, independently of the barrier method:

* a certificate ``v`` is corrected onto the linear constraints, ``Z(v)`` (or
  ``I + Z(v)``) is formed from the inputs and its smallest eigenvalue
  computed with ``eigvalsh``; it must exceed ``round_off``, a bound on how far
  the constraint residual ``|M1^T v - e|``, the round-off of the unit inputs
  and the eigenvalue solver can move it (``ROUND_OFF_SAFETY`` times over);
* a direction is built from the dual estimate: ``C`` projected exactly onto
  ``K`` (least squares against ``V``), ``(S, B)`` solved from ``M1``; ``C``
  must be positive definite, the witness ``W = A* + ||A*|| t H`` positive
  semidefinite and fitting every unit input to the bound ``fit_tol`` set by
  the conditioning of those two solves, and for trace minimization
  ``tr W < tr A*``.

Between the two the instance is undecided (``status = 1``): the margin is
within the round-off bound of zero, or the Newton budget ran out. Inputs this
solver does not handle (inputs in a proper subspace, parallel inputs, a rank
of ``A*`` or of ``M1`` not determined at working precision, a map
``v -> Z(v)`` that is not injective, which happens only when ``n`` exceeds
about ``s^2 / 2``) give ``status = 2``: ``is_unique_minimizer`` covers them.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ._symmetric import RANK_RTOL, TEACHER_RANK_RTOL
from ._validation import as_array, as_psd, check_int, check_positive
from .result import Result

STATUS_DECIDED = 0
STATUS_UNDECIDED = 1
STATUS_NOT_GENERIC = 2

MESSAGES = {
    STATUS_DECIDED: "decided",
    STATUS_UNDECIDED: "undecided: {why}",
    STATUS_NOT_GENERIC: "not handled by the rank-one solver: {why}",
}

ROUND_OFF_SAFETY = 10
_EPS = np.finfo(float).eps
_CENTRED = 0.9  # Newton decrement below which a point counts as centred (the corrected dual is PSD below 1)
_KAPPA_GROWTH = 3.0  # factor of kappa between centred points (fewest Newton steps on d = 64, 128 trials)


# --- the instance: unit inputs, face of A*, the constraint matrix M1 ------------------

class _Instance:
    """Unit inputs, the face of ``A*``, ``M1`` and the null space of ``M1^T`` of one call.

    ``why`` is None when the inputs are generic enough for this solver, else
    the reason they are not.
    """

    def __init__(self, X, A_star, rank_tol, rtol):
        n, d = X.shape
        self.n, self.d, self.A_star = n, d, A_star
        self.why = None
        norms = np.linalg.norm(X, axis=1)
        if np.any(norms == 0):
            self.why = "a zero input"
            return
        self.U = X / norms[:, None]
        self.norms = norms
        self.e_row = (d + 4) * _EPS
        lam, basis = np.linalg.eigh(A_star)
        if lam[-1] <= 0:
            raise ValueError("A_star must be nonzero")
        self.scale = float(lam[-1])
        lam = lam / lam[-1]
        tau = ROUND_OFF_SAFETY * d * _EPS
        keep = lam > max(rank_tol, tau)
        if np.any(~keep & (lam > tau)):
            self.why = "A* has an eigenvalue between round-off and rank_tol"
            return
        self.lam, self.U1, self.U0 = lam[keep], basis[:, keep], basis[:, ~keep]
        dropped = lam[~keep].max() if np.any(~keep) else 0.0
        self.e_coord = self.e_row + d * _EPS * (1.0 + 1.0 / (self.lam[0] - max(dropped, 0.0)))
        self.r, self.s = self.U1.shape[1], self.U0.shape[1]
        self.lam_min = min(float(lam[0]), 0.0)
        if self.s == 0:
            self.why = "A* has full rank"
            return
        gram_u = self.U @ self.U.T
        np.fill_diagonal(gram_u, 0.0)
        if n > 1 and np.max(np.abs(gram_u)) > 1 - 1e3 * self.e_row:
            self.why = "two inputs are parallel to round-off"
            return
        sv_u = np.linalg.svd(self.U, compute_uv=False)
        if n < d or sv_u[-1] <= max(ROUND_OFF_SAFETY * np.sqrt(n) * self.e_row * 4, rtol * sv_u[0]):
            self.why = "the inputs do not span R^d"
            return
        self.Z, self.W = self.U @ self.U1, self.U @ self.U0
        self.M1 = self._constraint_matrix()
        self.m = self.M1.shape[1]
        L, sv, Vt = np.linalg.svd(self.M1, full_matrices=True)
        err = ROUND_OFF_SAFETY * (4 * np.sqrt(n) * (self.e_row + d * _EPS) + max(self.M1.shape) * _EPS * sv[0])
        if n < self.m or sv[-1] <= max(err, rtol * sv[0]):
            self.why = (f"{n} inputs do not determine the (S, B) blocks ({self.m} unknowns)" if n < self.m
                        else "the constraint matrix of the (S, B) blocks is rank-deficient")
            return
        self.L_range, self.sv, self.Vt = L[:, :self.m], sv, Vt
        self.N = L[:, self.m:]
        self.q = self.N.shape[1]
        if self.q >= self.s * (self.s + 1) // 2:
            self.why = "more free weights than entries of the null-space block (use is_unique_minimizer)"
            return
        self.K0 = self.W @ self.W.T
        self.norm_W = float(np.linalg.norm(self.W, 2))

    def _constraint_matrix(self):
        """Columns ``c_ij z_i z_j`` (``i <= j``, ``c = 1`` on the diagonal, 2 off it), then ``2 z_i w_j``."""
        r = self.r
        rows, cols = np.triu_indices(r)
        weight = np.where(rows == cols, 1.0, 2.0)
        MS = weight * self.Z[:, rows] * self.Z[:, cols]
        MB = 2 * (self.Z[:, :, None] * self.W[:, None, :]).reshape(self.n, r * self.s)
        self._s_rows, self._s_cols = rows, cols
        return np.hstack([MS, MB])

    def teacher_rhs(self):
        """``e`` with ``M1^T v = e`` exactly when ``(I + sum_k v_k u_k u_k^T) U1 = 0``."""
        e = np.zeros(self.m)
        e[:self._s_rows.size] = -(self._s_rows == self._s_cols).astype(float)
        return e

    def block(self, v):
        """``Z(v) = sum_k v_k w_k w_k^T``."""
        return (self.W.T * v) @ self.W

    def forms(self, C):
        """``(w_k^T C w_k)_k``."""
        return np.sum((self.W @ C) * self.W, axis=1)

    def gamma(self):
        """``N^T (K0 o K0) N``: the Gram matrix of ``Z(N e_j)`` in the Frobenius product."""
        if not hasattr(self, "_gamma"):
            self._gamma = self.N.T @ ((self.K0 * self.K0) @ self.N)
            self._gamma_factor = scipy.linalg.cho_factor(self._gamma)
            self._gamma_norm = np.linalg.norm(self._gamma, 2)
        return self._gamma

    def project_to_K(self, C):
        """``C`` minus its Frobenius projection on ``V = {Z(N c)}``, and the round-off of that projection."""
        gamma = self.gamma()
        rhs = self.N.T @ self.forms(C)
        beta = scipy.linalg.cho_solve(self._gamma_factor, rhs)
        C_K = C - self.block(self.N @ beta)
        # The part of (w_k^T C_K w_k)_k outside the range of M1 is N (rhs - gamma beta): zero up to
        # the backward error of the Cholesky solve and of forming the forms.
        err = (self.q + self.n) * _EPS * (self._gamma_norm * np.linalg.norm(beta) + np.linalg.norm(rhs))
        return 0.5 * (C_K + C_K.T), err

    def direction(self, C):
        """``H`` (full coordinates, ``A*`` normalised to ``||A*|| = 1``) with null-space block ``C`` fitting the data."""
        x = self.Vt.T @ ((self.L_range.T @ -self.forms(C)) / self.sv)
        ns = self._s_rows.size
        S = np.zeros((self.r, self.r))
        S[self._s_rows, self._s_cols] = x[:ns]
        S = S + np.triu(S, 1).T
        B = x[ns:].reshape(self.r, self.s)
        basis = np.hstack([self.U1, self.U0])
        H = basis @ np.block([[S, B], [B.T, C]]) @ basis.T
        return 0.5 * (H + H.T), S, B

    def step(self, S, B, C, H):
        """Half the largest ``t <= 1 / ||H||`` keeping ``A* / ||A*|| + t H`` PSD (Schur complement on ``C > 0``)."""
        inv_root = 1.0 / np.sqrt(self.lam)
        schur = S - B @ np.linalg.solve(C, B.T)
        worst = float(np.linalg.eigvalsh(inv_root[:, None] * schur * inv_root[None, :])[0])
        t = 0.5 / -worst if worst < 0 else 1.0
        return min(t, 1.0 / max(np.linalg.norm(H, 2), 1e-300))

    def constraint_error(self, v, rhs):
        """Bound on how far ``Z(v)`` is from the block of an exact certificate of the exact unit inputs.

        The coordinates ``(z_k, w_k)`` of a unit input in the computed basis are within
        ``e_coord = e_row + d eps + d eps / gap`` of the exact ones (the unit row, the
        products with the basis, and the basis itself: Davis-Kahan with the gap of the
        normalised eigenvalues of ``A*``), so row ``k`` of ``M1``, bilinear in them with
        weights at most 2, moves by at most ``4 e_coord``, and ``M1^T v`` by at most
        ``4 e_coord ||v||_1`` (row by row, sharper than a bound on the whole matrix).
        ``v`` solves ``M1^T v = rhs`` to that plus the computed residual; the least-norm
        correction of ``v`` is at most this misfit over the smallest singular value of
        ``M1`` and moves ``Z(v)`` by at most ``||W||_2^2`` times it; forming ``Z(v)`` from
        the computed ``w_k`` adds ``2 e_coord ||v||_1``.
        """
        residual = np.linalg.norm(self.M1.T @ v - rhs)
        v1 = np.abs(v).sum()
        correction = (residual + 4 * self.e_coord * v1) / self.sv[-1]
        return correction * self.norm_W ** 2 + 2 * self.e_coord * v1

    def witness(self, C, need_lower_trace):
        """Witness ``W`` from a null-space block candidate ``C``, or ``(None, why)``; also ``C_K`` and ``H``."""
        C_K, err_K = self.project_to_K(C)
        lam_C = np.linalg.eigvalsh(C_K)
        if lam_C[0] <= ROUND_OFF_SAFETY * self.s * _EPS * abs(lam_C[-1]):
            return None, "the null-space block of the direction is not positive definite", None
        H, S, B = self.direction(C_K)
        size = np.linalg.norm(H, 2)
        # Round-off of the fit: the projection's residual and the least-squares solve with
        # M1 (backward error n eps times its condition number), relative to |H|.
        kappa = self.sv[0] / self.sv[-1]
        fit_tol = ROUND_OFF_SAFETY * (err_K + self.n * _EPS * kappa * np.abs(self.forms(C_K)).max()
                                      + self.d * _EPS * size) / size
        misfit = float(np.max(np.abs(np.einsum("ki,ij,kj->k", self.U, H, self.U)))) / size
        if misfit > fit_tol:
            return None, f"the direction fits the inputs only to {misfit:.1e} (bound {fit_tol:.1e})", None
        trace = float(np.trace(S) + np.trace(C_K))
        if need_lower_trace and not trace < -ROUND_OFF_SAFETY * self.d * _EPS * size * np.sqrt(self.d):
            return None, "the direction does not lower the trace", None
        t = self.step(S, B, C_K, H)
        W = self.A_star + self.scale * t * H
        floor = ROUND_OFF_SAFETY * self.d * _EPS
        if float(np.linalg.eigvalsh(W)[0]) < (self.lam_min - floor) * self.scale:
            return None, "the witness is not PSD", None
        return W, None, (C_K, H, misfit, fit_tol)


# --- the barrier method on max lambda_min(Y(c)) -----------------------------------------

class _Barrier:
    """Central path of ``-kappa t - log det(Y(c) - t I) [- log tau(c)]``.

    ``Y(c) = tau(c) I + Z(a + G c)`` with ``tau(c) = a_tau + g_tau . c``; for
    uniqueness ``tau = 0`` (``g_tau`` None), for trace minimization ``tau``
    is the homogenising weight of the identity, kept positive by its own
    barrier term.
    """

    def __init__(self, inst, a, G, a_tau=0.0, g_tau=None):
        self.inst, self.a, self.G = inst, a, G
        self.a_tau, self.g_tau = a_tau, g_tau
        self.s = inst.s

    def tau(self, c):
        return 0.0 if self.g_tau is None else self.a_tau + self.g_tau @ c

    def Y(self, c):
        Y = self.inst.block(self.a + self.G @ c)
        Y[np.diag_indices(self.s)] += self.tau(c)
        return Y

    def newton(self, c, t, kappa):
        """Newton direction and decrement of the barrier function at ``(c, t)``, and the dual estimate."""
        W = self.inst.W
        R = self.R = self.Y(c) - t * np.eye(self.s)  # kept for check(): Y(c) = R + t I
        L = np.linalg.cholesky(R)
        Y1 = scipy.linalg.solve_triangular(L, W.T, lower=True)  # L^-1 W^T
        Y2 = scipy.linalg.solve_triangular(L.T, Y1, lower=False)  # R^-1 W^T
        K = Y1.T @ Y1  # W R^-1 W^T
        diag1 = np.einsum("ij,ij->j", Y1, Y1)  # w_k^T R^-1 w_k
        diag2 = np.einsum("ij,ij->j", Y2, Y2)  # w_k^T R^-2 w_k
        L_inv = scipy.linalg.solve_triangular(L, np.eye(self.s), lower=True)
        R_inv = L_inv.T @ L_inv
        tr1, tr2 = np.trace(R_inv), np.sum(R_inv * R_inv)
        q = self.G.shape[1]
        grad = np.concatenate([-(self.G.T @ diag1), [-kappa + tr1]])
        hess = np.empty((q + 1, q + 1))
        hess[:q, :q] = self.G.T @ ((K * K) @ self.G)
        cross = self.G.T @ diag2  # tr(R^-1 F_j R^-1)
        hess[:q, q] = hess[q, :q] = -cross
        hess[q, q] = tr2
        if self.g_tau is not None:
            # dY/dc_j also has g_tau[j] I; and the term -log tau.
            g, tau = self.g_tau, self.tau(c)
            grad[:q] += -g * tr1 - g / tau
            hess[:q, :q] += np.outer(cross, g) + np.outer(g, cross) + tr2 * np.outer(g, g) + np.outer(g, g) / tau ** 2
            hess[:q, q] -= g * tr2
            hess[q, :q] = hess[:q, q]
        e_t = np.zeros(q + 1)
        e_t[q] = 1.0
        try:
            factor = scipy.linalg.cho_factor(hess, check_finite=False)
            step, tangent = scipy.linalg.cho_solve(factor, np.column_stack([-grad, e_t]), check_finite=False).T
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            step, tangent = np.linalg.lstsq(hess, np.column_stack([-grad, e_t]), rcond=None)[0].T
        self.tangent = tangent  # d(c, t) / d kappa along the central path, used by the predictor
        decrement = float(np.sqrt(max(-grad @ step, 0.0)))
        # The Newton-corrected dual (R^-1 - R^-1 dR R^-1) / kappa: it meets the linearised
        # stationarity conditions to the accuracy of the solve (R^-1 alone meets them only
        # to the Newton decrement), and it is PSD when the decrement is below 1.
        self.dR_step = self.dR(step)  # kept for the line search along this step
        X = (R_inv - R_inv @ self.dR_step @ R_inv) / kappa
        return step, decrement, 0.5 * (X + X.T)

    def dR(self, step):
        dR = self.inst.block(self.G @ step[:-1])
        dR[np.diag_indices(self.s)] += (0.0 if self.g_tau is None else self.g_tau @ step[:-1]) - step[-1]
        return dR

    def start(self):
        c = self.c_start if hasattr(self, "c_start") else np.zeros(self.G.shape[1])
        t = float(np.linalg.eigvalsh(self.Y(c))[0]) - 1.0
        R_inv = np.linalg.inv(self.Y(c) - t * np.eye(self.s))
        return c, t, float(np.trace(R_inv))

    def run(self, check, max_newton):
        """Follow the central path; ``check(c, t, X, kappa, steps, centred)`` returns a result or None.

        ``X`` is the dual estimate (PSD, unit trace, orthogonal to the free directions).

        ``check`` is called at every centred point, and at every point with
        ``t > 0`` (then ``Y(c)`` is positive definite: a certificate to verify;
        a program that is unbounded above has no central path to wait for).
        """
        c, t, kappa = self.start()
        steps = 0
        while steps < max_newton:
            step, decrement, X = self.newton(c, t, kappa)
            steps += 1
            centred = decrement < _CENTRED
            if centred or t > 0:
                out = check(c, t, X, kappa, steps, centred)
                if out is not None:
                    return out
            if centred:
                # Predictor: move along the tangent of the central path to the next kappa
                # (a descent direction of the new barrier function), then correct by Newton.
                growth = (_KAPPA_GROWTH - 1) * kappa
                kappa *= _KAPPA_GROWTH
                predictor = growth * self.tangent
                slope = float(np.sqrt(max(growth * predictor[-1], 0.0)))
                c, t = self.line_search(c, t, kappa, predictor, slope)
                continue
            c, t = self.line_search(c, t, kappa, step, decrement, self.dR_step)
        return None

    def value(self, R, t, tau, kappa):
        """The barrier function at slack ``R``, ``t`` and ``tau``, or inf outside its domain."""
        if self.g_tau is not None and not tau > 0:
            return np.inf
        try:
            L = np.linalg.cholesky(R)
        except np.linalg.LinAlgError:
            return np.inf
        return -kappa * t - 2 * np.sum(np.log(np.diag(L))) - (np.log(tau) if self.g_tau is not None else 0.0)

    def line_search(self, c, t, kappa, step, decrement, dR=None):
        """A step along ``step``: the full step, halved until the barrier function is defined and
        decreases by a quarter of its linear prediction.

        Damped steps ``1 / (1 + decrement)`` are safe but crawl far from the central path
        (hundreds of steps from a poor start). The slack is affine in the step length,
        ``R + alpha dR``, so a trial costs one Cholesky factorisation.
        """
        R = self.R  # the slack at (c, t), from the Newton step just taken there
        dR = self.dR(step) if dR is None else dR
        dtau = 0.0 if self.g_tau is None else self.g_tau @ step[:-1]
        tau = self.tau(c)
        f0 = self.value(R, t, tau, kappa)
        alpha = 1.0
        for _ in range(60):
            if self.value(R + alpha * dR, t + alpha * step[-1], tau + alpha * dtau, kappa) \
                    <= f0 - 0.25 * alpha * decrement ** 2:
                return c + alpha * step[:-1], t + alpha * step[-1]
            alpha *= 0.5
        return c, t


# --- the two decisions -------------------------------------------------------------

def _check_args(X, A_star, rank_tol, rtol, max_newton, tol):
    X = as_array(X, "X", 2)
    A_star = as_psd(A_star, "A_star", X.shape[1])
    rank_tol = check_positive(rank_tol, "rank_tol")
    rtol = check_positive(rtol, "rtol")
    max_newton = check_int(max_newton, "max_newton")
    tol = check_positive(tol, "tol")
    return X, A_star, rank_tol, rtol, max_newton, tol


def _result(inst, status, why=None, **fields):
    message = MESSAGES[status].format(why=why)
    base = dict(n=inst.n, rank=getattr(inst, "r", None), witness=None, dual_weights=None, certificate=np.nan,
                gap=np.nan, round_off=np.nan, fit_residual=None, nit=0)
    return Result(**(base | fields), success=status == STATUS_DECIDED, status=status, message=message)


def certify_uniqueness(X, A_star, margin=True, tol=1e-8, max_newton=400, rank_tol=TEACHER_RANK_RTOL,
                       rtol=RANK_RTOL):
    """Decide whether ``A*`` is the only PSD matrix fitting ``x_k^T A x_k = x_k^T A* x_k``, for large ``d``.

    The decision of :func:`qnb.is_unique_minimizer` by the rank-one barrier
    method of this module (module docstring): the sign of the trace-normalised
    margin ``rho = max {lambda_min(Z) : Z in V, tr Z = s}``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher, not of full rank.
    margin : bool
        True: solve until the signed margin is known to ``tol`` (then
        ``certificate`` is the margin, the number ``is_unique_minimizer``
        reports). False: stop at the first verified certificate or witness
        (``certificate`` is then only a verified bound on the margin, not a
        number to compare across machines).
    tol : float
        Absolute tolerance on the margin when ``margin`` is True.
    max_newton : int
        Budget of Newton steps; the instance is undecided when it runs out.
    rank_tol, rtol : float
        As in :func:`qnb.is_unique_minimizer`.

    Returns
    -------
    Result
        ``unique`` (bool), ``certificate`` (``rho`` when positive, else
        ``rho / (1 - rho)``, or the verified bounds; see ``margin``), ``gap``
        (upper bound on the distance of ``certificate`` from the margin),
        ``round_off`` (the bound a positive ``rho`` must exceed), ``witness``
        (another PSD matrix fitting the data when not unique),
        ``dual_weights`` (when unique: ``v`` with ``Z = sum_k v_k x_k x_k^T``
        PSD, ``Z A* = 0`` and positive definite on the null space of ``A*``,
        to the round-off bound: the verified certificate; not unique, so a
        proof, never a number to print),
        ``fit_residual`` (largest ``|u_k^T (W - A*) u_k|`` over the unit
        inputs, relative to ``||W - A*||_2``, and its bound ``fit_tol``),
        ``rank``, ``n``, ``nit`` (Newton steps), ``success``, ``status``
        (0 decided, 1 undecided, 2 inputs this solver does not handle) and
        ``message``.

    Examples
    --------
    >>> from qnb import gaussian_teacher, gram, sample_inputs
    >>> A_star = gram(gaussian_teacher(12, 1, rng=0))
    >>> res = certify_uniqueness(sample_inputs(34, 12, rng=1), A_star)
    >>> res.unique, res.success, bool(res.gap < 1e-8)
    (True, True, True)
    >>> res = certify_uniqueness(sample_inputs(16, 12, rng=1), A_star)
    >>> res.unique, res.witness is not None, bool(res.certificate < 0)
    (False, True, True)
    """
    X, A_star, rank_tol, rtol, max_newton, tol = _check_args(X, A_star, rank_tol, rtol, max_newton, tol)
    inst = _Instance(X, A_star, rank_tol, rtol)
    if inst.why is not None:
        return _result(inst, STATUS_NOT_GENERIC, inst.why, unique=False)
    s = inst.s
    g = inst.N.T @ np.einsum("kj,kj->k", inst.W, inst.W)  # tr Z(N c) = g . c
    if inst.q == 0 or np.linalg.norm(g) <= ROUND_OFF_SAFETY * inst.n * _EPS * np.sqrt(inst.q):
        # V = {0}, or the trace vanishes on V: C = I is in K, the best block there is.
        return _uniqueness_witness(inst, np.eye(s), -1.0, 0.0, 0, 0.0)
    # tr Z = s: c = c0 + P b with P an orthonormal basis of the complement of g.
    c0 = s * g / (g @ g)
    P = scipy.linalg.null_space(g[None, :])
    barrier = _Barrier(inst, inst.N @ c0, inst.N @ P)
    best = {}

    def check(b, t, X_dual, kappa, steps, centred):
        # Z = R + t I exactly in exact arithmetic: lambda_min(Z) > t, and the dual value
        # s nu = <X, Z> decides which side is worth verifying (verification costs eigensolves).
        v = barrier.a + barrier.G @ b
        Z_norm = np.linalg.norm(barrier.R) + abs(t) * np.sqrt(s)
        round_off = ROUND_OFF_SAFETY * (inst.constraint_error(v, 0.0) + s * _EPS * Z_norm)
        if t > round_off:  # a certificate to verify
            Z = inst.block(v)
            lam = np.linalg.eigvalsh(Z)
            rho = s * lam[0] / np.trace(Z)
            round_off *= s / np.trace(Z)
            if rho > round_off:
                upper = _dual_bound(inst, X_dual - np.sum(X_dual * Z) / s * np.eye(s))
                if not margin or upper - rho <= tol or s / kappa < round_off * 1e-3:
                    return _result(inst, STATUS_DECIDED, unique=True, certificate=float(rho),
                                   gap=float(upper - rho), round_off=float(round_off), nit=steps,
                                   dual_weights=v / inst.norms ** 2)
        if not centred:
            return None
        nu = (np.sum(X_dual * barrier.R) + t * np.trace(X_dual)) / s
        if nu < 0 and t < -round_off:  # a direction to verify
            W, why, extra = inst.witness(X_dual - nu * np.eye(s), need_lower_trace=False)
            if W is not None:
                C_K, H, misfit, fit_tol = extra
                m_K = s * np.linalg.eigvalsh(C_K)[0] / np.trace(C_K)
                upper = -t / (1 - t)  # t <= rho, and -rho / (1 - rho) decreases with rho
                if not margin or upper - m_K <= tol:
                    return _result(inst, STATUS_DECIDED, unique=False, certificate=float(-m_K),
                                   gap=float(upper - m_K), round_off=float(round_off), witness=W,
                                   fit_residual=misfit, fit_tol=fit_tol, nit=steps)
            best["why"] = why
        return _at_boundary(inst, s / kappa, round_off, best, steps, "unique")

    return _run(barrier, check, max_newton, inst, "unique")


def _at_boundary(inst, gap, round_off, best, steps, verdict):
    """The undecided result once the duality gap is far below the round-off bound, else None."""
    if gap >= round_off * 1e-3:
        return None
    why = f"the margin is within its round-off bound {round_off:.1e} of zero"
    if best.get("why"):
        why += f"; {best['why']}"
    return _result(inst, STATUS_UNDECIDED, why, round_off=float(round_off), nit=steps, **{verdict: False})


def _run(barrier, check, max_newton, inst, verdict):
    """The barrier method's verdict, or undecided when the Newton budget runs out."""
    out = barrier.run(check, max_newton)
    if out is None:
        out = _result(inst, STATUS_UNDECIDED, f"no verified verdict within {max_newton} Newton steps",
                      nit=max_newton, **{verdict: False})
    return out


def _dual_bound(inst, C):
    """Upper bound on ``rho`` from a dual estimate: ``C`` projected into ``K`` and shifted to be PSD.

    For ``C_K`` in ``K`` and ``nu >= -lambda_min(C_K)``, ``X = (C_K + nu I) / tr(C_K + nu I)``
    is PSD with unit trace and ``X - nu I / tr(...)`` in ``K``: a dual feasible point, whose
    value ``s nu / tr(C_K + nu I)`` bounds ``rho`` from above.
    """
    s = inst.s
    C_K, _ = inst.project_to_K(C)
    nu = max((1.0 - np.trace(C_K)) / s, -float(np.linalg.eigvalsh(C_K)[0]))
    return s * nu / (np.trace(C_K) + s * nu)


def _uniqueness_witness(inst, C, certificate, gap, steps, round_off):
    W, why, extra = inst.witness(C, need_lower_trace=False)
    if W is None:
        return _result(inst, STATUS_UNDECIDED, why, unique=False, nit=steps)
    return _result(inst, STATUS_DECIDED, unique=False, certificate=certificate, gap=gap, witness=W,
                   fit_residual=extra[2], fit_tol=extra[3], nit=steps, round_off=round_off)


def certify_phaselift(X, A_star, max_newton=400, rank_tol=TEACHER_RANK_RTOL, rtol=RANK_RTOL):
    """Decide whether ``A*`` is the unique minimum-trace PSD matrix fitting the data (PhaseLift).

    Trace minimization over ``F = {A PSD : x_k^T A x_k = x_k^T A* x_k}``
    recovers ``A*`` when a dual certificate ``Y = I + sum_k v_k u_k u_k^T``
    with ``Y A* = 0`` is positive definite on the null space of ``A*``
    (module docstring); it fails when a direction ``H`` that keeps the data
    fitted, with a positive definite null-space block, lowers the trace.
    Either is verified on the data before it is reported. Because a
    certificate of :func:`certify_uniqueness` is also one here, PhaseLift
    recovers whenever ``F = {A*}``: its threshold is never above the
    uniqueness threshold.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher, not of full rank.
    max_newton : int
        Budget of Newton steps; the instance is undecided when it runs out.
    rank_tol, rtol : float
        As in :func:`qnb.is_unique_minimizer`.

    Returns
    -------
    Result
        ``recovered`` (bool), ``certificate`` (a verified bound, not a unique
        number: the smallest eigenvalue of the certificate's null-space block
        when recovered, else the trace decrease ``tr H / tr C`` of the
        direction), ``round_off``, ``witness`` (a PSD matrix fitting the data
        with a smaller trace than ``A*``, when not recovered), ``dual_weights``
        (when recovered: ``v`` with ``Y = I + sum_k v_k x_k x_k^T``,
        ``Y A* = 0`` and ``Y`` positive definite on the null space of ``A*``,
        to the round-off bound), ``fit_residual``,
        ``rank``, ``n``, ``nit``, ``success``, ``status`` (0 decided,
        1 undecided, 2 inputs this solver does not handle) and ``message``.

    Examples
    --------
    >>> from qnb import gaussian_teacher, gram, sample_inputs
    >>> A_star = gram(gaussian_teacher(12, 1, rng=0))
    >>> certify_phaselift(sample_inputs(34, 12, rng=1), A_star).recovered
    True
    >>> res = certify_phaselift(sample_inputs(14, 12, rng=1), A_star)
    >>> res.recovered, bool(np.trace(res.witness) < np.trace(A_star))
    (False, True)
    """
    X, A_star, rank_tol, rtol, max_newton, _ = _check_args(X, A_star, rank_tol, rtol, max_newton, 1.0)
    inst = _Instance(X, A_star, rank_tol, rtol)
    if inst.why is not None:
        return _result(inst, STATUS_NOT_GENERIC, inst.why, recovered=False)
    s, e = inst.s, inst.teacher_rhs()
    v_p = inst.L_range @ ((inst.Vt @ e) / inst.sv)  # least-norm solution of M1^T v = e
    # Homogenised: x = (v, tau) with M1^T v = tau e, tau > 0, tr(tau I + Z(v)) = s. An
    # orthonormal basis of the first condition: (N, 0) and (v_p, 1) normalised (v_p is in the
    # range of M1, orthogonal to N).
    p = inst.n
    basis = np.zeros((p + 1, inst.q + 1))
    basis[:p, :inst.q] = inst.N
    basis[:p, inst.q], basis[p, inst.q] = v_p, 1.0
    basis[:, inst.q] /= np.sqrt(1.0 + v_p @ v_p)
    wn2 = np.einsum("kj,kj->k", inst.W, inst.W)
    g = basis.T @ np.append(wn2, s)  # trace of tau I + Z(v) in these coordinates
    g_N = g[:inst.q]
    if inst.q == 0 or np.linalg.norm(g_N) <= ROUND_OFF_SAFETY * p * _EPS * np.sqrt(inst.q):
        return _phaselift_from_block(inst, inst.block(v_p) + np.eye(s), v_p, e, None, 0)
    c0 = s * g / (g @ g)
    P = scipy.linalg.null_space(g[None, :])
    full = basis @ P
    barrier = _Barrier(inst, (basis @ c0)[:p], full[:p], a_tau=(basis @ c0)[p], g_tau=full[p])
    # Start at tau = 1, v = v_p + N c_N with the trace made s by c_N.
    x0 = np.zeros(inst.q + 1)
    x0[inst.q] = np.sqrt(1.0 + v_p @ v_p)
    x0[:inst.q] = (s - g[inst.q] * x0[inst.q]) * g_N / (g_N @ g_N)
    barrier.c_start = P.T @ (x0 - c0)
    best = {}

    def check(c, t, X_dual, kappa, steps, centred):
        # Y = tau I + Z(v_h) = R + t I: lambda_min(I + Z(v)) > t / tau for v = v_h / tau.
        tau = barrier.tau(c)
        v = (barrier.a + barrier.G @ c) / tau  # the certificate I + Z(v), M1^T v = e
        Y_norm = (np.linalg.norm(barrier.R) + abs(t) * np.sqrt(s)) / tau
        round_off = ROUND_OFF_SAFETY * (inst.constraint_error(v, e) + s * _EPS * Y_norm)
        if t / tau > round_off:  # a certificate to verify
            lam = np.linalg.eigvalsh(inst.block(v) + np.eye(s))
            if lam[0] > round_off:
                return _result(inst, STATUS_DECIDED, recovered=True, certificate=float(lam[0]),
                               round_off=float(round_off), nit=steps, dual_weights=v / inst.norms ** 2)
        if not centred:
            return None
        nu = (np.sum(X_dual * barrier.R) + t * np.trace(X_dual)) / s
        if nu < 0 and t < 0:  # a direction to verify
            W, why, extra = inst.witness(X_dual - nu * np.eye(s), need_lower_trace=True)
            if W is not None:
                C_K, H, misfit, fit_tol = extra
                return _result(inst, STATUS_DECIDED, recovered=False,
                               certificate=float(np.trace(H) / np.trace(C_K)), round_off=float(round_off),
                               witness=W, fit_residual=misfit, fit_tol=fit_tol, nit=steps)
            best["why"] = why
        return _at_boundary(inst, s / kappa, round_off, best, steps, "recovered")

    return _run(barrier, check, max_newton, inst, "recovered")


def _phaselift_from_block(inst, Y, v, e, _, steps):
    """No free weights: the certificate, if any, is ``v`` itself; else the direction of ``C = I``."""
    lam = np.linalg.eigvalsh(Y)
    round_off = ROUND_OFF_SAFETY * (inst.constraint_error(v, e) + inst.s * _EPS * abs(lam).max())
    if lam[0] > round_off:
        return _result(inst, STATUS_DECIDED, recovered=True, certificate=float(lam[0]),
                       round_off=float(round_off), nit=steps, dual_weights=v / inst.norms ** 2)
    W, why, extra = inst.witness(np.eye(inst.s) / inst.s, need_lower_trace=True)
    if W is None:
        return _result(inst, STATUS_UNDECIDED, why, recovered=False, nit=steps)
    return _result(inst, STATUS_DECIDED, recovered=False, certificate=float(np.trace(extra[1]) / np.trace(extra[0])),
                   round_off=float(round_off), witness=W, fit_residual=extra[2], fit_tol=extra[3], nit=steps)
