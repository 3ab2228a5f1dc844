"""Time stepping shared by the flows: SciPy's integrators, fixed-step descent, options and statuses.

Every flow reports how its run ended with one of the status codes below (the
values are stored in data files and tested, so they never change) and the
message of its stepper's table.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ._validation import as_times, check_choice, check_int, check_positive
from .result import Result

IMPLICIT_METHODS = ("BDF", "Radau", "LSODA")
EXPLICIT_METHODS = ("RK45", "RK23", "DOP853")
FIXED_STEP_METHOD = "gd"
MATRIX_METHODS = IMPLICIT_METHODS + EXPLICIT_METHODS + (FIXED_STEP_METHOD,)
WEIGHT_METHODS = EXPLICIT_METHODS + IMPLICIT_METHODS + (FIXED_STEP_METHOD,)

STATUS_SUCCESS = 0
STATUS_MAX_STEPS = 1
STATUS_DIVERGED = 2
STATUS_FAILED = -1

# One table per stepper; the templates are filled with str.format.
INTEGRATOR_MESSAGES = {
    STATUS_SUCCESS: "reached the final time",
    STATUS_DIVERGED: "the solution stopped being finite (divergence)",
    STATUS_FAILED: "integration failed: {reason}",
}
GD_MESSAGES = {
    STATUS_SUCCESS: "reached the final time",
    STATUS_MAX_STEPS: "max_steps={max_steps} reached before t={t:g}",
    STATUS_DIVERGED: "the iterates diverged before t={t:g}; decrease step",
}


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


def integrate(flow, y0, t_eval, method, rtol, atol, jac=None):
    """Run ``solve_ivp`` from ``t = 0``; return the states at ``t_eval`` (NaN after a failure) and a ``Result``."""
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
        status = STATUS_SUCCESS
    elif sol.status == -1:
        status = STATUS_FAILED
    else:
        status = STATUS_DIVERGED
    return states, Result(
        success=success,
        status=status,
        message=INTEGRATOR_MESSAGES[status].format(reason=sol.message),
        method=method,
        nfev=int(sol.nfev),
        njev=int(sol.njev),
        nlu=int(sol.nlu),
    )


def _step_sizes(t, target, step):
    """Steps from ``t`` to ``target``: ``step`` long, the last one shortened to land on ``target``."""
    n_full = int(np.floor((target - t) / step * (1 + 1e-12)))
    rest = target - t - n_full * step
    return [step] * n_full + ([rest] if rest > 1e-12 * max(1.0, target) else [])


def _advance(state, advance, sizes):
    for k, h in enumerate(sizes):
        state = advance(state, h)
        # Checking every step would double the cost; a diverged state
        # stays non-finite, so periodic checks catch it.
        if k % 256 == 255 and not np.all(np.isfinite(state)):
            break
    return state


def fixed_steps(state, advance, t_eval, step, max_steps):
    """Fixed-step iteration ``state <- advance(state, h)`` landing on each ``t_eval``; states and a ``Result``."""
    states = np.full((t_eval.size,) + state.shape, np.nan)
    t, nsteps, status, target = 0.0, 0, STATUS_SUCCESS, 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for i, target in enumerate(t_eval):
            sizes = _step_sizes(t, target, step)
            if nsteps + len(sizes) > max_steps:
                status = STATUS_MAX_STEPS
                break
            state = _advance(state, advance, sizes)
            nsteps += len(sizes)
            t = float(target)
            if not np.all(np.isfinite(state)):
                status = STATUS_DIVERGED
                break
            states[i] = state
    return states, Result(
        success=status == STATUS_SUCCESS,
        status=status,
        message=GD_MESSAGES[status].format(max_steps=max_steps, t=target),
        method=FIXED_STEP_METHOD,
        nsteps=nsteps,
        step=step,
    )
