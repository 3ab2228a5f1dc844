"""Gradient flows on the weights ``W`` and on the matrix ``A = W^T W / m``.

Weight flow, eq. (3) (population version (7)):
    ``dw_i/dt = -G(A) w_i``, i.e. ``dW/dt = -W G(A)``, with ``G`` the gradient
    in ``A`` of the loss (``grad E_n`` or ``grad E``).
Matrix flow, eq. (5) (population version (8)), Lemmas 2.1 and 2.2:
    ``dA/dt = -(A G(A) + G(A) A)``.

Discrete gradient descent with step ``eta`` on the weights is
``W <- W (I - eta G)``; on ``A`` it reads ``A <- (I - eta G) A (I - eta G)``,
a congruence, so it keeps ``A`` positive semidefinite and keeps its rank.

The continuous flows on ``A`` are solved on the ``d(d+1)/2`` upper-triangle
entries with SciPy's implicit integrators and an analytic Jacobian: both
losses are quadratic in ``A``, so the derivative of ``G`` is a constant
linear map computed once per problem.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ._validation import (
    as_array,
    as_data,
    as_psd,
    as_symmetric,
    as_times,
    check_choice,
    check_int,
    check_positive,
)
from .losses import (
    _empirical_gradient,
    _empirical_loss,
    _population_gradient,
    _population_loss,
)
from .result import Result

IMPLICIT_METHODS = ("BDF", "Radau", "LSODA")
EXPLICIT_METHODS = ("RK45", "RK23", "DOP853")
FIXED_STEP_METHOD = "gd"
MATRIX_METHODS = IMPLICIT_METHODS + EXPLICIT_METHODS + (FIXED_STEP_METHOD,)


def gd_step(A, G, step):
    """One gradient-descent step on the weights, written on ``A``.

    With ``W <- W (I - step G)`` and ``A = W^T W / m`` the new matrix is
    ``(I - step G) A (I - step G)``: a congruence, hence positive
    semidefinite whenever ``A`` is, and of the same rank when
    ``I - step G`` is invertible.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Positive semidefinite matrix.
    G : array_like, shape (d, d)
        Symmetric gradient of the loss at ``A``.
    step : float
        Step size ``eta > 0``.

    Returns
    -------
    ndarray, shape (d, d)

    Examples
    --------
    >>> import numpy as np
    >>> gd_step(np.eye(2), np.diag([1.0, 0.0]), 0.5)
    array([[0.25, 0.  ],
           [0.  , 1.  ]])
    """
    A = as_psd(A, "A")
    G = as_symmetric(G, "G", A.shape[0])
    step = check_positive(step, "step")
    return _congruence(A, G, step)


def _congruence(A, G, step):
    """``(I - step G) A (I - step G)``, symmetrized; ``A`` and ``G`` may be stacks ``(..., d, d)``."""
    M = np.eye(A.shape[-1]) - step * G
    A = M @ A @ M
    return 0.5 * (A + np.swapaxes(A, -1, -2))


class _MatrixFlow:
    """Right-hand side and Jacobian of ``dA/dt = -(A G(A) + G(A) A)``.

    The state is the vector of upper-triangle entries of ``A``. ``gradient``
    maps ``A`` to ``G(A)``; ``gradient_derivative`` maps a stack of
    symmetric directions ``H`` to ``dG[H]``, which is independent of ``A``
    because both losses are quadratic.
    """

    def __init__(self, d, gradient, gradient_derivative):
        self.d = d
        self.rows, self.cols = np.triu_indices(d)
        p = self.rows.size
        # Coordinate directions of the upper-triangle parametrisation.
        basis = np.zeros((p, d, d))
        basis[np.arange(p), self.rows, self.cols] = 1.0
        basis[np.arange(p), self.cols, self.rows] = 1.0
        self.basis = basis
        self.gradient = gradient
        self.basis_dG = gradient_derivative(basis)

    def vech(self, A):
        return A[..., self.rows, self.cols]

    def unvech(self, h):
        A = np.empty((self.d, self.d))
        A[self.rows, self.cols] = h
        A[self.cols, self.rows] = h
        return A

    def velocity(self, A):
        G = self.gradient(A)
        return -(A @ G + G @ A)

    def rhs(self, t, h):
        return self.vech(self.velocity(self.unvech(h)))

    def jac(self, t, h):
        A = self.unvech(h)
        G = self.gradient(A)
        H, dG = self.basis, self.basis_dG
        dF = H @ G + G @ H + A @ dG + dG @ A
        return -self.vech(dF).T


class _FactorFlow:
    """Right-hand side and Jacobian of the weight flow ``dW/dt = -W G(W^T W / m)``.

    The state is ``W`` of shape ``(m, d)``, flattened row by row. Any factor
    with ``gram(W) = A`` carries the same ``A`` flow (Lemma 2.1), and along it
    ``A`` stays positive semidefinite with rank at most ``m`` by construction.
    """

    def __init__(self, m, d, gradient, gradient_derivative):
        self.m, self.d = m, d
        self.gradient = gradient
        self.gradient_derivative = gradient_derivative
        # Coordinate directions E_ij of the weights, as an (m d, m, d) stack.
        self.basis = np.eye(m * d).reshape(m * d, m, d)

    def velocity(self, W):
        return -W @ self.gradient(W.T @ W / self.m)

    def rhs(self, t, w):
        return self.velocity(w.reshape(self.m, self.d)).ravel()

    def jac(self, t, w):
        W = w.reshape(self.m, self.d)
        G = self.gradient(W.T @ W / self.m)
        E = self.basis
        # Direction of A produced by moving W along E: (E^T W + W^T E) / m.
        WtE = np.swapaxes(E, 1, 2) @ W
        H = (WtE + np.swapaxes(WtE, 1, 2)) / self.m
        dV = E @ G + W @ self.gradient_derivative(H)
        return -dV.reshape(self.m * self.d, -1).T


def _factor(A, rank_tol=1e-10):
    """Factor ``W`` of shape ``(r, d)`` with ``gram(W) = A`` and ``r = rank(A)``.

    Eigenvalues below ``rank_tol`` times the largest count as zero.
    """
    lam, U = np.linalg.eigh(A)
    keep = lam > rank_tol * max(lam[-1], np.finfo(float).tiny)
    r = int(np.count_nonzero(keep))
    return np.sqrt(r * lam[keep])[:, None] * U[:, keep].T


def _empirical_gradient_derivative(X):
    n = X.shape[0]

    def derivative(H):
        s = np.einsum("ki,qij,kj->qk", X, H, X)
        return np.einsum("qk,ki,kj->qij", s, X, X) / n

    return derivative


def _population_gradient_derivative(d):
    def derivative(H):
        return 2.0 * H + np.trace(H, axis1=-2, axis2=-1)[:, None, None] * np.eye(d)

    return derivative


def _check_method(method, allowed):
    return check_choice(method, "method", allowed)


def _check_step(method, step, max_steps):
    if method != FIXED_STEP_METHOD:
        return None, None
    if step is None:
        raise ValueError("step is required for method='gd' (the gradient-descent step size)")
    return check_positive(step, "step"), check_int(max_steps, "max_steps")


def _solver_options(t_eval, method, allowed, rtol, atol, step, max_steps):
    """Check the options every flow shares; return them as keyword arguments of a driver."""
    method = _check_method(method, allowed)
    step, max_steps = _check_step(method, step, max_steps)
    return {
        "t_eval": as_times(t_eval),
        "method": method,
        "rtol": check_positive(rtol, "rtol"),
        "atol": check_positive(atol, "atol"),
        "step": step,
        "max_steps": max_steps,
    }


def _integrate(flow, y0, t_eval, method, rtol, atol, jac=None):
    """Run ``solve_ivp`` from ``t = 0`` and report it as a ``Result``."""
    with np.errstate(over="ignore", invalid="ignore"):
        sol = solve_ivp(
            flow,
            (0.0, float(t_eval[-1])),
            y0,
            method=method,
            t_eval=t_eval,
            rtol=rtol,
            atol=atol,
            **({"jac": jac} if jac is not None and method in IMPLICIT_METHODS else {}),
        )
    states = np.full((t_eval.size, y0.size), np.nan)
    states[: sol.t.size] = sol.y.T
    success = bool(sol.success and sol.t.size == t_eval.size and np.all(np.isfinite(states)))
    if success:
        status, message = 0, "reached the final time"
    elif sol.status == -1:
        status, message = -1, f"integration failed: {sol.message}"
    else:
        status, message = 2, "the solution stopped being finite (divergence)"
    return states, Result(
        success=success,
        status=status,
        message=message,
        method=method,
        nfev=int(sol.nfev),
        njev=int(sol.njev),
        nlu=int(sol.nlu),
    )


def _fixed_steps(state, advance, t_eval, step, max_steps):
    """Fixed-step iteration ``state <- advance(state, h)`` landing on each ``t_eval``.

    Steps are ``step`` long except the last one before each output time,
    which is shortened so the run passes exactly through it.
    """
    states = np.full((t_eval.size,) + state.shape, np.nan)
    t, nsteps = 0.0, 0
    status, message = 0, "reached the final time"
    with np.errstate(over="ignore", invalid="ignore"):
        for i, target in enumerate(t_eval):
            n_full = int(np.floor((target - t) / step * (1 + 1e-12)))
            rest = target - t - n_full * step
            sizes = [step] * n_full + ([rest] if rest > 1e-12 * max(1.0, target) else [])
            if nsteps + len(sizes) > max_steps:
                status, message = 1, f"max_steps={max_steps} reached before t={target:g}"
                break
            for k, h in enumerate(sizes):
                state = advance(state, h)
                # Checking every step would double the cost; a diverged state
                # stays non-finite, so periodic checks catch it.
                if k % 256 == 255 and not np.all(np.isfinite(state)):
                    break
            nsteps += len(sizes)
            t = float(target)
            if not np.all(np.isfinite(state)):
                status, message = 2, f"the iterates diverged before t={target:g}; decrease step"
                break
            states[i] = state
    return states, Result(
        success=status == 0,
        status=status,
        message=message,
        method=FIXED_STEP_METHOD,
        nsteps=nsteps,
        step=step,
    )


def _attach_losses(result, A_traj, loss, A_star=None):
    """Add ``loss`` (and ``population_loss`` when ``A_star`` is given) along the trajectory."""
    result["loss"] = np.array([loss(A) if np.all(np.isfinite(A)) else np.nan for A in A_traj])
    if A_star is not None:
        result["population_loss"] = np.array(
            [_population_loss(A, A_star) if np.all(np.isfinite(A)) else np.nan for A in A_traj]
        )
    return result


def _matrix_flow(A0, gradient, gradient_derivative, t_eval, method, rtol, atol, step, max_steps):
    """Shared driver of :func:`empirical_flow` and :func:`population_flow`.

    A full-rank start is integrated on the ``d(d+1)/2`` entries of ``A``. A
    singular start is integrated on a factor ``W`` with ``r = rank(A0)`` rows:
    on the entries of ``A`` round-off would create slightly negative
    eigenvalues in null directions where the flow is unstable, and they
    would grow without bound, whereas a factor keeps ``A`` positive
    semidefinite with rank at most ``r``, as the exact flow does.
    """
    d = A0.shape[0]
    if method == FIXED_STEP_METHOD:
        def advance(A, h):
            return _congruence(A, gradient(A), h)

        A_traj, result = _fixed_steps(A0, advance, t_eval, step, max_steps)
        representation = "matrix"
    else:
        W0 = _factor(A0)
        if W0.shape[0] == d:
            flow = _MatrixFlow(d, gradient, gradient_derivative)
            h_traj, result = _integrate(flow.rhs, flow.vech(A0), t_eval, method, rtol, atol,
                                        flow.jac)
            A_traj = np.array([flow.unvech(h) for h in h_traj])
            representation = "matrix"
        else:
            flow = _FactorFlow(W0.shape[0], d, gradient, gradient_derivative)
            w_traj, result = _integrate(flow.rhs, W0.ravel(), t_eval, method, rtol, atol,
                                        flow.jac)
            W_traj = w_traj.reshape(t_eval.size, *W0.shape)
            A_traj = np.einsum("tji,tjk->tik", W_traj, W_traj) / W0.shape[0]
            representation = f"factor of rank {W0.shape[0]}"
    result["representation"] = representation
    result["t"] = t_eval
    result["A"] = A_traj
    return result


def empirical_flow(A0, X, y, t_eval, method="LSODA", rtol=1e-9, atol=1e-14, step=None,
                   max_steps=10_000_000, A_star=None):
    """Gradient flow (5) of the empirical loss on the matrix ``A``.

    Solves ``dA/dt = -(A G + G A)`` with ``G = grad E_n(A)`` from ``A(0) = A0``
    (Lemma 2.1 of Sarao Mannelli et al.). This is what gradient flow (3) on
    any weights ``W`` with ``gram(W) = A0`` does to ``A``.

    Parameters
    ----------
    A0 : array_like, shape (d, d)
        Positive semidefinite start.
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels.
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    method : {'LSODA', 'BDF', 'Radau', 'RK45', 'RK23', 'DOP853', 'gd'}
        An integrator of :func:`scipy.integrate.solve_ivp` (the implicit ones
        use the analytic Jacobian), or ``'gd'``: discrete gradient descent
        ``A <- (I - step G) A (I - step G)``, exactly one step of gradient
        descent on the weights, positive semidefinite by construction.
    rtol, atol : float
        Integrator tolerances on the state: the upper-triangle entries of
        ``A`` for a full-rank start, or the entries of a factor ``W`` with
        ``gram(W) = A`` and ``rank(A0)`` rows for a singular start (which
        keeps ``A`` positive semidefinite and its rank from growing, as in the
        exact flow). The small default ``atol`` keeps relative accuracy in
        eigen-directions that decay to zero, which matters at long times.
    step : float, optional
        Step size of ``method='gd'`` (required there, ignored otherwise).
    max_steps : int
        Cap on the number of ``'gd'`` steps; reaching it is reported with
        ``status = 1``.
    A_star : array_like, shape (d, d), optional
        Teacher matrix; when given the result also carries the population
        loss along the trajectory.

    Returns
    -------
    Result
        ``t`` (the output times), ``A`` (shape ``(len(t), d, d)``), ``loss``
        (``E_n`` at each time), ``population_loss`` (with ``A_star``),
        ``success``, ``status`` (0 done, 1 ``max_steps`` reached, 2 divergence,
        -1 integrator failure), ``message``, ``method``, ``representation``
        (``'matrix'`` or ``'factor of rank r'``) and counts
        (``nfev``, ``njev``, ``nlu``, or ``nsteps`` for ``'gd'``). States
        after a failure are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from qnb import gaussian_teacher, gram, sample_inputs, labels
    >>> A_star = gram(gaussian_teacher(3, 1, rng=0))
    >>> X = sample_inputs(12, 3, rng=1)
    >>> res = empirical_flow(np.eye(3), X, labels(X, A_star), [0.0, 1e3])
    >>> res.success, bool(res.loss[-1] < 1e-6 * res.loss[0])
    (True, True)
    """
    X, y = as_data(X, y)
    d = X.shape[1]
    A0 = as_psd(A0, "A0", d)
    options = _solver_options(t_eval, method, MATRIX_METHODS, rtol, atol, step, max_steps)
    if A_star is not None:
        A_star = as_psd(A_star, "A_star", d)

    result = _matrix_flow(A0, lambda A: _empirical_gradient(A, X, y),
                          _empirical_gradient_derivative(X), **options)
    return _attach_losses(result, result.A, lambda A: _empirical_loss(A, X, y), A_star)


def population_flow(A0, A_star, t_eval, method="LSODA", rtol=1e-9, atol=1e-14, step=None,
                    max_steps=10_000_000):
    """Gradient flow (8) of the population loss on the matrix ``A``.

    Solves ``dA/dt = -(A G + G A)`` with ``G = 2 (A - A*) + tr(A - A*) I``
    from ``A(0) = A0`` (Lemma 2.2 of Sarao Mannelli et al.).

    Parameters
    ----------
    A0 : array_like, shape (d, d)
        Positive semidefinite start.
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher matrix.
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    method, rtol, atol, step, max_steps
        As in :func:`empirical_flow`.

    Returns
    -------
    Result
        ``t``, ``A`` (shape ``(len(t), d, d)``), ``loss`` (``E`` of eq. (9)),
        ``success``, ``status``, ``message``, ``method`` and counts, as in
        :func:`empirical_flow`.

    Examples
    --------
    >>> import numpy as np
    >>> res = population_flow(np.eye(2), 2 * np.eye(2), [0.0, 10.0])
    >>> np.round(res.A[-1], 6) + 0.0
    array([[2., 0.],
           [0., 2.]])
    """
    A_star = as_psd(A_star, "A_star")
    d = A_star.shape[0]
    A0 = as_psd(A0, "A0", d)
    options = _solver_options(t_eval, method, MATRIX_METHODS, rtol, atol, step, max_steps)

    result = _matrix_flow(A0, lambda A: _population_gradient(A, A_star),
                          _population_gradient_derivative(d), **options)
    return _attach_losses(result, result.A, lambda A: _population_loss(A, A_star))


def _weight_flow(W0, gradient, gradient_derivative, loss, t_eval, method, rtol, atol, step,
                 max_steps, A_star=None):
    """Shared driver of the two weight flows: ``dW/dt = -W G(W^T W / m)``."""
    m, d = W0.shape
    flow = _FactorFlow(m, d, gradient, gradient_derivative)
    if method == FIXED_STEP_METHOD:
        W_traj, result = _fixed_steps(W0, lambda W, h: W + h * flow.velocity(W), t_eval, step,
                                      max_steps)
    else:
        w_traj, result = _integrate(flow.rhs, W0.ravel(), t_eval, method, rtol, atol, flow.jac)
        W_traj = w_traj.reshape(t_eval.size, m, d)
    A_traj = np.einsum("tji,tjk->tik", W_traj, W_traj) / m
    result["t"] = t_eval
    result["W"] = W_traj
    result["A"] = A_traj
    return _attach_losses(result, A_traj, loss, A_star)


def _check_weights(W0, d):
    W0 = as_array(W0, "W0", 2)
    if W0.shape[1] != d:
        raise ValueError(f"W0 must have d = {d} columns (one per input coordinate), got shape {W0.shape}")
    return W0


WEIGHT_METHODS = EXPLICIT_METHODS + IMPLICIT_METHODS + (FIXED_STEP_METHOD,)


def weight_flow(W0, X, y, t_eval, method="DOP853", rtol=1e-10, atol=1e-12, step=None,
                max_steps=10_000_000, A_star=None):
    """Gradient flow (3) of the empirical loss on the weights.

    Solves ``dw_i/dt = -grad E_n(A) w_i`` for the rows ``w_i`` of ``W``, with
    ``A = W^T W / m``; this is ``dW/dt = -m grad_W L_n`` for the weight-space
    loss (2). It works for any width ``m``, including ``m < d``.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Initial weights, one hidden unit per row.
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels.
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    method : {'DOP853', 'RK45', 'RK23', 'BDF', 'Radau', 'LSODA', 'gd'}
        An integrator of :func:`scipy.integrate.solve_ivp` (implicit ones
        use the analytic Jacobian), or ``'gd'``: plain
        gradient descent ``W <- W (I - step G)`` with fixed ``step``.
    rtol, atol : float
        Integrator tolerances on the weights.
    step : float, optional
        Step size of ``method='gd'`` (required there, ignored otherwise).
    max_steps : int
        Cap on the number of ``'gd'`` steps (``status = 1`` when reached).
    A_star : array_like, shape (d, d), optional
        Teacher matrix; when given the result carries the population loss.

    Returns
    -------
    Result
        ``t``, ``W`` (shape ``(len(t), m, d)``), ``A`` (``gram`` of each
        ``W``, shape ``(len(t), d, d)``), ``loss`` (``E_n(A)``, twice the
        weight-space loss (2)), optionally ``population_loss``, ``success``,
        ``status``, ``message``, ``method`` and counts, as in
        :func:`empirical_flow`.

    Examples
    --------
    >>> import numpy as np
    >>> from qnb import sample_inputs, labels
    >>> X = sample_inputs(6, 2, rng=0)
    >>> res = weight_flow(np.eye(2), X, labels(X, np.diag([1.0, 0.0])), [0.0, 1.0])
    >>> res.W.shape, res.A.shape
    ((2, 2, 2), (2, 2, 2))
    """
    X, y = as_data(X, y)
    d = X.shape[1]
    W0 = _check_weights(W0, d)
    options = _solver_options(t_eval, method, WEIGHT_METHODS, rtol, atol, step, max_steps)
    if A_star is not None:
        A_star = as_psd(A_star, "A_star", d)
    return _weight_flow(W0, lambda A: _empirical_gradient(A, X, y),
                        _empirical_gradient_derivative(X), lambda A: _empirical_loss(A, X, y),
                        A_star=A_star, **options)


def population_weight_flow(W0, A_star, t_eval, method="DOP853", rtol=1e-10, atol=1e-12,
                           step=None, max_steps=10_000_000):
    """Gradient flow (7) of the population loss on the weights.

    Solves ``dw_i/dt = tr(A* - A) w_i + 2 (A* - A) w_i`` with
    ``A = W^T W / m`` (Lemma 2.2 of Sarao Mannelli et al.).

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Initial weights, one hidden unit per row.
    A_star : array_like, shape (d, d)
        Positive semidefinite teacher matrix.
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    method, rtol, atol, step, max_steps
        As in :func:`weight_flow`.

    Returns
    -------
    Result
        ``t``, ``W``, ``A``, ``loss`` (``E(A)`` of eq. (9)) and the status
        fields, as in :func:`weight_flow`.

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
    d = A_star.shape[0]
    W0 = _check_weights(W0, d)
    options = _solver_options(t_eval, method, WEIGHT_METHODS, rtol, atol, step, max_steps)
    return _weight_flow(W0, lambda A: _population_gradient(A, A_star),
                        _population_gradient_derivative(d), lambda A: _population_loss(A, A_star),
                        **options)


