"""Does gradient descent from every random start reach a global minimum? (seed 003, Figs. 2-4).

The experiments of Soltanolkotabi, Javanmard and Lee's numerical section,
on the weight-space network of :mod:`qnb.two_layer`: a planted teacher
``y = sum_j sigma(w*_j . x)`` (``W*`` with i.i.d. ``N(0, 1)`` entries, output
weights all one, as many units as the student), standard Gaussian inputs,
and a student that trains ``W`` and ``v`` from random starts (``v``
Rademacher, ``W`` i.i.d. ``N(0, 1)`` like the teacher:
:meth:`NetworkLoss.random_start` with scale ``sqrt(d)``). The teacher has zero
loss, so the global minimum is 0 and "a global minimum was reached" means
"the loss went to zero", to the tolerance ``REACHED_ZERO_RTOL``.

One instance (teacher and data) counts as *every start reached a global
minimum* when each of its starts ends at zero loss. How one start ends
(:data:`OUTCOMES`):

* gradient descent (:func:`qnb.two_layer.gradient_descent`, with a step set
  by the curvature at the start, halved on divergence) runs until the loss is
  below ``REACHED_ZERO_RTOL`` times the zero network's loss (a global minimum
  reached, to that tolerance), or the gradient is small (``DESCENT_GTOL``),
  or ``max_steps``;
* a small gradient at positive loss is refined to the stationary point it
  approaches (:func:`qnb.two_layer.polish_stationary_point`) and classified
  by the exact Hessian (:meth:`qnb.two_layer.NetworkLoss.stationarity`): zero
  loss after all, a local minimum (Hessian PSD; for the quadratic activation
  also *certified*, i.e. a strict minimum off the symmetry fibre), or a
  saddle;
* ``max_steps`` reached, divergence at every step tried, or a refinement that
  does not end at a stationary point are outcomes of their own: "not shown to
  reach a global minimum", never a success, and reported separately.

An instance stops at its first start that does not reach zero loss (its
verdict is then "not every start"); the later starts are recorded as
skipped. With a finite budget the verdict reads "every start reached zero
loss within ``max_steps``": a larger budget can only turn failures into
successes, so the probability it estimates grows with ``max_steps``.

:func:`logistic_fit` fits ``P(every start global) = 1 / (1 + exp(-s (x - c)))``
to the instance-level outcomes by maximum likelihood and gives the crossing
``c`` of 1/2 with a standard error and a bootstrap interval over instances.
:func:`random_label_curves` is Fig. 4: gradient descent on random labels.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.special import expit, log_expit

from ._sweep import STATUS_ALL_SUCCEEDED, STATUS_SOME_FAILED, check_root_seed, run_sweep
from ._sweep import STATUS_RAISED, STATUS_TIMED_OUT, STATUS_WORKER_LOST  # noqa: F401  (statuses here too)
from ._validation import as_real, as_rng, check_choice, check_int
from .data import instance_rng
from .result import Result
from .two_layer import (ACTIVATIONS, STATUS_CONVERGED, STATUS_DIVERGED, Activation, NetworkLoss, gradient_descent,
                        polish_stationary_point)

# --- tolerances and step rule, named once --------------------------------------------------------

STEP_FRACTION = 0.5
"""The step is ``STEP_FRACTION / lambda_max`` with ``lambda_max`` the largest Hessian eigenvalue at
the start, which the data and the start's scale set: gradient descent on a quadratic is stable
below ``2 / lambda_max``, and the factor 4 leaves room for the curvature to grow along the path.
The start's hidden weights have the teacher's law, so the curvature near a fit is of the same
size as at the start; a run that still diverges is retried with half the step."""
MAX_HALVINGS = 3
"""A run that diverges is restarted from its start with half the step, at most this many times;
then its outcome is ``OUTCOME_DIVERGED``."""
DESCENT_GTOL = 1e-6
"""Gradient descent stops when ``||grad L|| <= DESCENT_GTOL * g0``, ``g0`` the gradient scale
(:meth:`NetworkLoss.gradient_scale`) at the start. From there the Newton-type refinement
(:func:`qnb.two_layer.polish_stationary_point`) reaches the stationary point that gradient descent
approaches, whose rate there, ``step * lambda_min``, would need orders of magnitude more steps;
the stationarity report then uses ``qnb.two_layer.GTOL``, three decades tighter."""
REACHED_ZERO_RTOL = 1e-6
"""A run has reached a global minimum once its loss is at most ``REACHED_ZERO_RTOL`` times the zero
network's (residuals about 0.1 % of the labels' root mean square). Gradient descent approaches the
zero-loss set only sublinearly where it is degenerate (a quadratic unit whose output weight must
change sign, more units than the data pin down), so driving the loss to the round-off level
(``qnb.two_layer.ZERO_LOSS_RTOL``) is out of reach of a fixed budget. The spurious local minima
found in the stored runs (``book/data/global_convergence.npz``) sit at 3e-4 and above, more than
two decades higher."""
CHUNK_STEPS = 500
"""Gradient descent runs in chunks of this many steps; the loss is compared with zero between
chunks (so a run that reaches zero loss stops within this many steps of it)."""
DEFAULT_MAX_STEPS = 20_000
"""Default cap on gradient-descent steps per start (about a second at the book's sizes)."""
RANDOM_LABEL_GTOL = 1e-300
"""The random-label curves run a fixed number of steps: a gradient tolerance that never stops them."""

# --- outcomes of one start ------------------------------------------------------------------------

OUTCOME_GLOBAL = 0
OUTCOME_LOCAL_MIN = 1
OUTCOME_SADDLE = 2
OUTCOME_MAX_STEPS = 3
OUTCOME_DIVERGED = 4
OUTCOME_UNRESOLVED = 5
OUTCOME_SKIPPED = -1
OUTCOMES = {
    OUTCOME_GLOBAL: "zero loss (a global minimum)",
    OUTCOME_LOCAL_MIN: "stationary at positive loss, Hessian positive semidefinite (a spurious local minimum)",
    OUTCOME_SADDLE: "stationary at positive loss with a negative Hessian eigenvalue (stalled at a saddle)",
    OUTCOME_MAX_STEPS: "not converged: max_steps reached with the gradient above tolerance",
    OUTCOME_DIVERGED: "diverged at every step size tried",
    OUTCOME_UNRESOLVED: "small gradient, but the refinement did not end at a stationary point",
    OUTCOME_SKIPPED: "not run: an earlier start of this instance did not reach zero loss",
}
"""What each start's ``outcome`` code means. Codes 0-2 are decided; 3-5 are not."""
OUTCOME_NAMES = {OUTCOME_GLOBAL: "global", OUTCOME_LOCAL_MIN: "local_min", OUTCOME_SADDLE: "saddle",
                 OUTCOME_MAX_STEPS: "max_steps", OUTCOME_DIVERGED: "diverged", OUTCOME_UNRESOLVED: "unresolved",
                 OUTCOME_SKIPPED: "skipped"}
"""Short names of the outcome codes (the keys of ``outcome_counts``)."""
DECIDED = (OUTCOME_GLOBAL, OUTCOME_LOCAL_MIN, OUTCOME_SADDLE)

# Status of one instance (instance_status).
STATUS_DECIDED = 0
STATUS_UNDECIDED = 1
INSTANCE_MESSAGES = {
    STATUS_DECIDED: "every start reached zero loss",
    STATUS_UNDECIDED: "start {start}: {outcome}",
}
MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} instances decided",
    STATUS_SOME_FAILED: "{failed} of {total} instances undecided (counted as not every start global): {details}",
}

