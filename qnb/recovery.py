"""Probability of recovering the teacher as a function of the number of samples.

For each sample size ``n`` and trial, an *instance* is a teacher ``A*``, inputs
``X`` and labels ``y = labels(X, A*)``. The teacher is *recovered* on the
instance either when ``A*`` is provably the only positive semidefinite matrix
that fits the data (``method='certificate'``, :func:`qnb.uniqueness.is_unique_minimizer`;
Section 3 of the paper: then every zero-loss student is the teacher), or when
the gradient flow (5) from a random full-rank start ends at ``A*``
(``method='flow'``, :func:`qnb.empirical_flow`; Section 4). The fraction of
recovered trials against ``alpha = n / d`` shows the recovery transition.

Instances are independent and reproducible one by one: instance ``(n, t)``
takes its randomness from ``numpy.random.SeedSequence(seed, spawn_key=(n, t))``,
so it is the same whatever other sample sizes and trials the sweep contains.
They run in parallel on any executor (a process pool, a Dask cluster, or
in-process), and a long sweep can checkpoint each finished instance and
resume after an interruption without recomputing it.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ._checkpoint import (
    check_checkpoint,
    check_flag,
    parameter_hash,
    read_record,
    save_npz_atomic,
)
from ._validation import check_choice, check_int, check_positive
from .data import gram, labels, sample_inputs
from .loss_curves import TEACHERS, _check_teacher
from .flows import empirical_flow
from .result import Result
from .uniqueness import critical_samples, is_unique_minimizer
from ._sweep import check_executor, check_root_seed, run_tasks

METHODS = ("certificate", "flow")

# Bump when the meaning of a checkpoint file changes, so old files are not reused.
_CHECKPOINT_FORMAT = "recovery_probability/1"

# Per-instance status when the solver raised instead of returning a status.
_STATUS_EXCEPTION = -100


# --- one instance (runs in a worker process) ----------------------------------

# Exceptions that mean "this instance's solver failed", not "the code is wrong".
_SOLVER_ERRORS = (ArithmeticError, np.linalg.LinAlgError)


def _draw_instance(seed, spawn_key, n, d, m_star, teacher):
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))
    A_star = gram(TEACHERS[teacher](d, m_star, rng))
    X = sample_inputs(n, d, rng)
    return A_star, X, labels(X, A_star), rng


def instance_data(seed, n, trial, d, m_star, teacher="gaussian"):
    """Teacher matrix, inputs and labels of instance ``(n, trial)`` of :func:`recovery_probability`.

    The generator is ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(n, trial)))``;
    it draws the teacher (``m_star`` units) and then the inputs ``X`` of shape
    ``(n, d)``; ``method='flow'`` goes on to draw the student start from the
    same generator. Both methods therefore see the same instances.

    Returns
    -------
    A_star : ndarray, shape (d, d)
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    rng : numpy.random.Generator
        The generator, positioned after these draws.
    """
    return _draw_instance(seed, (n, trial), n, d, m_star, teacher)


def nested_instance_data(seed, trial, d, m_star, teacher="gaussian"):
    """Teacher matrix, inputs and labels of instance ``trial`` of :func:`recovery_threshold`.

    The generator is ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(trial,)))``;
    it draws the teacher (``m_star`` units), then ``d (d + 1) / 2`` inputs, then
    (``method='flow'``) the student start. The data set with ``n`` samples is
    made of the first ``n`` rows, so larger data sets contain smaller ones.

    Returns
    -------
    A_star : ndarray, shape (d, d)
    X : ndarray, shape (d (d + 1) / 2, d)
    y : ndarray, shape (d (d + 1) / 2,)
    rng : numpy.random.Generator
        The generator, positioned after these draws.
    """
    return _draw_instance(seed, (trial,), d * (d + 1) // 2, d, m_star, teacher)


def _flow_with_fallback(A0, X, y, t_eval):
    """:func:`empirical_flow` with LSODA and, if that fails, again with BDF (the message says so)."""
    res = empirical_flow(A0, X, y, t_eval)
    if not res.success:
        # LSODA can switch to its non-stiff method at late times, when the flow
        # creeps towards a rank-deficient teacher, and blow up; BDF stays stable.
        res = empirical_flow(A0, X, y, t_eval, method="BDF")
        res["message"] = f"LSODA failed, BDF: {res.message}"
    return res


def _solve(method, X, y, A_star, W0, flow_time):
    """Decide one data set: certificate of uniqueness, or the flow from ``gram(W0)`` up to ``flow_time``.

    The flow is solved with LSODA and, if that fails, again with BDF.
    Returns a dict with ``unique`` and ``certificate`` (certificate) or
    ``final_loss`` and ``distance`` (flow; NaN unless it succeeded), and the
    solver's ``success``, ``status`` and ``message``; a solver that raised one
    of ``_SOLVER_ERRORS`` gives ``success=False`` and ``_STATUS_EXCEPTION``.
    """
    out = {"unique": False, "certificate": np.nan, "final_loss": np.nan, "distance": np.nan}
    try:
        if method == "certificate":
            res = is_unique_minimizer(X, A_star)
            out["unique"] = bool(res.unique)
            out["certificate"] = float(res.certificate)
        else:
            res = _flow_with_fallback(gram(W0), X, y, [0.0, flow_time])
            if res.success:
                out["final_loss"] = float(res.loss[-1])
                out["distance"] = float(np.linalg.norm(res.A[-1] - A_star) / np.linalg.norm(A_star))
        out.update(success=bool(res.success), status=int(res.status), message=str(res.message))
    except _SOLVER_ERRORS as exc:
        out.update(success=False, status=_STATUS_EXCEPTION, message=f"{type(exc).__name__}: {exc}")
    return out


def _run_instance(task):
    """Solve one instance of :func:`recovery_probability`; ``task`` is a plain dict.

    Top-level (picklable by reference) so that process pools and Dask workers
    can run it. The returned record holds what the checkpoint file stores;
    whether the instance counts as recovered is decided from it by
    :func:`_recovered` in the calling process.
    """
    start = time.perf_counter()
    A_star, X, y, rng = instance_data(task["seed"], task["n"], task["trial"], task["d"],
                                      task["m_star"], task["teacher"])
    W0 = rng.standard_normal((task["width"], task["d"])) if task["method"] == "flow" else None
    record = {"n": task["n"], "trial": task["trial"], "method": task["method"]}
    record |= _solve(task["method"], X, y, A_star, W0, task.get("flow_time"))
    record["seconds"] = time.perf_counter() - start
    return record


def _recovered(record, recovery_tol):
    """Recovered: a successful solve that certifies uniqueness / ends within ``recovery_tol``."""
    if not record["success"]:
        return False
    if record["method"] == "certificate":
        return bool(record["unique"])
    return bool(record["distance"] < recovery_tol)


# --- checkpoint files ----------------------------------------------------------

_RECORD_FIELDS = {
    "n": int, "trial": int, "method": str, "unique": bool, "certificate": float,
    "final_loss": float, "distance": float, "success": bool, "status": int, "message": str,
    "seconds": float,
}


def _task_hash(task):
    """Hash of every parameter that determines the instance's record, ``n`` and trial included.

    ``recovery_tol`` is not among them: the record stores the distance, and the
    decision is taken again on loading, so a new tolerance reuses old flows.
    """
    return parameter_hash({"format": _CHECKPOINT_FORMAT} | task)


def _checkpoint_path(directory, task):
    return os.path.join(directory, f"n{task['n']:06d}_t{task['trial']:05d}_{_task_hash(task)}.npz")


def _save_record(path, record):
    save_npz_atomic(path, **{key: np.array(record[key]) for key in _RECORD_FIELDS})


def _load_record(path, task):
    return read_record(path, task, _RECORD_FIELDS, {}, ("n", "trial", "method"))


# --- the sweep -----------------------------------------------------------------

def _check_n_values(n_values):
    if isinstance(n_values, (str, bytes)) or np.ndim(n_values) > 1:
        raise TypeError(f"n_values must be a 1-D sequence of integers, got {type(n_values).__name__}")
    values = [n_values] if np.ndim(n_values) == 0 else list(np.asarray(n_values, dtype=object))
    if not values:
        raise ValueError("n_values must not be empty")
    values = [check_int(n, "n_values entry") for n in values]
    if len(set(values)) != len(values):
        raise ValueError(f"n_values must not repeat a value, got {values}")
    return np.array(values, dtype=int)


def _check_sweep_args(d, m_star, trials, method, rng, executor, teacher, width, flow_time,
                      recovery_tol, checkpoint, progress):
    """Checked arguments shared by the sweeps.

    Returns ``trials``, ``executor``, ``checkpoint``, ``progress``, the task
    fields that define an instance (``base``) and the parameters every result
    reports (``params``).
    """
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    trials = check_int(trials, "trials")
    method = check_choice(method, "method", METHODS)
    seed = check_root_seed(rng)
    executor = check_executor(executor)
    teacher = _check_teacher(teacher)
    width = d if width is None else check_int(width, "width")
    flow_time = check_positive(flow_time, "flow_time")
    recovery_tol = check_positive(recovery_tol, "recovery_tol")
    checkpoint = check_checkpoint(checkpoint)
    progress = check_flag(progress, "progress")
    base = {"seed": seed, "d": d, "m_star": m_star, "teacher": teacher, "method": method}
    if method == "flow":
        base |= {"width": width, "flow_time": flow_time}
    params = {"d": d, "m_star": m_star, "method": method, "seed": seed, "teacher": teacher,
              "width": width, "flow_time": flow_time, "recovery_tol": recovery_tol}
    return trials, executor, checkpoint, progress, base, params


def _sweep_status(n_failed, total, failures, counted_as):
    """``success``, ``status`` and ``message`` of a sweep with ``n_failed`` failed instances."""
    if n_failed == 0:
        return {"success": True, "status": 0, "message": f"all {total} instances solved"}
    return {"success": False, "status": 1,
            "message": f"{n_failed} of {total} instances failed (counted as {counted_as}): "
                       + "; ".join(failures)}


def recovery_probability(d, m_star, n_values, trials, method="certificate", rng=None,
                         executor=None, teacher="gaussian", width=None, flow_time=1e10,
                         recovery_tol=1e-3, checkpoint=None, progress=False):
    """Fraction of random instances on which the teacher is recovered, for each ``n``.

    Instance ``(n, t)`` (sample size ``n``, trial ``t``) uses the generator
    ``numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=(n, t)))``
    and draws, in this order, the teacher weights (``m_star`` units; ``A* =
    gram(W*)``), the inputs ``X`` of shape ``(n, d)`` (labels ``y = labels(X,
    A*)``) and, for ``method='flow'``, standard Gaussian student weights
    ``W0`` of shape ``(width, d)``. It does not depend on the other entries of
    ``n_values`` nor on ``trials``, and both methods see the same teachers and
    inputs.

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
    method : {'certificate', 'flow'}
        ``'certificate'``: recovered when
        :func:`qnb.uniqueness.is_unique_minimizer` certifies that ``A*`` is the
        only positive semidefinite matrix fitting the labels.
        ``'flow'``: recovered when the gradient flow (5) from ``A(0) =
        gram(W0)``, solved with :func:`qnb.empirical_flow` (default integrator
        and tolerances, BDF if LSODA fails) up to ``flow_time``, ends at relative Frobenius distance
        ``||A(T) - A*|| / ||A*|| < recovery_tol``.
    rng : None, int or numpy.random.Generator
        Root seed of the sweep. ``None`` draws fresh entropy and a Generator
        draws a seed; either way the seed used is returned as ``seed``, so
        ``rng=res.seed`` repeats the sweep.
    executor : None, 'serial', concurrent.futures.Executor or dask.distributed.Client
        Where the instances run. ``None``: a process pool with
        ``os.cpu_count()`` workers, created and shut down inside the call.
        ``'serial'``: in this process, one after the other. An executor, or
        any object whose ``submit(fn, *args)`` returns futures (a Dask
        ``Client``), is used as it is and left open. Results do not depend on
        the executor.
    teacher : {'gaussian', 'orthonormal'}
        :func:`qnb.gaussian_teacher` or :func:`qnb.orthonormal_teacher`.
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
        atomically as soon as it completes, as ``n<n>_t<trial>_<hash>.npz``,
        where the hash covers every parameter that determines the instance's
        result (method, seed, ``d``, ``m_star``, teacher, ``n``, trial and, for
        the flow, ``width`` and ``flow_time``; not ``recovery_tol``, which is
        applied to the stored distance). Instances found there are read
        instead of recomputed, so an interrupted or enlarged sweep resumes.
        The hash covers parameters, not code: delete the directory after
        changing the solvers.
    progress : bool
        Print a progress line (instances done/total) to ``sys.stderr`` every
        few instances.

    Returns
    -------
    Result
        ``n_values``, ``alpha`` (``n / d``), ``trials``, ``recovered`` (bool,
        shape ``(len(n_values), trials)``), ``probability`` (fraction of
        recovered trials per ``n``; a failed instance counts as not recovered),
        ``stderr`` (binomial standard error ``sqrt(p (1 - p) / trials)``),
        ``instance_success``, ``instance_status``, ``instance_seconds``
        (per instance, as first computed), ``failed_per_n``, ``n_failed``,
        ``n_loaded`` (instances read from ``checkpoint``), for
        ``method='certificate'`` ``certificate`` (per instance), for
        ``method='flow'`` ``final_loss`` (training loss at ``flow_time``) and
        ``distance`` (NaN where the solve failed); ``success`` (no instance
        failed), ``status`` (0 if so, 1 otherwise), ``message`` (the failed
        instances and why), ``seconds`` (wall time of the call) and the
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
    n_values = _check_n_values(n_values)
    trials, executor, checkpoint, progress, base, params = _check_sweep_args(
        d, m_star, trials, method, rng, executor, teacher, width, flow_time, recovery_tol,
        checkpoint, progress)
    d, m_star, method, recovery_tol = (params[k] for k in ("d", "m_star", "method", "recovery_tol"))
    tasks = [base | {"n": int(n), "trial": t} for n in n_values for t in range(trials)]
    index = {(int(n), t): (i, t) for i, n in enumerate(n_values) for t in range(trials)}

    records, n_loaded = run_tasks(
        tasks, _run_instance, executor, checkpoint, path_of=_checkpoint_path,
        load=_load_record, save=_save_record, progress=progress,
        label=f"recovery_probability(d={d}, m_star={m_star}, method={method!r})")
    records = {(tasks[i]["n"], tasks[i]["trial"]): record for i, record in records.items()}

    shape = (n_values.size, trials)
    recovered = np.zeros(shape, bool)
    success = np.zeros(shape, bool)
    status = np.zeros(shape, int)
    seconds = np.zeros(shape)
    extra = {key: np.full(shape, np.nan) for key in
             (("certificate",) if method == "certificate" else ("final_loss", "distance"))}
    messages = []
    for key, record in records.items():
        i, t = index[key]
        recovered[i, t] = _recovered(record, recovery_tol)
        success[i, t], status[i, t], seconds[i, t] = record["success"], record["status"], record["seconds"]
        for name in extra:
            extra[name][i, t] = record[name]
        if not record["success"]:
            messages.append(f"n={key[0]} trial {key[1]}: {record['message']}")

    probability = recovered.mean(axis=1)
    n_failed = int(np.sum(~success))
    return Result(
        **_sweep_status(n_failed, len(tasks), messages, "not recovered"),
        n_values=n_values,
        alpha=n_values / d,
        trials=trials,
        recovered=recovered,
        probability=probability,
        stderr=np.sqrt(probability * (1.0 - probability) / trials),
        instance_success=success,
        instance_status=status,
        instance_seconds=seconds,
        failed_per_n=np.sum(~success, axis=1),
        n_failed=n_failed,
        n_loaded=n_loaded,
        **extra,
        seconds=time.perf_counter() - start,
        **params,
    )


