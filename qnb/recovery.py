"""Probability of recovering the teacher as a function of the number of samples.

For each sample size ``n`` and trial, an *instance* is a teacher ``A*``, inputs
``X`` and labels ``y = labels(X, A*)``. The teacher is *recovered* on the
instance either when ``A*`` is provably the only positive semidefinite matrix
that fits the data (``method='certificate'``, :func:`qnb.uniqueness.is_unique_minimizer`;
Section 3 of the paper: then every zero-loss student is the teacher), or when
the gradient flow (5) from a random full-rank start ends at ``A*``
(``method='flow'``, :func:`qnb.flow_with_fallback`; Section 4). The methods
are the entries of the table :data:`RECOVERY_METHODS`, from name to
:class:`RecoveryMethod`: the sweeps look a method up there and never test its
name. The fraction of recovered trials against ``alpha = n / d`` shows the
recovery transition.

Instances are independent and reproducible one by one: instance ``(n, t)``
takes its randomness from :func:`qnb.instance_rng` ``(seed, n, t)``, so it is
the same whatever other sample sizes and trials the sweep contains. The
sweeps run on the package's sweep engine (:mod:`qnb._sweep`): in parallel on
any executor (a process pool, a Dask cluster, or in-process), and a long
sweep can checkpoint each finished instance and resume after an interruption
without recomputing it. Per-instance status codes are the ``STATUS_*``
constants below, with one message table per sweep.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable

import numpy as np

from ._sweep import STATUS_ALL_SUCCEEDED, STATUS_SOME_FAILED, check_n_values, check_root_seed, run_sweep
from ._sweep import STATUS_RAISED, STATUS_TIMED_OUT, STATUS_WORKER_LOST  # noqa: F401  (statuses here too)
from ._validation import check_choice, check_int, check_positive
from .data import TEACHERS, draw_instance, gram, instance_rng
from .data import instance_data, nested_instance_data  # noqa: F401  (importable from here, as before)
from .flows import flow_with_fallback
from .result import Result
from .certificates import STATUS_NOT_GENERIC as CERTIFICATE_NOT_GENERIC
from .certificates import certify_phaselift, certify_uniqueness
from .uniqueness import critical_samples, is_unique_minimizer

# --- status codes ---------------------------------------------------------------

# Status of one instance (``instance_status``), the same codes in both sweeps. The solvers'
# own codes keep their values (is_unique_minimizer: 1 undecided; empirical_flow: -1 failed,
# 2 diverged), so a status means the same in a result, a checkpoint and a stored file.
STATUS_DECIDED = 0          # recovery_probability: decided; recovery_threshold: threshold found
STATUS_UNDECIDED = 1        # the certificate is at the boundary between the cases to round-off
STATUS_FLOW_FAILED = -1     # the integration failed with LSODA and with BDF
STATUS_FLOW_DIVERGED = 2    # the flow stopped being finite
STATUS_NOT_RECOVERED = 3    # recovery_threshold: not recovered even with d (d + 1) / 2 samples
STATUS_SOLVER_RAISED = -100  # the solver raised ArithmeticError or LinAlgError
# and the sweep engine's (qnb._sweep.ENGINE_MESSAGES), recomputed on a rerun:
# STATUS_RAISED = -200 (any other exception), STATUS_TIMED_OUT = -201 (instance_timeout),
# STATUS_WORKER_LOST = -202 (the worker process died).

# A record's message: the entry of its status, with the solver's message as ``detail``.
INSTANCE_MESSAGES = {
    STATUS_DECIDED: "decided",
    STATUS_UNDECIDED: "the certificate is undecided: {detail}",
    STATUS_FLOW_FAILED: "the flow failed: {detail}",
    STATUS_FLOW_DIVERGED: "the flow diverged: {detail}",
    STATUS_SOLVER_RAISED: "the solver raised {detail}",
}
THRESHOLD_INSTANCE_MESSAGES = {
    STATUS_DECIDED: "threshold found with {probes} solves",
    STATUS_NOT_RECOVERED: "not recovered even with d (d + 1) / 2 = {upper} samples",
} | {code: "n={n}: " + text for code, text in INSTANCE_MESSAGES.items() if code != STATUS_DECIDED}

# Status of a sweep (``status``).
PROBABILITY_MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} instances solved",
    STATUS_SOME_FAILED: "{failed} of {total} instances failed (counted as not recovered): {details}",
}
THRESHOLD_MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} thresholds found",
    STATUS_SOME_FAILED: "{failed} of {total} instances failed (counted as never recovered): {details}",
}


# --- the methods: a table from name to decision -------------------------------------------

@dataclasses.dataclass(frozen=True)
class RecoveryMethod:
    """How recovery with one data set is decided: an entry of :data:`RECOVERY_METHODS`.

    Attributes
    ----------
    solve : callable
        ``solve(X, y, A_star, W0, flow_time) -> dict`` with ``status`` (a
        ``STATUS_*`` code of :mod:`qnb.recovery`), ``detail`` (the solver's
        message) and the fields ``recovered`` reads and ``reported`` names.
        ``W0`` is ``None`` unless ``'width'`` is among ``parameters``. A
        top-level function, so that process pools can run it.
    recovered : callable
        ``recovered(record, recovery_tol) -> bool``: the verdict of a decided record.
    reported : tuple of str
        Float fields reported per instance by :func:`recovery_probability`
        (NaN where the solver raised).
    value : str
        The field :func:`recovery_threshold` reports per probe (``probe_value``).
    parameters : tuple of str
        Sweep parameters the method depends on (``'width'`` draws a student
        start); they enter the tasks and so the checkpoint files.
        ``'recovery_tol'`` enters only :func:`recovery_threshold`'s, whose
        search it steers: :func:`recovery_probability` applies it to the
        stored record.

    Examples
    --------
    >>> RECOVERY_METHODS["flow"].value, RECOVERY_METHODS["certificate"].parameters
    ('distance', ())
    """

    solve: Callable
    recovered: Callable
    reported: tuple
    value: str
    parameters: tuple = ()


def _record(res, verdict):
    """The record of a certified decision: its verdict, certificate, status and message."""
    return {verdict: bool(res[verdict]), "certificate": float(res.certificate),
            "status": STATUS_DECIDED if res.success else STATUS_UNDECIDED, "detail": str(res.message)}


def _certify(X, y, A_star, W0, flow_time):
    return _record(is_unique_minimizer(X, A_star), "unique")


def _certified(record, recovery_tol):
    return bool(record["unique"])


# empirical_flow's status -> the instance's.
_FLOW_STATUS = {0: STATUS_DECIDED, -1: STATUS_FLOW_FAILED, 2: STATUS_FLOW_DIVERGED}


def _flow(X, y, A_star, W0, flow_time):
    res = flow_with_fallback(gram(W0), X, y, [0.0, flow_time])
    out = {"final_loss": np.nan, "distance": np.nan, "detail": str(res.message),
           "status": _FLOW_STATUS.get(res.status, STATUS_FLOW_FAILED)}
    if res.success:
        out["final_loss"] = float(res.loss[-1])
        out["distance"] = float(np.linalg.norm(res.A[-1] - A_star) / np.linalg.norm(A_star))
    return out


def _close(record, recovery_tol):
    return bool(record["distance"] < recovery_tol)


def _unique(X, y, A_star, W0, flow_time):
    res = certify_uniqueness(X, A_star, margin=False)
    if res.status == CERTIFICATE_NOT_GENERIC:  # inputs the rank-one solver leaves to the dense one
        return _certify(X, y, A_star, W0, flow_time)
    return _record(res, "unique")


def _trace_minimize(X, y, A_star, W0, flow_time):
    return _record(certify_phaselift(X, A_star), "recovered")


def _trace_recovered(record, recovery_tol):
    return bool(record["recovered"])


RECOVERY_METHODS = {
    # A* provably the only PSD matrix fitting the labels (Section 3); the margin is reported.
    "certificate": RecoveryMethod(_certify, _certified, ("certificate",), "certificate"),
    # The same verdict from the rank-one solver, stopped at the first verified certificate or
    # witness (no margin: "certificate" is only a verified bound), for large d.
    "uniqueness": RecoveryMethod(_unique, _certified, ("certificate",), "certificate"),
    # Trace minimization (PhaseLift) recovers A*: a certified decision of qnb.certify_phaselift.
    "phaselift": RecoveryMethod(_trace_minimize, _trace_recovered, ("certificate",), "certificate"),
    # The gradient flow (5) from a full-rank start ends within recovery_tol of A* (Section 4).
    "flow": RecoveryMethod(_flow, _close, ("final_loss", "distance"), "distance",
                           ("width", "flow_time", "recovery_tol")),
}


# --- one instance (runs in a worker process) ----------------------------------

# Exceptions that mean "this instance's solver failed", not "the code is wrong".
_SOLVER_ERRORS = (ArithmeticError, np.linalg.LinAlgError)


def _decide(method, X, y, A_star, W0, flow_time):
    """``method.solve`` with solver errors turned into ``STATUS_SOLVER_RAISED``; adds ``success``."""
    try:
        out = dict(method.solve(X, y, A_star, W0, flow_time))
    except _SOLVER_ERRORS as exc:
        out = {key: np.nan for key in method.reported}
        out.update(status=STATUS_SOLVER_RAISED, detail=f"{type(exc).__name__}: {exc}")
    out["success"] = out["status"] == STATUS_DECIDED
    return out


def _draw(task, n, *key):
    """Teacher, data and (when the method needs one) start of the instance ``key`` of ``task``."""
    return draw_instance(task["d"], task["m_star"], n, instance_rng(task["seed"], *key),
                         task["teacher"], task.get("width"))


def _probability_instance(method, task):
    """The record of instance ``(n, trial)`` of :func:`recovery_probability`."""
    A_star, X, y, W0 = _draw(task, task["n"], task["n"], task["trial"])
    out = _decide(method, X, y, A_star, W0, task.get("flow_time"))
    out["message"] = INSTANCE_MESSAGES[out["status"]].format(detail=out.pop("detail"))
    return out


def _probability_blank(method, task):
    """The fields of an instance of :func:`recovery_probability` that has no result."""
    return {key: np.nan for key in method.reported}


def _recovered(method, records, recovery_tol):
    """Per record: a successful solve whose verdict is recovery."""
    return np.array([bool(r["success"]) and method.recovered(r, recovery_tol) for r in records])


# --- arguments shared by the two sweeps ------------------------------------------

def _check_sweep_args(d, m_star, trials, method, rng, teacher, width, flow_time, recovery_tol):
    """Checked arguments: ``trials``, the method's entry and the parameters every result reports."""
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    trials = check_int(trials, "trials")
    name = check_choice(method, "method", RECOVERY_METHODS)
    params = {"d": d, "m_star": m_star, "method": name, "seed": check_root_seed(rng),
              "teacher": check_choice(teacher, "teacher", TEACHERS),
              "width": d if width is None else check_int(width, "width"),
              "flow_time": check_positive(flow_time, "flow_time"),
              "recovery_tol": check_positive(recovery_tol, "recovery_tol")}
    return trials, RECOVERY_METHODS[name], params


