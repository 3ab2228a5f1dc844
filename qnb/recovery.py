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

import concurrent.futures
import contextlib
import numbers
import os
import time

import numpy as np

from ._checkpoint import (
    Progress,
    check_checkpoint,
    check_flag,
    load_npz,
    parameter_hash,
    save_npz_atomic,
)
from ._validation import check_int, check_positive, check_seed
from .data import gram, labels, sample_inputs
from .experiments import TEACHERS, _check_teacher
from .flows import empirical_flow
from .result import Result

METHODS = ("certificate", "flow")

# Bump when the meaning of a checkpoint file changes, so old files are not reused.
_CHECKPOINT_FORMAT = "recovery_probability/1"

# Per-instance status when the solver raised instead of returning a status.
_STATUS_EXCEPTION = -100


# --- one instance (runs in a worker process) ----------------------------------

# Exceptions that mean "this instance's solver failed", not "the code is wrong".
_SOLVER_ERRORS = (ArithmeticError, np.linalg.LinAlgError)


def instance_data(seed, n, trial, d, m_star, teacher="gaussian"):
    """Teacher matrix, inputs and labels of instance ``(n, trial)`` of a sweep.

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
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(n, trial)))
    A_star = gram(TEACHERS[teacher](d, m_star, rng))
    X = sample_inputs(n, d, rng)
    return A_star, X, labels(X, A_star), rng


def _run_instance(task):
    """Solve one instance; ``task`` is a plain dict so that it pickles anywhere.

    Top-level (picklable by reference) so that process pools and Dask workers
    can run it. The returned record holds what the checkpoint file stores;
    whether the instance counts as recovered is decided from it by
    :func:`_recovered` in the calling process.
    """
    A_star, X, y, rng = instance_data(task["seed"], task["n"], task["trial"], task["d"],
                                      task["m_star"], task["teacher"])
    record = {
        "n": task["n"],
        "trial": task["trial"],
        "method": task["method"],
        "unique": False,
        "certificate": np.nan,
        "final_loss": np.nan,
        "distance": np.nan,
    }
    start = time.perf_counter()
    try:
        if task["method"] == "certificate":
            from .uniqueness import is_unique_minimizer

            res = is_unique_minimizer(X, A_star)
            record["unique"] = bool(res.unique)
            record["certificate"] = float(res.certificate)
        else:
            W0 = rng.standard_normal((task["width"], task["d"]))
            res = empirical_flow(gram(W0), X, y, [0.0, task["flow_time"]])
            if res.success:
                A_final = res.A[-1]
                record["final_loss"] = float(res.loss[-1])
                record["distance"] = float(np.linalg.norm(A_final - A_star) / np.linalg.norm(A_star))
        record.update(success=bool(res.success), status=int(res.status), message=str(res.message))
    except _SOLVER_ERRORS as exc:
        record.update(success=False, status=_STATUS_EXCEPTION,
                      message=f"{type(exc).__name__}: {exc}")
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
    """A checkpointed record; ``None`` when missing, unreadable or not this instance's."""
    f = load_npz(path)
    if f is None:
        return None
    try:
        record = {key: kind(f[key][()]) for key, kind in _RECORD_FIELDS.items()}
    except (KeyError, ValueError, TypeError):
        return None
    if (record["n"], record["trial"], record["method"]) != (task["n"], task["trial"], task["method"]):
        return None
    return record


# --- executors -----------------------------------------------------------------

def _check_executor(executor):
    if executor is None or isinstance(executor, concurrent.futures.Executor):
        return executor
    if isinstance(executor, str):
        if executor != "serial":
            raise ValueError(f"executor must be None, 'serial' or an executor, got {executor!r}")
        return executor
    if callable(getattr(executor, "submit", None)):
        return executor
    raise TypeError(
        "executor must be None, 'serial', a concurrent.futures.Executor or an object with a "
        f"submit(fn, *args) method such as a dask.distributed.Client, got {type(executor).__name__}"
    )


def _default_pool(n_tasks):
    """A process pool with ``os.cpu_count()`` workers (fewer if there are fewer tasks).

    On POSIX the workers come from a fork server: forking the caller directly
    is unsafe when it runs threads (a Dask client, a Jupyter kernel).
    """
    import multiprocessing

    workers = max(1, min(os.cpu_count() or 1, n_tasks))
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _as_completed(futures):
    """``distributed.as_completed`` for Dask futures, ``concurrent.futures`` otherwise."""
    if not futures:
        return iter(())
    if not isinstance(futures[0], concurrent.futures.Future):
        try:
            import distributed
        except ImportError:  # pragma: no cover - distributed is a pinned dependency
            distributed = None
        if distributed is not None and isinstance(futures[0], distributed.Future):
            return distributed.as_completed(futures)
    return concurrent.futures.as_completed(futures)