# --- the recovery threshold of one nested instance -------------------------------------

_THRESHOLD_FORMAT = "recovery_threshold/1"

# Instance status when even d (d + 1) / 2 samples did not recover the teacher.
_STATUS_NOT_RECOVERED = 2


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
    """A solver failure at one sample size; stops the search of that instance."""


def _run_threshold_instance(task):
    """Recovery threshold of one nested instance of :func:`recovery_threshold`."""
    start = time.perf_counter()
    d, m_star, method = task["d"], task["m_star"], task["method"]
    A_star, X, y, rng = nested_instance_data(task["seed"], task["trial"], d, m_star,
                                             task["teacher"])
    W0 = rng.standard_normal((task["width"], d)) if method == "flow" else None
    probes = []

    def recovered_at(n):
        out = _solve(method, X[:n], y[:n], A_star, W0, task.get("flow_time"))
        out["method"] = method
        recovered = _recovered(out, task.get("recovery_tol"))
        probes.append((n, recovered, out["certificate" if method == "certificate" else "distance"]))
        if not out["success"]:
            raise _ProbeFailed(out["status"], f"n={n}: {out['message']}")
        return recovered

    lower, upper = recovery_bracket(d, m_star)
    record = {"trial": task["trial"], "method": method, "n_threshold": -1,
              "success": False}
    try:
        threshold = _smallest_recovered(recovered_at, lower, upper,
                                        guess=critical_samples(d, m_star), step=max(1, d // 4))
    except _ProbeFailed as failure:
        record.update(status=int(failure.args[0]), message=failure.args[1])
    else:
        if threshold is None:
            record.update(status=_STATUS_NOT_RECOVERED,
                          message=f"not recovered even with d (d + 1) / 2 = {upper} samples")
        else:
            record.update(n_threshold=threshold, success=True, status=0,
                          message=f"threshold found with {len(probes)} solves")
    record["probe_n"] = np.array([p[0] for p in probes], dtype=int)
    record["probe_recovered"] = np.array([p[1] for p in probes], dtype=bool)
    record["probe_value"] = np.array([p[2] for p in probes], dtype=float)
    record["seconds"] = time.perf_counter() - start
    return record


_THRESHOLD_FIELDS = {
    "trial": int, "method": str, "n_threshold": int, "success": bool, "status": int,
    "message": str, "seconds": float,
}
_PROBE_FIELDS = {"probe_n": int, "probe_recovered": bool, "probe_value": float}


def _threshold_path(directory, task):
    digest = parameter_hash({"format": _THRESHOLD_FORMAT} | task)
    return os.path.join(directory, f"t{task['trial']:05d}_{digest}.npz")


def _save_threshold(path, record):
    arrays = {key: np.array(record[key]) for key in _THRESHOLD_FIELDS}
    arrays |= {key: np.asarray(record[key], dtype=kind) for key, kind in _PROBE_FIELDS.items()}
    save_npz_atomic(path, **arrays)


def _load_threshold(path, task):
    return read_record(path, task, _THRESHOLD_FIELDS, _PROBE_FIELDS, ("trial", "method"))


def recovery_threshold(d, m_star, trials, method="certificate", rng=None, executor=None,
                       teacher="gaussian", width=None, flow_time=1e10, recovery_tol=1e-3,
                       checkpoint=None, progress=False):
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
    method : {'certificate', 'flow'}
        How recovery with ``n`` samples is decided, as in
        :func:`recovery_probability`. With ``'flow'`` the same start
        ``gram(W0)`` is used for every ``n``; monotonicity then holds because
        the flow recovers exactly when the teacher is the only PSD solution
        (Theorem 4.1), up to the tolerance ``recovery_tol``.
    rng, executor, teacher, width, flow_time, recovery_tol, checkpoint, progress
        As in :func:`recovery_probability`. Checkpoint files are one per
        instance, ``t<trial>_<hash>.npz``; for the flow the hash also covers
        ``recovery_tol``, which steers the search.

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
        ``instance_status`` (0, a solver status, or 2 when not even
        ``n_upper`` samples recovered), ``instance_seconds``, ``n_failed``,
        ``n_loaded``, ``success``, ``status``, ``message``, ``seconds`` and the
        parameters.

    Examples
    --------
    >>> res = recovery_threshold(d=4, m_star=1, trials=3, rng=0, executor="serial")
    >>> res.n_threshold, res.n_lower, res.n_upper, res.success
    (array([6, 5, 6]), 4, 10, True)
    >>> res.probability[res.n_values == 5]
    array([0.33333333])
    """
    start = time.perf_counter()
    trials, executor, checkpoint, progress, base, params = _check_sweep_args(
        d, m_star, trials, method, rng, executor, teacher, width, flow_time, recovery_tol,
        checkpoint, progress)
    d, m_star, method, recovery_tol = (params[k] for k in ("d", "m_star", "method", "recovery_tol"))
    if method == "flow":
        base |= {"recovery_tol": recovery_tol}
    tasks = [base | {"trial": t} for t in range(trials)]
    records, n_loaded = run_tasks(
        tasks, _run_threshold_instance, executor, checkpoint, path_of=_threshold_path,
        load=_load_threshold, save=_save_threshold, progress=progress,
        label=f"recovery_threshold(d={d}, m_star={m_star}, method={method!r})")
    records = [records[t] for t in range(trials)]

    lower, upper = recovery_bracket(d, m_star)
    n_threshold = np.array([r["n_threshold"] for r in records], dtype=int)
    success = np.array([r["success"] for r in records], dtype=bool)
    n_values = np.arange(lower, upper + 1)
    recovered = success[:, None] & (n_threshold[:, None] <= n_values[None, :])
    n_failed = int(np.sum(~success))
    failures = [f"trial {r['trial']}: {r['message']}" for r in records if not r["success"]]
    return Result(
        **_sweep_status(n_failed, trials, failures, "never recovered"),
        n_threshold=n_threshold,
        alpha_threshold=np.where(success, n_threshold / d, np.nan),
        n_lower=lower,
        n_upper=upper,
        n_values=n_values,
        alpha=n_values / d,
        probability=recovered.mean(axis=0),
        trials=trials,
        probe_n=[r["probe_n"] for r in records],
        probe_recovered=[r["probe_recovered"] for r in records],
        probe_value=[r["probe_value"] for r in records],
        n_probes=np.array([r["probe_n"].size for r in records]),
        instance_success=success,
        instance_status=np.array([r["status"] for r in records], dtype=int),
        instance_seconds=np.array([r["seconds"] for r in records]),
        n_failed=n_failed,
        n_loaded=n_loaded,
        seconds=time.perf_counter() - start,
        **params,
    )