def _task(params, method, steered):
    """The task fields that determine an instance: the data's and the method's parameters;
    ``recovery_tol`` only where it ``steered`` the computation (the threshold's search)."""
    keys = ("seed", "d", "m_star", "teacher", "method") + method.parameters
    return {key: params[key] for key in keys if steered or key != "recovery_tol"}


def _label(sweep, params):
    return f"{sweep}(d={params['d']}, m_star={params['m_star']}, method={params['method']!r})"


def recovery_probability(d, m_star, n_values, trials, method="certificate", rng=None,
                         executor=None, teacher="gaussian", width=None, flow_time=1e10,
                         recovery_tol=1e-3, checkpoint=None, progress=False, instance_timeout=None):
    """Fraction of random instances on which the teacher is recovered, for each ``n``.

    Instance ``(n, t)`` (sample size ``n``, trial ``t``) is drawn by
    :func:`qnb.draw_instance` from the generator :func:`qnb.instance_rng`
    ``(seed, n, t)``: the teacher weights (``m_star`` units; ``A* =
    gram(W*)``), the inputs ``X`` of shape ``(n, d)`` (labels ``y = labels(X,
    A*)``) and, for ``method='flow'``, standard Gaussian student weights
    ``W0`` of shape ``(width, d)`` (:func:`qnb.instance_data` gives the
    first three). It does not depend on the other entries of ``n_values`` nor
    on ``trials``, and both methods see the same teachers and inputs.

    Parameters
    ----------
    d : int
        Input dimension.
    m_star : int
        Number of teacher hidden units.
    n_values : sequence of int
        Sample sizes, distinct (kept in the given order).
    trials : int
        Number of instances per sample size.
    method : {'certificate', 'uniqueness', 'phaselift', 'flow'}
        A key of :data:`RECOVERY_METHODS`. ``'certificate'``: recovered when
        :func:`qnb.uniqueness.is_unique_minimizer` certifies that ``A*`` is the
        only positive semidefinite matrix fitting the labels.
        ``'flow'``: recovered when the gradient flow (5) from ``A(0) =
        gram(W0)``, solved with :func:`qnb.flow_with_fallback` (default
        tolerances; LSODA, then BDF if LSODA fails) up to ``flow_time``, ends at
        relative Frobenius distance ``||A(T) - A*|| / ||A*|| < recovery_tol``.
    rng : None, int or numpy.random.Generator
        Root seed of the sweep. ``None`` draws fresh entropy and a Generator
        draws a seed; either way the seed used is returned as ``seed``, so
        ``rng=res.seed`` repeats the sweep. A seed drawn for ``None`` is also
        printed on ``sys.stderr`` before any work (``recovery_probability:
        rng=None, drew seed S; pass rng=S to repeat or resume this sweep``),
        so that an interrupted sweep resumes from its checkpoint with ``rng=S``.
    executor : None, 'serial', concurrent.futures.Executor or dask.distributed.Client
        Where the instances run. ``None``: a process pool with
        ``os.cpu_count()`` workers, created and shut down inside the call
        (its workers also exit when the calling process is killed).
        ``'serial'``: in this process, one after the other. An executor, or
        any object whose ``submit(fn, *args)`` returns futures (a Dask
        ``Client``), is used as it is and left open. Results do not depend on
        the executor.
    teacher : {'gaussian', 'orthonormal'}
        Key of :data:`qnb.TEACHERS`.
    width : int, optional
        Number of student hidden units for ``method='flow'``; default ``d``,
        so that the start has full rank almost surely, as Theorem 4.1 assumes.
    flow_time : float
        Final time ``T`` of the flow. Towards a rank-deficient teacher the
        flow converges only algebraically (the distance falls like ``1/t``,
        with a constant that grows as ``n`` approaches the instance's
        threshold), so ``T`` is large; the stiff integrator makes long times
        cheap.
    recovery_tol : float
        Threshold on the relative distance for ``method='flow'``.
    checkpoint : str or os.PathLike, optional
        Directory (created if missing). Each finished instance is written there
        atomically as soon as it completes, as
        ``recovery_probability_n<n>_trial<trial>_<hash>.npz``; the file holds,
        and the hash covers, every parameter that determines the instance's
        result (method, seed, ``d``, ``m_star``, teacher, ``n``, trial and, for
        the flow, ``width`` and ``flow_time``; not ``recovery_tol``, which is
        applied to the stored distance). Instances found there are read
        instead of recomputed, so an interrupted or enlarged sweep resumes.
        A file is read only when the task it holds is the instance's and its
        fields are complete; any other file under an instance's name (renamed,
        of another seed, forged, corrupt or announcing an oversized array) is
        recomputed, with a warning that says why. Instances that raised, timed
        out or lost their worker are written too but recomputed on the next
        run. Temporary files ``.tmp-<host>-<pid>-*.npz`` of a process killed
        while writing are removed on the next run.
        The hash covers parameters, not code: delete the directory after
        changing the solvers.
    progress : bool
        Print a progress line (instances done/total) to ``sys.stderr`` every
        few instances.
    instance_timeout : float, optional
        Seconds one instance may take; ``None`` (default) sets no limit. An
        instance over it gets the status ``STATUS_TIMED_OUT`` (-201) and the
        sweep goes on. Enforced on ``executor=None`` (a worker that does not
        stop is killed and replaced), on a given process pool and on
        ``'serial'`` in the main thread on POSIX (``SIGALRM``); not on Dask,
        whose workers run tasks in threads.

    Returns
    -------
    Result
        ``n_values``, ``alpha`` (``n / d``), ``trials``, ``recovered`` (bool,
        shape ``(len(n_values), trials)``), ``probability`` (fraction of
        recovered trials per ``n``; a failed instance counts as not recovered),
        ``stderr`` (binomial standard error ``sqrt(p (1 - p) / trials)``),
        ``instance_success``, ``instance_status`` (:data:`INSTANCE_MESSAGES`:
        0 decided, 1 certificate undecided, -1 flow failed, 2 flow diverged,
        -100 the solver raised ``ArithmeticError`` or ``LinAlgError``; and the
        sweep engine's: -200 any other exception, with its type and message,
        -201 over ``instance_timeout``, -202 the worker process died),
        ``instance_seconds`` (per instance, as first computed), ``failed_per_n``, ``n_failed``,
        ``n_loaded`` (instances read from ``checkpoint``), for
        ``method='certificate'`` ``certificate`` (per instance: the signed,
        trace-normalised margin of :func:`qnb.uniqueness.is_unique_minimizer`,
        in ``(0, 1]`` when unique and in ``[-1, 0]`` otherwise), for
        ``method='flow'`` ``final_loss`` (training loss at ``flow_time``) and
        ``distance`` (NaN where the solve failed); ``success`` (no instance
        failed), ``status`` (0 if so, 1 otherwise; :data:`PROBABILITY_MESSAGES`),
        ``message`` (the failed instances and why), ``seconds`` (wall time of
        the call) and the
        parameters ``d``, ``m_star``, ``method``, ``seed``, ``teacher``,
        ``width``, ``flow_time``, ``recovery_tol``.

    Notes
    -----
    Each worker solves small dense problems; on a process pool, one BLAS
    thread per process (``OMP_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1`` set
    before Python starts) avoids workers' BLAS threads competing for the same
    cores.

    Examples
    --------
    >>> res = recovery_probability(d=3, m_star=1, n_values=[2, 12], trials=2, method="flow",
    ...                            rng=0, executor="serial")
    >>> res.alpha, res.probability, res.success
    (array([0.66666667, 4.        ]), array([0., 1.]), True)

    Instance ``(12, 1)`` is the same in a sweep over ``n = 12`` alone:

    >>> alone = recovery_probability(3, 1, [12], 2, method="flow", rng=0, executor="serial")
    >>> bool(alone.distance[0, 1] == res.distance[1, 1])
    True
    """
    start = time.perf_counter()
    n_values = check_n_values(n_values)
    trials, decision, params = _check_sweep_args(d, m_star, trials, method, rng, teacher, width,
                                                flow_time, recovery_tol)
    base = _task(params, decision, steered=False)
    tasks = [base | {"n": int(n), "trial": t} for n in n_values for t in range(trials)]
    records = run_sweep("recovery_probability", functools.partial(_probability_instance, decision),
                        tasks, index=("n", "trial"), executor=executor, checkpoint=checkpoint,
                        progress=progress, label=_label("recovery_probability", params),
                        instance_timeout=instance_timeout,
                        blank=functools.partial(_probability_blank, decision),
                        drawn_seed=params["seed"] if rng is None else None)

    shape = (n_values.size, trials)
    summary = records.summary(shape, PROBABILITY_MESSAGES)
    recovered = _recovered(decision, records, params["recovery_tol"]).reshape(shape)
    probability = recovered.mean(axis=1)
    return Result(
        **summary,
        n_values=n_values,
        alpha=n_values / params["d"],
        trials=trials,
        recovered=recovered,
        probability=probability,
        stderr=np.sqrt(probability * (1.0 - probability) / trials),
        failed_per_n=np.sum(~summary["instance_success"], axis=1),
        **{key: records.array(key, shape, float) for key in decision.reported},
        seconds=time.perf_counter() - start,
        **params,
    )