def flow_with_fallback(A0, X, y, t_eval, **options):
    """:func:`empirical_flow` with LSODA and, if that fails, again with BDF.

    Towards a rank-deficient teacher the flow creeps algebraically at late
    times; LSODA may then switch to its non-stiff method and blow up, where
    BDF stays stable. The sweeps that run the flow to very long times
    (:func:`qnb.recovery_probability`, :func:`qnb.recovery_threshold`,
    :func:`qnb.string_profiles`) solve it with this function.

    Parameters
    ----------
    A0, X, y, t_eval
        As in :func:`empirical_flow`.
    **options
        Other keyword arguments of :func:`empirical_flow` (``A_star``,
        ``rtol``, ``atol``), the same for both attempts; not ``method``.

    Returns
    -------
    Result
        The LSODA result when it succeeded, otherwise the BDF result, whose
        ``message`` then starts with ``"LSODA failed, BDF: "``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(2)
    >>> res = flow_with_fallback(np.eye(2), X, np.array([2.0, 3.0]), [0.0, 1e3])
    >>> res.success, res.method, np.round(np.diag(res.A[-1]), 6)
    (True, 'LSODA', array([2., 3.]))
    """
    if "method" in options:
        raise TypeError("flow_with_fallback() chooses the method itself; do not pass method")
    res = empirical_flow(A0, X, y, t_eval, **options)
    if not res.success:
        res = empirical_flow(A0, X, y, t_eval, method="BDF", **options)
        res["message"] = f"LSODA failed, BDF: {res.message}"
    return res
