"""Local convergence of gradient flow near a planted network: rates and radii.

Near a zero-loss point ``theta_inf`` of :class:`~qnb.two_layer.NetworkLoss` the
residuals ``r = f(X) - y`` obey, to first order, ``dr/dt = -(J J^T / n) r``
with ``J`` the Jacobian of the outputs at ``theta_inf``. The residual lies in
the range of ``J``, so the loss ``L = |r|^2 / (2n)`` decays like
``exp(-2 lambda t)``, ``lambda`` the smallest nonzero eigenvalue of
``J^T J / n`` (equivalently of ``J J^T / n``): :func:`gauss_newton_rate` gives
it, :func:`loss_decay_rate` measures the rate of a computed loss curve, and
:func:`convergence_radius` bisects for the largest distance from the planted
point along a direction from which the flow still reaches zero loss.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import as_array, check_int, check_positive
from .result import Result
from .two_layer import ZERO_LOSS_RTOL, check_loss_object, network_flow

JACOBIAN_RANK_RTOL = 1e-9
"""A singular value of ``J`` is zero when it is at most ``JACOBIAN_RANK_RTOL`` times the largest.
An SVD computes singular values to about ``1e-16`` times the largest; the genuine small ones of
the planted networks met here sit above ``1e-6`` times it, so the cut has room on both sides."""
MIN_DECADES = 3.0
"""A decay rate is fitted over at least this many decades of the loss, so that the fit sees the
exponential and not a transient."""
MIN_POINTS = 8
"""A decay rate needs at least this many loss values inside its window."""
LINEARITY_TOL = 0.05
"""An exponential decay: no point of the window is more than ``LINEARITY_TOL`` decades off the
fitted line. A second exponential with a 5% larger rate, of equal weight at the start of a
three-decade window, moves the end of it by ``0.05 * 3 = 0.15`` decades, three times this."""

STATUS_FITTED = 0
STATUS_SHORT_WINDOW = 1
STATUS_NOT_EXPONENTIAL = 2
RATE_MESSAGES = {
    STATUS_FITTED: "loss ~ exp(-{rate:.4g} t) over {decades:.3g} decades ({npoints} points)",
    STATUS_SHORT_WINDOW: "the window holds {npoints} points over {decades:.3g} decades; "
                         "need {min_points} points over {min_decades:g} decades",
    STATUS_NOT_EXPONENTIAL: "log10 of the loss is up to {deviation:.3g} decades off the fitted line "
                            "(more than {tol:g})",
}

STATUS_BRACKETED = 0
STATUS_NO_FAILURE = 1
STATUS_FLOW_FAILED = 2
RADIUS_MESSAGES = {
    STATUS_BRACKETED: "converges at r={lower:.4g}, not at r={upper:.4g} ({evaluations} flows)",
    STATUS_NO_FAILURE: "converges at every radius tried up to r_max={upper:.4g}; the radius is at "
                       "least that ({evaluations} flows)",
    STATUS_FLOW_FAILED: "the flow from r={radius:.4g} failed: {reason}",
}


def gauss_newton_rate(loss, theta):
    """The predicted local rate at ``theta``: the smallest nonzero eigenvalue of ``J^T J / n``.

    Parameters
    ----------
    loss : NetworkLoss
    theta : array_like, shape (loss.size,)
        Normally a zero-loss point, where ``J^T J / n`` is the Hessian.

    Returns
    -------
    Result
        ``eigenvalue`` (``lambda``, the squared smallest nonzero singular
        value of ``J`` over ``n``), ``loss_rate`` (``2 lambda``: the flow's
        loss decays like ``exp(-2 lambda t)``), ``rank`` (singular values above
        ``JACOBIAN_RANK_RTOL`` times the largest), ``full_rank`` (``rank ==
        min(n, size)``: no flat direction beyond the ones counting forces),
        ``singular_values``, ``success`` (``rank > 0``), ``status``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from qnb import NetworkLoss
    >>> loss = NetworkLoss(np.eye(2), [1.0, 1.0], v=[1.0])   # f = (w . x)^2
    >>> res = gauss_newton_rate(loss, [1.0, 1.0])              # J = 2 I
    >>> float(res.eigenvalue), res.rank, res.full_rank
    (2.0, 2, True)
    """
    loss = check_loss_object(loss)
    theta = as_array(loss.check_theta(theta), "theta", 1)
    s = np.linalg.svd(loss.jacobian(theta), compute_uv=False)
    rank = int(np.sum(s > JACOBIAN_RANK_RTOL * s[0])) if s[0] > 0 else 0
    lam = float(s[rank - 1] ** 2 / loss.n) if rank else 0.0
    message = (f"smallest nonzero eigenvalue {lam:.4g} of J^T J / n (rank {rank})" if rank
               else "the Jacobian is zero")
    return Result(success=rank > 0, status=0 if rank else 1, message=message, eigenvalue=lam,
                  loss_rate=2 * lam, rank=rank, full_rank=rank == min(loss.n, loss.size),
                  singular_values=s)


def _window(t, values, upper, lower):
    """The points with ``lower <= values / values[0] <= upper``, from the first entry into it on."""
    rel = values / values[0]
    inside = (rel <= upper) & (rel >= lower)
    if not inside.any():
        return np.zeros(0, dtype=int)
    first = int(np.argmax(inside))
    return first + np.flatnonzero(inside[first:])


def loss_decay_rate(t, values, upper=1e-4, lower=1e-14):
    """The exponential decay rate of a loss curve: ``kappa`` with ``L ~ exp(-kappa t)``.

    A least-squares line through ``log L`` against ``t`` over the window where
    ``lower <= L / L[0] <= upper`` (late enough for the slowest mode to
    dominate, early enough to stay above the integrator's tolerance).

    Parameters
    ----------
    t : array_like, shape (m,)
        Increasing times (or step counts, for gradient descent: then
        ``exp(-kappa)`` is the factor per step).
    values : array_like, shape (m,)
        Positive loss values, ``values[0]`` the reference.
    upper, lower : float
        The window, relative to ``values[0]``; ``0 < lower < upper``.

    Returns
    -------
    Result
        ``rate`` (``kappa``), ``decades`` (spanned by the window),
        ``npoints``, ``deviation`` (largest distance of ``log10 L`` from the
        line, in decades), ``success`` (at least ``MIN_DECADES`` decades,
        ``MIN_POINTS`` points and a deviation within ``LINEARITY_TOL``),
        ``status`` and ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 10.0, 101)
    >>> res = loss_decay_rate(t, 3.0 * np.exp(-4.0 * t), upper=1e-2, lower=1e-15)
    >>> res.success, round(float(res.rate), 12)
    (True, 4.0)
    """
    t = as_array(t, "t", 1)
    values = as_array(values, "values", 1)
    if values.shape != t.shape:
        raise ValueError(f"values must have the shape of t {t.shape}, got {values.shape}")
    if np.any(values <= 0):
        raise ValueError("values must be positive (a loss curve before it reaches exact zero)")
    upper, lower = check_positive(upper, "upper"), check_positive(lower, "lower")
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower} and upper={upper}")
    idx = _window(t, values, upper, lower)
    logs = np.log10(values[idx])
    decades = float(logs.max() - logs.min()) if idx.size else 0.0
    rate, deviation = math.nan, math.nan
    if idx.size >= 2:
        slope, intercept = np.polyfit(t[idx], logs, 1)
        rate = -float(slope) * math.log(10.0)
        deviation = float(np.max(np.abs(logs - (slope * t[idx] + intercept))))
    if idx.size < MIN_POINTS or decades < MIN_DECADES:
        status = STATUS_SHORT_WINDOW
    else:
        status = STATUS_FITTED if deviation <= LINEARITY_TOL else STATUS_NOT_EXPONENTIAL
    message = RATE_MESSAGES[status].format(rate=rate, decades=decades, npoints=idx.size,
                                           min_points=MIN_POINTS, min_decades=MIN_DECADES,
                                           deviation=deviation, tol=LINEARITY_TOL)
    return Result(success=status == STATUS_FITTED, status=status, message=message, rate=rate,
                  decades=decades, npoints=int(idx.size), deviation=deviation)


def _converges(loss, start, horizon, zero_rtol, rtol, atol):
    """Whether the flow from ``start`` is at relative loss ``<= zero_rtol`` at ``horizon``; the run."""
    run = network_flow(loss, start, [0.0, horizon], method="LSODA", rtol=rtol, atol=atol)
    reached = run.success and run.loss[-1] <= zero_rtol * loss.zero_network_loss()
    return bool(reached), run


def convergence_radius(loss, theta_star, direction, r_max, horizon, *, grid=4, bisections=5,
                       zero_rtol=ZERO_LOSS_RTOL, rtol=1e-7, atol=1e-10):
    """The largest ``r`` for which the flow from ``theta_star + r u`` reaches zero loss.

    The flow (LSODA, exact Jacobian) runs from ``theta_star + r u``, ``u`` the
    unit vector along ``direction``, up to time ``horizon``; it converges when
    the loss is then at most ``zero_rtol`` times that of the zero network.
    First the radii ``r_max j / grid``, ``j = 1..grid``, are tried in order;
    at the first failure, ``bisections`` halvings between it and the last
    success follow. The set of converging radii need not be an interval: the
    answer is the boundary next to the first failure on the grid.

    Parameters
    ----------
    loss : NetworkLoss
        A planted loss: ``theta_star`` has zero loss.
    theta_star : array_like, shape (loss.size,)
    direction : array_like, shape (loss.size,)
        Nonzero; normalised here.
    r_max : float
        The largest radius tried.
    horizon : float
        The flow's final time.
    grid, bisections : int
        Number of grid radii and of halvings (resolution ``r_max / (grid 2^bisections)``).
    zero_rtol : float
        Zero loss, relative to the zero network (default ``ZERO_LOSS_RTOL``).
    rtol, atol : float
        Integrator tolerances; coarse ones suffice to tell zero loss from a stall.

    Returns
    -------
    Result
        ``radius`` (``lower``), ``lower`` (largest converging radius found),
        ``upper`` (smallest failing one, or ``r_max``), ``evaluations``,
        ``final_loss`` (at ``upper``'s run), ``success`` (bracketed),
        ``status`` (``STATUS_BRACKETED``, ``STATUS_NO_FAILURE``,
        ``STATUS_FLOW_FAILED``), ``message``.
    """
    loss = check_loss_object(loss)
    theta_star = as_array(loss.check_theta(theta_star, "theta_star"), "theta_star", 1)
    u = as_array(loss.check_theta(direction, "direction"), "direction", 1)
    norm = float(np.linalg.norm(u))
    if norm == 0:
        raise ValueError("direction must be nonzero")
    u = u / norm
    r_max, horizon = check_positive(r_max, "r_max"), check_positive(horizon, "horizon")
    grid, bisections = check_int(grid, "grid"), check_int(bisections, "bisections", minimum=0)
    zero_rtol = check_positive(zero_rtol, "zero_rtol")
    if loss.value(theta_star) > zero_rtol * loss.zero_network_loss():
        raise ValueError("theta_star must have zero loss (the planted point)")
    evaluations, lower, upper, final = 0, 0.0, None, math.nan

    def attempt(r):
        nonlocal evaluations
        evaluations += 1
        return _converges(loss, theta_star + r * u, horizon, zero_rtol, rtol, atol)

    for r in r_max * np.arange(1, grid + 1) / grid:
        ok, run = attempt(r)
        if not run.success:
            return _radius_result(STATUS_FLOW_FAILED, lower, r, evaluations, math.nan, run.message)
        if not ok:
            upper, final = float(r), float(run.loss[-1])
            break
        lower = float(r)
    if upper is None:
        return _radius_result(STATUS_NO_FAILURE, lower, r_max, evaluations, math.nan, "")
    for _ in range(bisections):
        middle = 0.5 * (lower + upper)
        ok, run = attempt(middle)
        if not run.success:
            return _radius_result(STATUS_FLOW_FAILED, lower, middle, evaluations, math.nan, run.message)
        if ok:
            lower = middle
        else:
            upper, final = middle, float(run.loss[-1])
    return _radius_result(STATUS_BRACKETED, lower, upper, evaluations, final, "")


def _radius_result(status, lower, upper, evaluations, final, reason):
    message = RADIUS_MESSAGES[status].format(lower=lower, upper=upper, evaluations=evaluations,
                                             radius=upper, reason=reason)
    return Result(success=status == STATUS_BRACKETED, status=status, message=message, radius=lower,
                  lower=lower, upper=upper, evaluations=evaluations, final_loss=final)