# --- the recovery threshold of one nested instance -------------------------------------

def recovery_bracket(d, m_star):
    """Sample sizes between which the recovery threshold of a rank-``r`` teacher must lie.

    Returns ``(lower, upper)``: with ``lower`` inputs in general position the
    teacher is never the only PSD matrix fitting the labels, and with
    ``upper = d (d + 1) / 2`` it always is (the matrices ``x_k x_k^T`` then span
    the symmetric matrices). With ``r = min(m*, d)`` and ``s = d - r``,
    ``lower = r (r + 1) / 2 + r s`` when ``s > 0``, the number of free entries
    of the blocks ``S`` and ``B`` of :mod:`qnb.uniqueness`: for ``n <= lower``
    the ``n`` constraints on ``(S, B)`` are independent, so they can be met
    whatever ``C``, in particular with ``C = I``, and ``A* + tH`` is a second
    PSD solution for small ``t > 0``. For a full-rank teacher (``s = 0``)
    every direction is admissible and ``lower = upper - 1``.

    Examples
    --------
    >>> recovery_bracket(8, 1), recovery_bracket(8, 3), recovery_bracket(4, 4)
    ((8, 36), (21, 36), (9, 10))
    """
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    r = min(m_star, d)
    s = d - r
    upper = d * (d + 1) // 2
    lower = r * (r + 1) // 2 + r * s if s > 0 else upper - 1
    return lower, upper