def _completed(tasks, executor):
    """Yield ``(task, record)`` as each instance finishes."""
    if not tasks:
        return
    if executor == "serial":
        for task in tasks:
            yield task, _run_instance(task)
        return
    own = executor is None
    if own:
        executor = _default_pool(len(tasks))
    futures = []
    try:
        which = {}
        for task in tasks:
            future = executor.submit(_run_instance, task)
            futures.append(future)
            which[id(future)] = task
        for future in _as_completed(futures):
            yield which[id(future)], future.result()
    finally:
        # Reached on success, on a worker error and when the caller stops early
        # (KeyboardInterrupt): do not leave instances queued behind us.
        for future in futures:
            future.cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)


# --- the sweep -----------------------------------------------------------------

def _check_seed_arg(rng):
    """The root seed of the sweep as a non-negative ``int`` (drawn when ``rng`` is not one)."""
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, np.random.Generator):
        # Reproducible given the generator's state; the drawn seed is recorded.
        return int(rng.integers(0, 2**63))
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"rng must be None, a non-negative integer or a numpy Generator, got {type(rng).__name__}"
        )
    return check_seed(rng, "rng")


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


def recovery_probability(d, m_star, n_values, trials, method="certificate", rng=None,
                         executor=None, teacher="gaussian", width=None, flow_time=1e6,
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
        and tolerances) up to ``flow_time``, ends at relative Frobenius distance
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
        Final time ``T`` of the flow.
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
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    n_values = _check_n_values(n_values)
    trials = check_int(trials, "trials")
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__} {method!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    seed = _check_seed_arg(rng)
    executor = _check_executor(executor)
    teacher = _check_teacher(teacher)
    width = d if width is None else check_int(width, "width")
    flow_time = check_positive(flow_time, "flow_time")
    recovery_tol = check_positive(recovery_tol, "recovery_tol")
    checkpoint = check_checkpoint(checkpoint)
    progress = check_flag(progress, "progress")

    base = {"seed": seed, "d": d, "m_star": m_star, "teacher": teacher, "method": method}
    if method == "flow":
        base |= {"width": width, "flow_time": flow_time}
    tasks = [base | {"n": int(n), "trial": t} for n in n_values for t in range(trials)]
    index = {(int(n), t): (i, t) for i, n in enumerate(n_values) for t in range(trials)}

    records = {}
    pending = tasks
    if checkpoint is not None:
        os.makedirs(checkpoint, exist_ok=True)
        pending = []
        for task in tasks:
            record = _load_record(_checkpoint_path(checkpoint, task), task)
            if record is None:
                pending.append(task)
            else:
                records[task["n"], task["trial"]] = record
    n_loaded = len(records)

    report = Progress(f"recovery_probability(d={d}, m_star={m_star}, method={method!r})",
                      len(tasks), "instances", enabled=progress)
    failed = sum(not r["success"] for r in records.values())
    if n_loaded:
        report.update(n_loaded, f"{n_loaded} from checkpoint, {failed} failed")
    # closing(): if saving fails or the caller interrupts, the queued instances are
    # cancelled (and an own pool shut down) at once, not when the generator is collected.
    with contextlib.closing(_completed(pending, executor)) as finished:
        for task, record in finished:
            if checkpoint is not None:
                _save_record(_checkpoint_path(checkpoint, task), record)
            records[task["n"], task["trial"]] = record
            failed += not record["success"]
            report.update(len(records), f"{n_loaded} from checkpoint, {failed} failed")

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
    if n_failed == 0:
        overall, message = 0, f"all {len(tasks)} instances solved"
    else:
        overall = 1
        message = (f"{n_failed} of {len(tasks)} instances failed (counted as not recovered): "
                   + "; ".join(messages))
    return Result(
        success=n_failed == 0,
        status=overall,
        message=message,
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
        d=d,
        m_star=m_star,
        method=method,
        seed=seed,
        teacher=teacher,
        width=width,
        flow_time=flow_time,
        recovery_tol=recovery_tol,
    )
