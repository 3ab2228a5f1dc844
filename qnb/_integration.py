"""Time stepping shared by the flows: SciPy's integrators, fixed-step descent, options and statuses.

Every flow reports how its run ended with one of the status codes below (the
values are stored in data files and tested, so they never change) and the
message of its stepper's table.

A run that cannot go on stops at once with a failure status instead of
hanging or crashing: the integrators' callbacks check that the velocity and
the Jacobian are finite and that the integrator is making progress (LSODA
otherwise loops at ``t = 0`` for ever when its error norm overflows), an
arithmetic error inside an integrator (a step size that became NaN) is a
failure, and fixed-step descent checks that its loss does not rise above
its starting value, which a stable step never lets it do.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, Radau

from ._validation import as_times, check_choice, check_int, check_positive
from .result import Result

IMPLICIT_METHODS = ("BDF", "Radau", "LSODA")
EXPLICIT_METHODS = ("RK45", "RK23", "DOP853")
FIXED_STEP_METHOD = "gd"
MATRIX_METHODS = IMPLICIT_METHODS + EXPLICIT_METHODS + (FIXED_STEP_METHOD,)
WEIGHT_METHODS = EXPLICIT_METHODS + IMPLICIT_METHODS + (FIXED_STEP_METHOD,)
SOLVERS = {"BDF": BDF, "Radau": Radau, "LSODA": LSODA, "RK45": RK45, "RK23": RK23, "DOP853": DOP853}

STATUS_SUCCESS = 0
STATUS_MAX_STEPS = 1
STATUS_DIVERGED = 2
STATUS_FAILED = -1

# One table per stepper; the templates are filled with str.format.
INTEGRATOR_MESSAGES = {
    STATUS_SUCCESS: "reached the final time",
    STATUS_DIVERGED: "the solution stopped being finite at t={t:.3g} (divergence)",
    STATUS_FAILED: "integration failed: {reason}",
}
GD_MESSAGES = {
    STATUS_SUCCESS: "reached the final time",
    STATUS_MAX_STEPS: "max_steps={max_steps} reached before t={t:g}, which needs {needed:.3g} steps of "
                      "step={step:g}; increase step or max_steps",
    STATUS_DIVERGED: "the iterates diverged before t={t:g} ({reason}); decrease step",
}

# Evaluations of the velocity at one time, beyond those a Jacobian by differences needs
# (2 per state entry), after which an integrator counts as stuck.
_STALL_EVALUATIONS = 1000
# Slack of the fixed-step descent's check that the loss stays below its starting value:
# far above round-off (about 1e-16 relative), far below a divergence.
_LOSS_RISE_RTOL = 1e-8


def _check_step(method, step, max_steps):
    if method != FIXED_STEP_METHOD:
        return None, None
    if step is None:
        raise ValueError("step is required for method='gd' (the gradient-descent step size)")
    return check_positive(step, "step"), check_int(max_steps, "max_steps")


def solver_options(t_eval, method, allowed, rtol, atol, step, max_steps):
    """Check the options every flow shares; return them as keyword arguments of a driver."""
    method = check_choice(method, "method", allowed)
    step, max_steps = _check_step(method, step, max_steps)
    return {
        "t_eval": as_times(t_eval),
        "method": method,
        "rtol": check_positive(rtol, "rtol"),
        "atol": check_positive(atol, "atol"),
        "step": step,
        "max_steps": max_steps,
    }


class _Stop(Exception):
    """Raised in an integrator's callback to end a run that cannot go on, with its status and reason."""

    def __init__(self, status, t, reason=""):
        super().__init__(reason)
        self.status, self.t, self.reason = status, float(t), reason