# Status of logistic_fit.
FIT_CONVERGED = 0
FIT_SEPARATED = 1
FIT_CONSTANT = 2
FIT_FAILED = 3
FIT_MESSAGES = {
    FIT_CONVERGED: "maximum-likelihood fit converged",
    FIT_SEPARATED: "the outcomes are separated by x (no finite maximum-likelihood slope); the "
                   "crossing is the midpoint of the gap",
    FIT_CONSTANT: "every outcome is {value}: no crossing",
    FIT_FAILED: "the optimizer did not converge: {detail}",
}


# --- one run --------------------------------------------------------------------------------------

def stable_step(loss, theta0):
    """``STEP_FRACTION / lambda_max(Hess L(theta0))``: the step of every run (see ``STEP_FRACTION``)."""
    return STEP_FRACTION / float(np.linalg.eigvalsh(loss.hessian(theta0))[-1])


def _descend(loss, theta, step, max_steps):
    """Gradient descent in chunks until the loss is below ``REACHED_ZERO_RTOL`` (relative), the
    gradient is small, divergence or ``max_steps``; ``(status, theta, nsteps)``."""
    gtol = DESCENT_GTOL * loss.gradient_scale(theta)
    reached = REACHED_ZERO_RTOL * loss.zero_network_loss()
    nsteps = 0
    while True:
        res = gradient_descent(loss, theta, step, gtol=gtol, max_steps=min(CHUNK_STEPS, max_steps - nsteps),
                               record_every=CHUNK_STEPS)
        nsteps += res.nsteps
        theta = res.theta
        if res.status in (STATUS_CONVERGED, STATUS_DIVERGED) or res.loss <= reached or nsteps >= max_steps:
            return res.status, theta, nsteps


