"""Gradient flow near a branch of perfect global minima: linear where Morse-Bott, algebraic elsewhere.

Near a point ``theta_inf`` of a branch (:class:`~qnb.perfect_minima.Branch`)
at which the loss is Morse-Bott, the flow converges linearly and the loss
decays like ``exp(-2 lambda t)``, ``lambda`` the smallest nonzero eigenvalue
of the Hessian in the normal space (:func:`~qnb.branch_hessian`; measure the
rate with :func:`~qnb.loss_decay_rate`).

Where the Hessian misses one normal direction ``e`` (a unit vector: the
*soft* direction; one of them on the merged branch of the two-neuron
example), the normal space splits into ``e`` and stiff directions. The stiff
coordinates relax at once to the minimum of the loss at fixed soft
coordinate ``tau``, where the loss is ``L_eff(tau) = K tau^4 + O(tau^5)``
when it grows at fourth order. The flow along ``e`` is then
``d tau / dt = -4 K tau^3``, so ``tau^(-2) = 8 K t`` and

    L(t) ~ 1 / (64 K t^2),   theta(t) - theta_inf ~ tau(t) e,   tau ~ (8 K t)^(-1/2),

an algebraic law with exponent 2 and a constant fixed by ``K``, approached
along the soft direction (the drift along the branch is of order ``1/t``,
smaller). :func:`soft_direction_law` computes ``e`` and ``K`` at a point of
the branch; :func:`algebraic_decay_exponent` measures the exponent of a
computed loss curve. The derivation is the centre-manifold reduction of
seed 004's Lemmas 5.1-5.2 for this case, written out in the chapter.
"""

from __future__ import annotations

import math

import numpy as np

from ._integration import IMPLICIT_METHODS
from ._validation import as_array, check_choice, check_positive
from .perfect_minima import Branch, branch_hessian, check_branch_loss, least_loss
from .result import Result
from .two_layer import network_flow

MIN_EXPONENT_DECADES = 3.0
"""An algebraic exponent is fitted over at least this many decades of time."""
EXPONENT_LINEARITY_TOL = 0.02
"""A power law: no point of the window is more than this many decades of the loss off the fitted line
of ``log L`` against ``log t``. A correction ``(1 + c t^(-1/2))`` with ``c = 0.1`` at the start of the
window moves it by ``0.04`` decades; the chapter's windows start late enough to stay within this."""
SOFT_TAUS = (4e-3, 2e-3)
"""Soft-coordinate values at which ``L_eff(tau) / tau^4`` is computed; their Richardson combination
removes the ``O(tau)`` correction, leaving ``O(tau^2) ~ 1e-5`` relative."""
SOFT_FLOOR_RTOL = 1e-20
"""``L_eff`` at the ``SOFT_TAUS`` must exceed this times the zero network's loss: below it the stiff
coordinates have cancelled the loss to round-off (``1e-30`` relative), and the soft direction is
flat, not quartic. A quartic branch of the chapter gives ``1e-13`` or more there."""
QUARTIC_SPREAD_TOL = 0.05
"""The two raw values of ``L_eff / tau^4`` may differ by at most this fraction of ``K``: the
``O(tau)`` correction of a quartic is a few ``1e-3`` at the ``SOFT_TAUS``, while a sextic (``L_eff
~ tau^6``) makes them differ by a factor four."""

ROUND_OFF_RTOL = 1e-28
"""The loss is at round-off when it is at most this times the zero network's: residuals of
``1e-14`` relative, a hundred times the double-precision unit. Beyond it the gradient is noise."""

STATUS_FITTED = 0
STATUS_SHORT_WINDOW = 1
STATUS_NOT_POWER_LAW = 2
STATUS_NOT_ONE_SOFT = 3


def flow_to_limit(loss, theta0, t_eval, *, method="LSODA", rtol=1e-11, atol=1e-15):
    """The gradient flow of ``loss``, stopped once its loss is at round-off.

    A flow that converges linearly reaches ``L = 0`` to round-off at a
    finite time; after that its gradient is round-off noise, on which an
    adaptive integrator with a tight ``atol`` crawls (millions of steps for
    nothing). The run ends after the first step at which the loss is at most
    ``ROUND_OFF_RTOL`` times the zero network's; the output times after it
    repeat that state, which the flow no longer moves above round-off.

    Parameters
    ----------
    loss : NetworkLoss
    theta0 : array_like, shape (loss.size,)
    t_eval : array_like
        Output times, as for :func:`~qnb.network_flow`.
    method : {'LSODA', 'BDF', 'Radau'}
        An implicit integrator, given the exact Hessian (default LSODA).
    rtol, atol : float
        Its tolerances (defaults fit for the slow flows near degenerate
        branches, whose stiff coordinates are of order ``1e-10`` late on).

    Returns
    -------
    Result
        As :func:`~qnb.network_flow`, with ``stopped_at`` (the time at which
        the loss reached round-off, or None).
    """
    check_choice(method, "method", IMPLICIT_METHODS)
    result = network_flow(loss, theta0, t_eval, method=method, rtol=rtol, atol=atol, stop_rtol=ROUND_OFF_RTOL)
    if result.stopped_at is not None:
        result.message = (f"the loss reached round-off at t = {result.stopped_at:.3g}; "
                          "the later output times repeat that state")
    return result