class _CheckedField:
    """The velocity and Jacobian as an integrator calls them, with the checks that stop a hopeless run.

    A non-finite velocity or Jacobian (a non-finite state gives one) ends the
    run as diverged. A run whose integrator keeps evaluating the velocity
    at one time has a step size that underflowed, usually because the
    state or the velocity is too large for the error norm at the given
    tolerances; it ends as failed. ``raised`` records that a callback itself
    raised, so that its error is told apart from one of the integrator's
    arithmetic.
    """

    def __init__(self, rhs, jac, size):
        self._rhs, self._jac = rhs, jac
        self.max_repeats = _STALL_EVALUATIONS + 2 * size
        self.t, self.repeats = None, 0
        self.raised = False
        self._ones = np.ones(size)

    def finite(self, v):
        """Whether the vector ``v`` is finite.

        Its sum, as a dot product with ones: NaN and inf propagate, and this
        costs half of ``np.isfinite(v).all()`` on the small states of the
        flows, where the check runs at every evaluation. Finite entries whose
        sum overflows (beyond about 1e308) also count as non-finite; the
        next step would overflow anyway.
        """
        return math.isfinite(v.dot(self._ones))

    def rhs(self, t, y):
        if t == self.t:
            self.repeats += 1
            if self.repeats > self.max_repeats:
                raise _Stop(STATUS_FAILED, t, f"no progress at t={t:.3g} after {self.repeats} evaluations of "
                                              "the velocity (the step size underflows: the state or its "
                                              "velocity is too large for double precision at these tolerances)")
        else:
            self.t, self.repeats = t, 0
        try:
            f = self._rhs(t, y)
        except Exception:
            self.raised = True
            raise
        if not self.finite(f):
            raise _Stop(STATUS_DIVERGED, t)
        return f

    def jac(self, t, y):
        try:
            J = self._jac(t, y)
        except Exception:
            self.raised = True
            raise
        if not np.isfinite(J).all():
            raise _Stop(STATUS_DIVERGED, t)
        return J


def _march(solver, field, t_eval, states, stop=None):
    """Step ``solver`` to its end, writing ``states`` at the ``t_eval`` it passes; status, last time, reason.

    The same steps and interpolants as :func:`scipy.integrate.solve_ivp`,
    so the same numbers, but the outputs reached before a failure are kept.
    With ``stop``, a step after which ``stop(y)`` holds ends the run: the
    outputs not reached yet repeat that state, and the reason is ``"stopped"``.
    """
    filled = 0
    while solver.status == "running":
        message = solver.step()
        if solver.status == "failed":
            return STATUS_FAILED, solver.t, message
        reached = int(np.searchsorted(t_eval, solver.t, side="right"))
        if reached > filled:
            states[filled:reached] = solver.dense_output()(t_eval[filled:reached]).T
            filled = reached
        if not field.finite(solver.y):
            return STATUS_DIVERGED, solver.t, ""
        if stop is not None and stop(solver.y):
            states[filled:] = solver.y
            return STATUS_SUCCESS, solver.t, "stopped"
    return STATUS_SUCCESS, solver.t, ""


def integrate(flow, y0, t_eval, method, rtol, atol, jac=None, stop=None):
    """Solve ``dy/dt = flow(t, y)`` from ``t = 0``: the states at ``t_eval`` (NaN after a failure), a ``Result``.

    Never hangs and never raises for a run that breaks down numerically:
    such a run ends with ``STATUS_DIVERGED`` or ``STATUS_FAILED`` and a
    message saying where and why (see :class:`_CheckedField`). With
    ``stop`` (a predicate on the state), the run ends after the first step
    at which it holds; the ``Result`` then has ``stopped_at``, that step's
    time (None when the run went to the end).
    """
    field = _CheckedField(flow, jac, y0.size)
    options = {"jac": field.jac} if jac is not None and method in IMPLICIT_METHODS else {}
    states = np.full((t_eval.size, y0.size), np.nan)
    solver = None
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            solver = SOLVERS[method](field.rhs, 0.0, y0, float(t_eval[-1]), rtol=rtol, atol=atol, **options)
            status, t, reason = _march(solver, field, t_eval, states, stop)
        except _Stop as halt:
            status, t, reason = halt.status, halt.t, halt.reason
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as err:
            if field.raised:  # raised by the flow itself: a bug to see, not a numerical breakdown
                raise
            t = solver.t if solver is not None else 0.0
            status, reason = STATUS_FAILED, f"the integrator's arithmetic broke down at t={t:.3g} ({err})"
    if status == STATUS_SUCCESS and not np.isfinite(states).all():
        status, t = STATUS_DIVERGED, float(t_eval[np.argmin(np.isfinite(states).all(axis=1))])
    result = Result(
        success=status == STATUS_SUCCESS,
        status=status,
        message=INTEGRATOR_MESSAGES[status].format(t=t, reason=reason),
        method=method,
        **{count: int(getattr(solver, count, 0)) for count in ("nfev", "njev", "nlu")},
    )
    if stop is not None:
        result["stopped_at"] = float(t) if status == STATUS_SUCCESS and reason == "stopped" else None
    return states, result


