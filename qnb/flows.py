"""Gradient flows of the empirical loss on the weights ``W`` and on the matrix ``A = W^T W / m``.

Weight flow, eq. (3):
    ``dw_i/dt = -G(A) w_i``, i.e. ``dW/dt = -W G(A)``, with ``G = grad E_n``.
Matrix flow, eq. (5), Lemma 2.1:
    ``dA/dt = -(A G(A) + G(A) A)``.

Discrete gradient descent with step ``eta`` on the weights is
``W <- W (I - eta G)``; on ``A`` it reads ``A <- (I - eta G) A (I - eta G)``,
a congruence, so it keeps ``A`` positive semidefinite and keeps its rank.

The continuous flows on ``A`` are solved on the ``d(d+1)/2`` upper-triangle
entries with SciPy's implicit integrators and an analytic Jacobian
(:class:`MatrixFlow`): the loss is quadratic in ``A``, so the derivative of
``G`` is a constant linear map computed once per problem. The population
versions (7) and (8) are in :mod:`qnb.population`; both share the solvers of
``qnb._descent``. Every flow's ``status`` is one of ``STATUS_SUCCESS`` (0),
``STATUS_MAX_STEPS`` (1, ``'gd'`` only), ``STATUS_DIVERGED`` (2) and
``STATUS_FAILED`` (-1, the integrator gave up). A run that breaks down
numerically (a velocity that is not finite, an integrator stuck at one time
because the state is too large for its error norm, a gradient-descent step
so large that the loss rises) stops at once with one of the failure codes and
a message saying where; it never hangs, and ``success`` is True only for a
finite solution that reached the last time.
"""

from __future__ import annotations

# MatrixFlow, WeightFlow and the status codes are re-exported: the vector fields of (5) and (3),
# and the codes every flow reports.
from ._descent import (MatrixFlow, WeightFlow, attach_losses, check_matrix_start, check_weights,
                       solve_matrix_flow, solve_weight_flow)
from ._integration import (
    MATRIX_METHODS,
    STATUS_DIVERGED,
    STATUS_FAILED,
    STATUS_MAX_STEPS,
    STATUS_SUCCESS,
    WEIGHT_METHODS,
    solver_options,
)
from ._symmetric import congruence_step
from ._validation import as_psd, as_symmetric, check_positive
from .losses import EmpiricalLoss, PopulationLoss


def _population_of(A_star, d):
    """The population loss of an optional teacher, checked (``None`` stays ``None``)."""
    return None if A_star is None else PopulationLoss(as_psd(A_star, "A_star", d))


def _weight_flow(W0, loss, population, **options):
    """Solve the weight flow (3) and attach the losses along it."""
    return attach_losses(solve_weight_flow(W0, loss, **options), loss, population)


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
    return congruence_step(A, G, step)


def empirical_flow(A0, X, y, t_eval, method="LSODA", rtol=1e-9, atol=1e-14, step=None,
                   max_steps=10_000_000, A_star=None):
    """Gradient flow (5) of the empirical loss on the matrix ``A``.

    Solves ``dA/dt = -(A G + G A)`` with ``G = grad E_n(A)`` from ``A(0) = A0``
    (Lemma 2.1 of Sarao Mannelli et al.). This is what gradient flow (3) on
    any weights ``W`` with ``gram(W) = A0`` does to ``A``.

    Parameters
    ----------
    A0 : array_like, shape (d, d)
        Positive semidefinite start, not zero: ``A = 0`` is a fixed point of
        (5), which the flow never leaves, so a zero start (numerical rank 0)
        is a ``ValueError``.
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
        descent on the weights, positive semidefinite by construction. A
        stable step lowers the loss at every step, like the flow; ``'gd'``
        reports divergence as soon as the loss rises above its starting
        value (checked at the output times and every 256 steps).
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
        Cap on the number of ``'gd'`` steps. The steps each output time
        needs are counted before they are taken: when the cap would be
        exceeded the run stops with ``status = 1`` and the states from that
        time on are NaN.
    A_star : array_like, shape (d, d), optional
        Teacher matrix; when given the result also carries the population
        loss along the trajectory.

    Returns
    -------
    Result
        ``t`` (the output times), ``A`` (shape ``(len(t), d, d)``), ``loss``
        (``E_n`` at each time), ``population_loss`` (with ``A_star``),
        ``success``, ``status`` (``STATUS_SUCCESS = 0`` done,
        ``STATUS_MAX_STEPS = 1`` ``max_steps`` reached, ``STATUS_DIVERGED = 2``
        divergence, ``STATUS_FAILED = -1`` integrator failure), ``message``,
        ``method``, ``representation`` (``'matrix'`` or ``'factor of rank r'``)
        and counts (``nfev``, ``njev``, ``nlu``, or ``nsteps`` for ``'gd'``).
        States after a failure are NaN; those before it are kept.

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
    loss = EmpiricalLoss(X, y)
    A0 = check_matrix_start(A0, loss.d)
    options = solver_options(t_eval, method, MATRIX_METHODS, rtol, atol, step, max_steps)
    population = _population_of(A_star, loss.d)
    return attach_losses(solve_matrix_flow(A0, loss, **options), loss, population)


def weight_flow(W0, X, y, t_eval, method="DOP853", rtol=1e-10, atol=1e-12, step=None,
                max_steps=10_000_000, A_star=None):
    """Gradient flow (3) of the empirical loss on the weights.

    Solves ``dw_i/dt = -grad E_n(A) w_i`` for the rows ``w_i`` of ``W``, with
    ``A = W^T W / m``; this is ``dW/dt = -m grad_W L_n`` for the weight-space
    loss (2). It works for any width ``m``, including ``m < d``.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Initial weights, one hidden unit per row, not all zero (``W = 0`` is
        a fixed point of (3)).
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels.
    t_eval : array_like
        Strictly increasing, non-negative output times; the flow starts at 0.
    method : {'DOP853', 'RK45', 'RK23', 'BDF', 'Radau', 'LSODA', 'gd'}
        An integrator of :func:`scipy.integrate.solve_ivp` (implicit ones
        use the analytic Jacobian), or ``'gd'``: plain
        gradient descent ``W <- W (I - step G)`` with fixed ``step``,
        reported as diverged when the loss rises (as in
        :func:`empirical_flow`).
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
    loss = EmpiricalLoss(X, y)
    W0 = check_weights(W0, loss.d)
    options = solver_options(t_eval, method, WEIGHT_METHODS, rtol, atol, step, max_steps)
    return _weight_flow(W0, loss, _population_of(A_star, loss.d),
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