def algebraic_decay_exponent(t, values, t_min, t_max):
    """The exponent ``p`` of a loss curve ``L ~ C t^(-p)`` over the times ``t_min <= t <= t_max``.

    A least-squares line through ``log10 L`` against ``log10 t`` in the window.

    Parameters
    ----------
    t : array_like, shape (m,)
        Increasing times.
    values : array_like, shape (m,)
        Positive loss values.
    t_min, t_max : float
        The window; it must span at least ``MIN_EXPONENT_DECADES`` decades.

    Returns
    -------
    Result
        ``exponent`` (``p``), ``constant`` (``C``), ``decades`` (of time
        spanned by the points in the window), ``npoints``, ``deviation``
        (largest distance of ``log10 L`` from the line), ``local_exponents``
        (``-d log L / d log t`` between neighbouring points in the window),
        ``success`` (at least ``MIN_EXPONENT_DECADES`` decades and a
        deviation within ``EXPONENT_LINEARITY_TOL``), ``status`` and
        ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.logspace(0, 6, 61)
    >>> res = algebraic_decay_exponent(t, 0.25 * t ** -2.0, 1e1, 1e5)
    >>> res.success, round(float(res.exponent), 12), round(float(res.constant), 12)
    (True, 2.0, 0.25)
    """
    t = as_array(t, "t", 1)
    values = as_array(values, "values", 1)
    if values.shape != t.shape:
        raise ValueError(f"values must have the shape of t {t.shape}, got {values.shape}")
    t_min, t_max = check_positive(t_min, "t_min"), check_positive(t_max, "t_max")
    if not t_min < t_max:
        raise ValueError(f"t_min must be < t_max, got t_min={t_min} and t_max={t_max}")
    idx = np.flatnonzero((t >= t_min) & (t <= t_max))
    if np.any(values[idx] <= 0):
        raise ValueError("values must be positive in the window")
    lt, lv = np.log10(t[idx]), np.log10(values[idx])
    decades = float(lt[-1] - lt[0]) if idx.size else 0.0
    exponent, constant, deviation, local = math.nan, math.nan, math.nan, np.zeros(0)
    if idx.size >= 3:
        slope, intercept = np.polyfit(lt, lv, 1)
        exponent, constant = -float(slope), float(10.0 ** intercept)
        deviation = float(np.max(np.abs(lv - (slope * lt + intercept))))
        local = -np.diff(lv) / np.diff(lt)
    if idx.size < 3 or decades < MIN_EXPONENT_DECADES:
        status = STATUS_SHORT_WINDOW
        message = (f"the window holds {idx.size} points over {decades:.2f} decades of time; at least "
                   f"{MIN_EXPONENT_DECADES:g} decades are needed")
    elif deviation > EXPONENT_LINEARITY_TOL:
        status = STATUS_NOT_POWER_LAW
        message = (f"log L is {deviation:.3g} decades off the fitted line (tolerance "
                   f"{EXPONENT_LINEARITY_TOL:g}): no single power law in this window")
    else:
        status = STATUS_FITTED
        message = f"L ~ {constant:.4g} t^-{exponent:.4f} over {decades:.2f} decades"
    return Result(success=status == STATUS_FITTED, status=status, message=message, exponent=exponent,
                  constant=constant, decades=decades, npoints=int(idx.size), deviation=deviation,
                  local_exponents=local)


def _effective_loss(loss, theta, soft, stiff, tau):
    """``min`` over the stiff coordinates of ``L(theta + tau soft + stiff y)``."""
    centre = theta + tau * soft
    return least_loss(loss, lambda y: centre + stiff @ y, np.zeros(stiff.shape[1]), 500)[0]