def descend_with_halving(loss, theta0, max_steps):
    """Gradient descent from ``theta0``, step halved on divergence.

    Returns ``(status, theta, nsteps, step, halvings)``.
    """
    step = stable_step(loss, theta0)
    for halvings in range(MAX_HALVINGS + 1):
        status, theta, nsteps = _descend(loss, theta0, step, max_steps)
        if status != STATUS_DIVERGED:
            break
        step /= 2
    return status, theta, nsteps, step, halvings


def classify_end(loss, theta, status, max_steps_reached):
    """The outcome of a run that stopped at ``theta`` and the stationarity report used (or None)."""
    if status == STATUS_DIVERGED:
        return OUTCOME_DIVERGED, None
    if loss.value(theta) <= REACHED_ZERO_RTOL * loss.zero_network_loss():
        return OUTCOME_GLOBAL, None
    if status != STATUS_CONVERGED and max_steps_reached:
        return OUTCOME_MAX_STEPS, None
    # A small gradient at positive loss: find the stationary point it approaches and look at it.
    report = loss.stationarity(polish_stationary_point(loss, theta))
    if report.zero_loss:
        return OUTCOME_GLOBAL, report
    if not report.stationary:
        return OUTCOME_UNRESOLVED, report
    return (OUTCOME_SADDLE if report.negative else OUTCOME_LOCAL_MIN), report


def run_start(loss, theta0, max_steps=DEFAULT_MAX_STEPS):
    """Gradient descent from ``theta0`` and the classification of where it ends.

    Returns
    -------
    Result
        ``outcome`` (a key of :data:`OUTCOMES`), ``success`` (the outcome is
        decided, codes 0-2), ``status`` (= ``outcome``), ``message``,
        ``loss`` (at the end point, or at the refined stationary point when
        one was computed), ``relative_loss`` (to the zero network's), ``nsteps``,
        ``step``, ``halvings``, ``min_eigenvalue`` (relative to the largest
        eigenvalue's modulus, NaN when no report was needed), ``negative``
        (count, -1 without report) and ``certified`` (1 or 0 for a certified
        local minimum of the quadratic activation; -1 when not applicable).
    """
    max_steps = check_int(max_steps, "max_steps")
    status, theta, nsteps, step, halvings = descend_with_halving(loss, theta0, max_steps)
    outcome, report = classify_end(loss, theta, status, nsteps >= max_steps)
    rel_eig, negative, certified = math.nan, -1, -1
    value = loss.value(theta) if np.all(np.isfinite(theta)) else math.nan
    if report is not None:  # the refined point's loss and Hessian
        lam = report.eigenvalues
        rel_eig = float(lam[0] / np.max(np.abs(lam)))
        negative = int(report.negative)
        certified = -1 if report.certified_minimum is None else int(report.certified_minimum)
        value = report.loss
    return Result(success=outcome in DECIDED, status=outcome, message=OUTCOMES[outcome], outcome=outcome,
                  loss=value, relative_loss=value / loss.zero_network_loss(), nsteps=nsteps, step=step,
                  halvings=halvings, min_eigenvalue=rel_eig, negative=negative,
                  certified=certified)