def _steps_to(t, target, step, budget):
    """``(n_full, rest)``: full steps of ``step`` from ``t`` to ``target`` and a shortened last one (0.0 if none).

    ``None`` when that is more than ``budget`` steps; the count is checked
    before any step is taken, so a tiny ``step`` costs nothing.
    """
    full = np.floor((target - t) / step * (1 + 1e-12))
    if not full <= budget:  # also when the count overflowed to inf
        return None
    n_full = int(full)
    rest = target - t - n_full * step
    rest = rest if rest > 1e-12 * max(1.0, target) else 0.0
    return (n_full, rest) if n_full + (rest > 0) <= budget else None


def loss_ceiling(start, at_zero):
    """The highest loss a stable descent from a start of loss ``start`` may show: above it, it diverged.

    ``at_zero`` is the loss at the zero state; the slack scales with it too, for a
    start at a minimizer (round-off there).
    """
    return start + _LOSS_RISE_RTOL * (start + at_zero)


def _divergence_check(loss, state):
    """``check(state)``: why the iterates diverged, or ``''`` when they did not.

    They diverged when an entry is not finite or the loss rose above its
    starting value: a stable step lowers the loss at every step, as the flow
    does, so a rise means the step is too large, before the iterates overflow.
    """
    start = loss(state)
    ceiling = loss_ceiling(start, loss(np.zeros_like(state)))

    def check(current):
        if not np.isfinite(current).all():
            return "non-finite iterates"
        value = loss(current)
        return "" if value <= ceiling else f"the loss rose to {value:.3g}, above its starting value {start:.3g}"

    return check


def _advance(state, advance, step, n_full, rest, check):
    """``n_full`` steps of ``step`` and one of ``rest`` (if any); the state and why it diverged (``''`` if not)."""
    for k in range(n_full):
        state = advance(state, step)
        # Checking every step would double the cost; a diverged state stays
        # non-finite or its loss high, so periodic checks catch it.
        if k % 256 == 255 and (reason := check(state)):
            return state, reason
    if rest:
        state = advance(state, rest)
    return state, check(state)


def fixed_steps(state, advance, t_eval, step, max_steps, loss):
    """Fixed-step descent ``state <- advance(state, h)`` landing on each ``t_eval``; states and a ``Result``.

    ``loss(state)`` is the loss the steps descend; a rise above its starting
    value is reported as divergence (see ``_divergence_check``).
    """
    states = np.full((t_eval.size,) + state.shape, np.nan)
    t, nsteps, status, target, reason = 0.0, 0, STATUS_SUCCESS, 0.0, ""
    with np.errstate(over="ignore", invalid="ignore"):
        check = _divergence_check(loss, state)
        for i, target in enumerate(t_eval):
            planned = _steps_to(t, target, step, max_steps - nsteps)
            if planned is None:
                status = STATUS_MAX_STEPS
                break
            state, reason = _advance(state, advance, step, *planned, check)
            nsteps += planned[0] + (planned[1] > 0)
            t = float(target)
            if reason:
                status = STATUS_DIVERGED
                break
            states[i] = state
    return states, Result(
        success=status == STATUS_SUCCESS,
        status=status,
        message=GD_MESSAGES[status].format(max_steps=max_steps, t=target, step=step, reason=reason,
                                           needed=nsteps + (target - t) / step),
        method=FIXED_STEP_METHOD,
        nsteps=nsteps,
        step=step,
    )