def _smallest_recovered(recovered_at, lower, upper, guess, step):
    """Smallest ``n`` in ``(lower, upper]`` with ``recovered_at(n)``, for a monotone predicate.

    ``recovered_at(lower)`` is taken to be false and never called. The search
    starts at ``guess``, moves by ``step, 2 step, 4 step, ...`` until the answer
    is bracketed and then bisects; about ``2 log2(|threshold - guess| / step)
    + log2(step)`` calls instead of ``log2(upper - lower)`` calls that would
    mostly be made at large, expensive ``n``. Returns ``None`` when not even
    ``upper`` recovers.
    """
    lo, hi = lower, None
    n = min(max(guess, lower + 1), upper)
    if recovered_at(n):
        hi = n
        while hi - lo > 1:
            n = max(hi - step, lo + 1)
            if not recovered_at(n):
                lo = n
                break
            hi, step = n, 2 * step
    else:
        lo = n
        while hi is None:
            if lo == upper:
                return None
            n = min(lo + step, upper)
            if recovered_at(n):
                hi = n
            else:
                lo, step = n, 2 * step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if recovered_at(mid):
            hi = mid
        else:
            lo = mid
    return hi


class _ProbeFailed(Exception):
    """A failed solve at one sample size; stops the search of that instance."""


def _threshold_instance(method, task):
    """The record of instance ``trial`` of :func:`recovery_threshold`: its threshold and probes."""
    d, m_star = task["d"], task["m_star"]
    lower, upper = recovery_bracket(d, m_star)
    # The inputs of n samples are the first n rows of one draw. Without a student start the
    # first rows do not depend on how many are drawn, so rows are drawn as the search needs
    # them (d (d + 1) / 2 rows would be 0.5 GB at d = 512); a start is drawn after the rows,
    # so then all of them are drawn at once, as always.
    drawn = {}

    def data(n):
        if n > drawn.get("rows", 0):
            rows = upper if "width" in task else min(upper, max(n, 2 * drawn.get("rows", 0), 4 * d * min(m_star, d)))
            drawn.update(zip(("A_star", "X", "y", "W0"), _draw(task, rows, task["trial"])), rows=rows)
        return drawn["A_star"], drawn["X"][:n], drawn["y"][:n], drawn["W0"]

    probes = []

    def recovered_at(n):
        A_star, X, y, W0 = data(n)
        out = _decide(method, X, y, A_star, W0, task.get("flow_time"))
        verdict = out["success"] and method.recovered(out, task.get("recovery_tol"))
        probes.append((n, verdict, out[method.value]))
        if not out["success"]:
            raise _ProbeFailed(out["status"], {"n": n, "detail": out["detail"]})
        return verdict

    threshold = None
    try:
        threshold = _smallest_recovered(recovered_at, lower, upper,
                                        guess=critical_samples(d, m_star), step=max(1, d // 4))
    except _ProbeFailed as failure:
        status, context = failure.args
    else:
        status = STATUS_NOT_RECOVERED if threshold is None else STATUS_DECIDED
        context = {"upper": upper, "probes": len(probes)}
    return {
        "n_threshold": -1 if threshold is None else threshold,
        "success": status == STATUS_DECIDED, "status": status,
        "message": THRESHOLD_INSTANCE_MESSAGES[status].format(**context),
        "probe_n": np.array([p[0] for p in probes], dtype=int),
        "probe_recovered": np.array([p[1] for p in probes], dtype=bool),
        "probe_value": np.array([p[2] for p in probes], dtype=float),
    }


def _threshold_blank(task):
    """The fields of an instance of :func:`recovery_threshold` that has no result."""
    return {"n_threshold": -1, "probe_n": np.zeros(0, dtype=int),
            "probe_recovered": np.zeros(0, dtype=bool), "probe_value": np.zeros(0)}


def recovery_threshold(d, m_star, trials, method="certificate", rng=None, executor=None,
                       teacher="gaussian", width=None, flow_time=1e10, recovery_tol=1e-3,
                       checkpoint=None, progress=False, instance_timeout=None):
    """Smallest number of samples that recovers the teacher, instance by instance.

    Instance ``t`` is a teacher and a sequence of ``d (d + 1) / 2`` inputs
    (:func:`nested_instance_data`); its data set with ``n`` samples is made of
    the first ``n`` inputs. Adding samples can only shrink the set of PSD
    matrices that fit them, so recovery is monotone in ``n`` and each instance
    has a threshold ``n_u``: recovered with ``n >= n_u`` samples, not with
    fewer. The threshold is located exactly by a search over ``n`` (a gallop
    from eq. (13) then bisection, about ``log2 d`` solves), between the bounds
    of :func:`recovery_bracket`. The fraction of instances with ``n_u <= n``
    is the probability of recovery with ``n`` samples, for all ``n`` at once.

    Parameters
    ----------
    d, m_star, trials : int
        Input dimension, teacher hidden units, number of instances.
    method : {'certificate', 'uniqueness', 'phaselift', 'flow'}
        How recovery with ``n`` samples is decided, as in
        :func:`recovery_probability`. With ``'flow'`` the same start
        ``gram(W0)`` is used for every ``n``; monotonicity then holds because
        the flow recovers exactly when the teacher is the only PSD solution
        (Theorem 4.1), up to the tolerance ``recovery_tol``.
    rng, executor, teacher, width, flow_time, recovery_tol, checkpoint, progress, instance_timeout
        As in :func:`recovery_probability`. Checkpoint files are one per
        instance, ``recovery_threshold_trial<trial>_<hash>.npz``; for the flow
        they also cover ``recovery_tol``, which steers the search.

    Returns
    -------
    Result
        ``n_threshold`` (shape ``(trials,)``; -1 where the instance failed),
        ``alpha_threshold`` (``n_threshold / d``; NaN where failed),
        ``n_lower`` and ``n_upper`` (the bracket), ``n_values`` (every ``n``
        from ``n_lower`` to ``n_upper``), ``alpha``, ``probability``
        (fraction of instances with ``n_threshold <= n``; failed instances
        count as not recovered), ``probe_n``, ``probe_recovered``,
        ``probe_value`` (per instance, the sample sizes tried, the verdicts and
        the certificate or flow distance), ``n_probes``, ``instance_success``,
        ``instance_status`` (:data:`THRESHOLD_INSTANCE_MESSAGES`: 0 threshold
        found, 3 not recovered even with ``n_upper`` samples, or the status of
        the failed solve as in :func:`recovery_probability`: 1 certificate
        undecided, -1 flow failed, 2 flow diverged, -100 the solver raised,
        -200 raised another exception, -201 timed out, -202 worker lost),
        ``instance_seconds``, ``n_failed``, ``n_loaded``, ``success``,
        ``status`` (0, or 1 when an instance failed; :data:`THRESHOLD_MESSAGES`),
        ``message``, ``seconds`` and the parameters.

    Examples
    --------
    >>> res = recovery_threshold(d=4, m_star=1, trials=3, rng=0, executor="serial")
    >>> res.n_threshold, res.n_lower, res.n_upper, res.success
    (array([6, 5, 6]), 4, 10, True)
    >>> res.probability[res.n_values == 5]
    array([0.33333333])
    """
    start = time.perf_counter()
    trials, decision, params = _check_sweep_args(d, m_star, trials, method, rng, teacher, width,
                                                 flow_time, recovery_tol)
    base = _task(params, decision, steered=True)
    tasks = [base | {"trial": t} for t in range(trials)]
    records = run_sweep("recovery_threshold", functools.partial(_threshold_instance, decision),
                        tasks, index=("trial",), executor=executor, checkpoint=checkpoint,
                        progress=progress, label=_label("recovery_threshold", params),
                        instance_timeout=instance_timeout, blank=_threshold_blank,
                        drawn_seed=params["seed"] if rng is None else None)

    summary = records.summary((trials,), THRESHOLD_MESSAGES)
    success, n_threshold = summary["instance_success"], records.array("n_threshold", (trials,), int)
    lower, upper = recovery_bracket(params["d"], params["m_star"])
    n_values = np.arange(lower, upper + 1)
    recovered = success[:, None] & (n_threshold[:, None] <= n_values[None, :])
    return Result(
        **summary,
        n_threshold=n_threshold,
        alpha_threshold=np.where(success, n_threshold / params["d"], np.nan),
        n_lower=lower,
        n_upper=upper,
        n_values=n_values,
        alpha=n_values / params["d"],
        probability=recovered.mean(axis=0),
        trials=trials,
        probe_n=[r["probe_n"] for r in records],
        probe_recovered=[r["probe_recovered"] for r in records],
        probe_value=[r["probe_value"] for r in records],
        n_probes=np.array([r["probe_n"].size for r in records]),
        seconds=time.perf_counter() - start,
        **params,
    )