# --- one instance ---------------------------------------------------------------------------------

def planted_instance(activation, d, n, k, seed, instance, beta=None):
    """The teacher ``W*``, inputs ``X`` and labels ``y`` of one instance of a sweep.

    Drawn from :func:`qnb.instance_rng` ``(seed, d, n, k, instance, 0)``: ``W*``
    (``k x d``, i.i.d. ``N(0, 1)``), then ``X`` (``n x d``, i.i.d. ``N(0, 1)``);
    ``y = sigma(X W*^T) 1``. Start ``s`` of the instance is drawn from key
    ``(seed, d, n, k, instance, 1 + s)`` (:func:`start_point`).
    """
    rng = instance_rng(seed, d, n, k, instance, 0)
    W_star = rng.standard_normal((k, d))
    X = rng.standard_normal((n, d))
    y = Activation(activation, beta)(X @ W_star.T).sum(axis=1)
    return W_star, X, y


def start_point(loss, seed, instance, start):
    """Start ``start`` of an instance: Rademacher ``v`` and ``W`` i.i.d. ``N(0, 1)``.

    :meth:`NetworkLoss.random_start` with scale ``sqrt(d)``, from
    :func:`qnb.instance_rng` ``(seed, d, n, k, instance, 1 + start)``.
    """
    rng = instance_rng(seed, loss.d, loss.n, loss.k, instance, 1 + start)
    return loss.random_start(rng, scale=math.sqrt(loss.d))


def run_instance(activation, d, n, k, instance, starts, *, rng=0, beta=None, max_steps=DEFAULT_MAX_STEPS):
    """Instance ``instance`` of a sweep with root seed ``rng``, alone: its starts and its verdict.

    The same computation as one instance of :func:`global_convergence_probability`
    (whose record it returns, as a :class:`qnb.Result`), so a stored instance
    can be regenerated without the rest of its sweep.

    Examples
    --------
    >>> res = run_instance("quadratic", 3, 12, 1, 0, 2, rng=1)
    >>> res.outcome.shape, res.success
    ((2,), True)
    """
    activation = check_choice(activation, "activation", ACTIVATIONS)
    if beta is not None:
        beta = Activation(activation, beta).beta
    task = {"activation": activation, "beta": beta, "d": check_int(d, "d"), "n": check_int(n, "n"),
            "k": check_int(k, "k"), "instance": check_int(instance, "instance", minimum=0),
            "starts": check_int(starts, "starts"), "seed": check_root_seed(rng),
            "max_steps": check_int(max_steps, "max_steps")}
    return Result(_instance(task))


def _instance(task):
    """All starts of one instance, stopping at the first that does not reach zero loss."""
    W_star, X, y = planted_instance(task["activation"], task["d"], task["n"], task["k"], task["seed"],
                                    task["instance"], task["beta"])
    loss = NetworkLoss(X, y, task["activation"], k=task["k"], beta=task["beta"])
    record = _blank(task)
    status, message = STATUS_DECIDED, INSTANCE_MESSAGES[STATUS_DECIDED]
    for s in range(task["starts"]):
        began = time.perf_counter()
        res = run_start(loss, start_point(loss, task["seed"], task["instance"], s), task["max_steps"])
        record["run_seconds"][s] = time.perf_counter() - began
        for key in PER_START[:-1]:
            record[key][s] = res[key]
        if res.outcome != OUTCOME_GLOBAL:
            if not res.success:
                status = STATUS_UNDECIDED
                message = INSTANCE_MESSAGES[status].format(start=s, outcome=res.message)
            else:
                message = f"start {s}: {res.message}"
            break
    record["all_global"] = bool(np.all(record["outcome"] == OUTCOME_GLOBAL))
    return record | {"success": status == STATUS_DECIDED, "status": status, "message": message}