def soft_direction_law(loss, branch, theta):
    """The late-time law of the flow towards ``theta`` when the Hessian misses one normal direction.

    Parameters
    ----------
    loss : NetworkLoss
        With trained output weights, of the branch's size.
    branch : Branch
    theta : array_like
        A point of the branch (zero loss).

    Returns
    -------
    Result
        ``direction`` (the unit soft vector ``e``, sign fixed so that its
        largest entry is positive), ``quartic`` (``K``, from ``L_eff(tau) /
        tau^4`` at the two ``SOFT_TAUS`` combined by Richardson
        extrapolation), ``quartic_spread`` (relative difference of the two
        raw values: the size of the correction removed), ``exponent``
        (2.0) and ``loss_constant`` (``1 / (64 K)``, the limit of
        ``t^2 L(t)``). ``success`` is False with status 3 when the normal
        null space of the Hessian is not one-dimensional (Morse-Bott points
        have none; wider degenerate branches more than one), when ``L_eff``
        stays at round-off (``SOFT_FLOOR_RTOL``: the samples do not
        separate the branch), or when it does not grow as ``tau^4``
        (``QUARTIC_SPREAD_TOL``).
    """
    loss = check_branch_loss(loss, branch)
    theta = loss.check_theta(theta)
    hess = branch_hessian(loss, branch, theta)
    missed = branch.codimension - hess.normal_rank     # eigenvalues ascending: the zeros first
    soft, stiff = hess.normal_vectors[:, :missed], hess.normal_vectors[:, missed:]
    if soft.shape[1] != 1:
        return Result(success=False, status=STATUS_NOT_ONE_SOFT, direction=None, quartic=math.nan,
                      quartic_spread=math.nan, exponent=math.nan, loss_constant=math.nan,
                      message=f"the Hessian misses {soft.shape[1]} normal directions; the law needs exactly one")
    e = soft[:, 0] * np.sign(soft[np.argmax(np.abs(soft[:, 0])), 0])
    values = [_effective_loss(loss, theta, e, stiff, tau) for tau in SOFT_TAUS]
    raw = [v / tau ** 4 for v, tau in zip(values, SOFT_TAUS)]
    ratio = SOFT_TAUS[0] / SOFT_TAUS[1]
    quartic = (ratio * raw[1] - raw[0]) / (ratio - 1.0)     # K(tau) = K + c tau: remove c tau
    spread = abs(raw[0] - raw[1]) / max(abs(quartic), np.finfo(float).tiny)
    if not min(values) > SOFT_FLOOR_RTOL * loss.zero_network_loss():
        message = ("the loss stays at round-off along the soft direction: the samples do not "
                   "separate the branch here")
    elif not (quartic > 0 and spread <= QUARTIC_SPREAD_TOL):
        message = (f"the loss does not grow at fourth order along the soft direction (the two "
                   f"estimates of K differ by {spread:.3g} of it)")
    else:
        message = None
    if message is not None:
        return Result(success=False, status=STATUS_NOT_ONE_SOFT, direction=e, quartic=quartic,
                      quartic_spread=spread, exponent=math.nan, loss_constant=math.nan, message=message)
    return Result(success=True, status=0, message="one soft direction; L ~ 1 / (64 K t^2)", direction=e,
                  quartic=quartic, quartic_spread=spread, exponent=2.0, loss_constant=1.0 / (64.0 * quartic))


def approach_direction(branch, trajectory, theta_limit):
    """Unit vectors ``(theta(t) - theta_inf) / |theta(t) - theta_inf|`` and their parts.

    Parameters
    ----------
    branch : Branch
    trajectory : array_like, shape (T, size)
        Points of a flow.
    theta_limit : array_like, shape (size,)
        Its limit (or the projection on the branch of its last point).

    Returns
    -------
    Result
        ``distance`` (``|theta(t) - theta_inf|``), ``unit`` (shape
        ``(T, size)``), ``tangential`` (the norm of the unit vector's part
        along the branch; the rest is normal).
    """
    if not isinstance(branch, Branch):
        raise TypeError(f"branch must be a Branch, got {type(branch).__name__}")
    traj = as_array(trajectory, "trajectory", 2)
    limit = as_array(theta_limit, "theta_limit", 1)
    if traj.shape[1] != branch.size or limit.size != branch.size:
        raise ValueError(f"trajectory rows and theta_limit must have length size = {branch.size}")
    diff = traj - limit
    dist = np.linalg.norm(diff, axis=1)
    if np.any(dist == 0):
        raise ValueError("trajectory must not reach theta_limit (its direction is undefined there)")
    unit = diff / dist[:, None]
    tangential = np.linalg.norm(unit @ branch.directions, axis=1) if branch.dimension else np.zeros(len(unit))
    return Result(success=True, status=0, message="directions computed", distance=dist, unit=unit,
                  tangential=tangential)