def _blank(task):
    """Per-start fields of an instance with no result: outcome -1 (skipped), NaN, -1."""
    s = task["starts"]
    return {"all_global": False, "outcome": np.full(s, OUTCOME_SKIPPED), "loss": np.full(s, np.nan),
            "relative_loss": np.full(s, np.nan), "nsteps": np.full(s, -1), "step": np.full(s, np.nan),
            "halvings": np.full(s, -1), "min_eigenvalue": np.full(s, np.nan), "negative": np.full(s, -1),
            "certified": np.full(s, -1), "run_seconds": np.full(s, np.nan)}


def _sizes(values, name):
    """An int or a 1-D sequence of distinct ints >= 1, as an int array."""
    if isinstance(values, (str, bytes)) or np.ndim(values) > 1:
        raise TypeError(f"{name} must be an integer or a 1-D sequence of integers, got {type(values).__name__}")
    items = [values] if np.ndim(values) == 0 else list(np.asarray(values, dtype=object))
    if not items:
        raise ValueError(f"{name} must not be empty")
    items = [check_int(v, f"{name} entry") for v in items]
    if len(set(items)) != len(items):
        raise ValueError(f"{name} must not repeat a value, got {items}")
    return np.array(items, dtype=int)


PER_START = ("outcome", "loss", "relative_loss", "nsteps", "step", "halvings", "min_eigenvalue",
             "negative", "certified", "run_seconds")
"""Fields of :func:`global_convergence_probability` with one entry per start."""


def global_convergence_probability(activation, d, n, k, instances, starts, *, rng=0, beta=None,
                                   max_steps=DEFAULT_MAX_STEPS, executor=None, checkpoint=None,
                                   progress=False, instance_timeout=None):
    """Empirical probability that every random start of gradient descent reaches a global minimum.

    For every sample size in ``n``, width in ``k`` and ``instance`` in
    ``range(instances)``: a planted instance (:func:`planted_instance`), then
    up to ``starts`` runs of gradient descent on :class:`qnb.two_layer.NetworkLoss`
    (``W`` and ``v`` trained) from random starts (:func:`start_point`), each
    classified by :func:`run_start`. Instances are independent draws for each
    ``(n, k)``; any slice of a sweep regenerates alone.

    Parameters
    ----------
    activation : {'softplus', 'quadratic', ...}
        One of :data:`qnb.two_layer.ACTIVATIONS`.
    d : int
        Input dimension.
    n, k : int or sequence of int
        Sample sizes and widths (teacher and student); either may be varied.
    instances : int
        Instances (teacher and data) per ``(n, k)``.
    starts : int
        Random starts per instance.
    rng : None, int or numpy.random.Generator
        Root seed (default 0); returned as ``seed``.
    beta : float, optional
        Slope of softplus (default 1).
    max_steps : int
        Cap on gradient-descent steps per start.
    executor, checkpoint, progress, instance_timeout
        As in :func:`qnb.gd_loss_curves` (the sweep engine's options).

    Returns
    -------
    Result
        ``n_values``, ``k_values``; ``all_global`` (bool, shape
        ``(len(n), len(k), instances)``: every start reached zero loss);
        ``probability`` (its mean over instances, shape ``(len(n), len(k))``);
        ``undecided`` (instances whose first non-global start was not
        classified); per start, shape ``(len(n), len(k), instances, starts)``:
        ``outcome`` (:data:`OUTCOMES`), ``loss``, ``relative_loss``, ``nsteps``,
        ``step``, ``halvings``, ``min_eigenvalue``, ``negative``, ``certified``,
        ``run_seconds``; ``outcome_counts`` (from :data:`OUTCOME_NAMES` to counts);
        the sweep's ``success`` (every instance decided), ``status``,
        ``message``, ``instance_success``, ``instance_status``,
        ``instance_seconds``, ``n_failed``, ``n_loaded``; and the parameters.

    Examples
    --------
    >>> res = global_convergence_probability("quadratic", 3, 12, [1, 3], 2, 2, rng=1, executor="serial")
    >>> res.all_global.shape, res.outcome.shape
    ((1, 2, 2), (1, 2, 2, 2))
    """
    activation = check_choice(activation, "activation", ACTIVATIONS)
    if beta is not None:
        beta = Activation(activation, beta).beta  # checks that beta belongs to the activation
    d = check_int(d, "d")
    n_values, k_values = _sizes(n, "n"), _sizes(k, "k")
    instances, starts = check_int(instances, "instances"), check_int(starts, "starts")
    max_steps = check_int(max_steps, "max_steps")
    seed = check_root_seed(rng)
    params = {"activation": activation, "beta": beta, "d": d, "seed": seed, "starts": starts,
              "max_steps": max_steps}
    tasks = [params | {"n": int(nn), "k": int(kk), "instance": i}
             for nn in n_values for kk in k_values for i in range(instances)]
    shape = (n_values.size, k_values.size, instances)
    records = run_sweep("global_convergence", _instance, tasks, index=("n", "k", "instance"),
                        executor=executor, checkpoint=checkpoint, progress=progress, unit="instances",
                        label=f"global_convergence({activation}, d={d}, seed={seed})",
                        instance_timeout=instance_timeout, blank=_blank,
                        drawn_seed=seed if rng is None else None)
    out = Result(**records.summary(shape, MESSAGES))
    all_global = records.array("all_global", shape, bool)
    per_start = {key: records.array(key, shape) for key in PER_START}
    counts = {name: int(np.sum(per_start["outcome"] == c)) for c, name in OUTCOME_NAMES.items()}
    return Result(out, **per_start, all_global=all_global, probability=all_global.mean(axis=-1),
                  undecided=out.instance_status != STATUS_DECIDED, outcome_counts=counts,
                  n_values=n_values, k_values=k_values, instances=instances, **params)


# --- the logistic model ---------------------------------------------------------------------------

FIT_ITERATIONS = 100
"""Newton iterations of the logistic fit (it converges in under ten when the maximum exists)."""
FIT_GTOL = 1e-10
"""The fit has converged when the score (gradient of the log-likelihood in the standardised
variable) is below ``FIT_GTOL`` times the number of outcomes."""


def _log_likelihood(a, b, u, y):
    z = a + b * u
    return float(np.sum(y * log_expit(z) + (1 - y) * log_expit(-z)))


def _fisher(a, b, u):
    """The information matrix of the logistic model in ``(a, b)`` at the points ``u``."""
    p = expit(a + b * u)
    w = p * (1 - p)
    return np.array([[np.sum(w), np.sum(w * u)], [np.sum(w * u), np.sum(w * u * u)]])


def _separated(x, y):
    """``(lo, hi)``, the gap between the two classes when ``x`` separates them, else None."""
    zeros, ones = x[y == 0], x[y == 1]
    if zeros.max() < ones.min():
        return zeros.max(), ones.min()
    if ones.max() < zeros.min():
        return ones.max(), zeros.min()
    return None


def _fit_once(x, y):
    """``(status, intercept, slope, detail)`` of the maximum-likelihood logistic fit of ``y`` on ``x``.

    Newton's method (the log-likelihood is concave) with step halving, in the
    standardised variable ``u = (x - mean) / std`` so that the iteration is
    well conditioned whatever the units of ``x``.
    """
    if np.all(y == y[0]):
        return FIT_CONSTANT, math.nan, math.nan, {"value": int(y[0])}
    if _separated(x, y) is not None:
        return FIT_SEPARATED, math.nan, math.nan, {}
    mu, sd = float(x.mean()), float(x.std())
    u = (x - mu) / sd
    a = b = 0.0
    value = _log_likelihood(a, b, u, y)
    for _ in range(FIT_ITERATIONS):
        r = y - expit(a + b * u)
        score = np.array([np.sum(r), np.sum(r * u)])
        if np.max(np.abs(score)) <= FIT_GTOL * y.size:
            return FIT_CONVERGED, a - b * mu / sd, b / sd, {}
        da, db = np.linalg.solve(_fisher(a, b, u), score)
        t = 1.0
        while _log_likelihood(a + t * da, b + t * db, u, y) < value and t > 1e-8:
            t /= 2
        a, b = a + t * da, b + t * db
        value = _log_likelihood(a, b, u, y)
    return FIT_FAILED, math.nan, math.nan, {"detail": f"score above tolerance after {FIT_ITERATIONS} iterations"}


def logistic_fit(x, outcomes, *, bootstrap=200, rng=0):
    """Maximum-likelihood logistic model ``P(outcome = 1 | x) = 1 / (1 + exp(-(a + b x)))``.

    Parameters
    ----------
    x : array_like
        The varied variable, one entry per instance (e.g. ``k`` repeated for
        each instance).
    outcomes : array_like of bool or 0/1
        Instance-level outcomes, same shape as ``x``.
    bootstrap : int
        Resamples (instances drawn with replacement within each value of
        ``x``, so every design point keeps its count) for the percentile
        interval of the crossing; 0 for none.
    rng : None, int or Generator
        Seed of the resampling (default 0: a deterministic interval).

    Returns
    -------
    Result
        ``crossing`` (``c = -a / b``, where the model is 1/2), ``slope`` (``b``),
        ``intercept`` (``a``), ``crossing_se`` (standard error of ``c`` from the
        Fisher information, delta method; it blows up when the outcomes are
        nearly separated, only one value of ``x`` being mixed, because the
        slope is then barely bounded: prefer ``interval`` there),
        ``interval`` (2.5 and 97.5 percentiles of the bootstrap crossings;
        NaN without bootstrap),
        ``bootstrap_crossings``; ``success`` (the fit converged), ``status``
        (``FIT_CONVERGED``, ``FIT_SEPARATED``: the outcomes jump from all 0 to
        all 1 between two values of ``x``, the crossing is their midpoint, the
        slope infinite and the standard error half the gap; ``FIT_CONSTANT``;
        ``FIT_FAILED``) and ``message``.

    Examples
    --------
    >>> x = [1, 1, 2, 2, 3, 3, 4, 4]
    >>> fit = logistic_fit(x, [0, 0, 0, 1, 0, 1, 1, 1], bootstrap=0)
    >>> fit.success, round(fit.crossing, 6)
    (True, 2.5)
    """
    x = as_real(x, "x").ravel()
    y = as_real(outcomes, "outcomes").ravel()
    if x.size != y.size:
        raise ValueError(f"x and outcomes must have the same size, got {x.size} and {y.size}")
    if x.size < 2:
        raise ValueError(f"x must have at least 2 entries, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite entries")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("outcomes must be 0 or 1 (or booleans)")
    if isinstance(bootstrap, (bool, np.bool_)):
        raise TypeError("bootstrap must be an integer, got bool")
    bootstrap = check_int(bootstrap, "bootstrap", minimum=0)
    status, a, b, detail = _fit_once(x, y)
    crossing, se = math.nan, math.nan
    if status == FIT_CONVERGED:
        crossing = -a / b
        # Delta method on c = -a / b with the inverse information in (a, b).
        cov = np.linalg.inv(_fisher(a, b, x))
        grad = np.array([-1 / b, a / b**2])
        se = float(math.sqrt(grad @ cov @ grad))
    elif status == FIT_SEPARATED:
        lo, hi = _separated(x, y)
        crossing, se, b = (lo + hi) / 2, (hi - lo) / 2, math.inf
    crossings = _bootstrap(x, y, bootstrap, as_rng(rng))
    interval = (np.percentile(crossings, [2.5, 97.5]) if crossings.size else np.full(2, np.nan))
    return Result(success=status == FIT_CONVERGED, status=status, message=FIT_MESSAGES[status].format(**detail),
                  crossing=float(crossing), slope=float(b), intercept=float(a), crossing_se=se,
                  interval=interval, bootstrap_crossings=crossings)


def _bootstrap(x, y, count, rng):
    """Crossings of ``count`` stratified resamples (separated ones at their midpoint; constant ones dropped)."""
    groups = [np.flatnonzero(x == value) for value in np.unique(x)]
    out = []
    for _ in range(count):
        idx = np.concatenate([rng.choice(g, g.size) for g in groups])
        xs, ys = x[idx], y[idx]
        status, a, b, _ = _fit_once(xs, ys)
        if status == FIT_CONVERGED:
            out.append(-a / b)
        elif status == FIT_SEPARATED:
            out.append(sum(_separated(xs, ys)) / 2)
    return np.array(out)


# --- Fig. 4: random labels ------------------------------------------------------------------------

def random_label_curves(d, n, k_values, steps, *, rng=0, record_every=10, beta=None):
    """Gradient descent on i.i.d. Gaussian features and labels for several widths (the seed's Fig. 4).

    ``X`` (``n x d``) and ``y`` (``n``) are i.i.d. ``N(0, 1)``, drawn once from
    :func:`qnb.instance_rng` ``(seed, d, n, 0)``; the network (softplus, ``W``
    and ``v`` trained) of width ``k`` starts from
    :meth:`qnb.two_layer.NetworkLoss.random_start` with its default scale
    (Rademacher ``v``, ``W`` i.i.d. ``N(0, 1/d)``: there is no teacher whose
    scale to copy, and units of norm one keep the softplus out of its linear
    tails), drawn from key ``(seed, d, n, k, 1)``, and runs ``steps`` steps of
    gradient descent with the step of :func:`stable_step` (halved on
    divergence, as in :func:`run_start`).

    Parameters
    ----------
    d, n : int
        Input dimension and number of samples.
    k_values : int or sequence of int
        Widths, one run each.
    steps : int
        Gradient-descent steps per run.
    rng : None, int or Generator
        Root seed (default 0).
    record_every : int
        Record the loss every this many steps.
    beta : float, optional
        Softplus slope (default 1).

    Returns
    -------
    Result
        ``steps`` (recorded iterations, shared), ``root_loss`` (``sqrt(L)``,
        shape ``(len(k_values), len(steps))``, NaN after a divergence),
        ``relative_root_loss`` (divided by ``sqrt(L(0))``, the zero network's),
        ``step`` and ``halvings`` per width, ``k_values``, ``d``, ``n``,
        ``seed``, and ``success`` (no run diverged), ``status``, ``message``.

    Examples
    --------
    >>> res = random_label_curves(4, 10, [1, 8], 200, rng=3)
    >>> res.root_loss.shape, bool(res.root_loss[1, -1] < res.root_loss[0, -1])
    ((2, 21), True)
    """
    d, n = check_int(d, "d"), check_int(n, "n")
    k_values = _sizes(k_values, "k_values")
    steps = check_int(steps, "steps")
    record_every = check_int(record_every, "record_every")
    seed = check_root_seed(rng)
    data = instance_rng(seed, d, n, 0)
    X, y = data.standard_normal((n, d)), data.standard_normal(n)
    grid = np.arange(0, steps + 1, record_every)
    if grid[-1] != steps:
        grid = np.append(grid, steps)
    curves, step_sizes, halvings_used, failed = [], [], [], []
    for k in k_values:
        loss = NetworkLoss(X, y, "softplus", k=int(k), beta=beta)
        theta0 = loss.random_start(instance_rng(seed, d, n, int(k), 1))
        step = stable_step(loss, theta0)
        for halvings in range(MAX_HALVINGS + 1):
            res = gradient_descent(loss, theta0, step, gtol=RANDOM_LABEL_GTOL, max_steps=steps,
                                   record_every=record_every)
            if res.status != STATUS_DIVERGED:
                break
            step /= 2
        curve = np.full(grid.size, np.nan)
        curve[: res.losses.size] = np.sqrt(res.losses)
        if res.status == STATUS_DIVERGED:
            failed.append(int(k))
        curves.append(curve)
        step_sizes.append(step)
        halvings_used.append(halvings)
    root = np.array(curves)
    return Result(success=not failed, status=int(bool(failed)),
                  message=f"diverged for k = {failed}" if failed else f"{len(k_values)} runs of {steps} steps",
                  steps=grid, root_loss=root, relative_root_loss=root / math.sqrt(float(y @ y) / (2 * n)),
                  step=np.array(step_sizes), halvings=np.array(halvings_used), k_values=k_values, d=d, n=n,
                  seed=seed)
