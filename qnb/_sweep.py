"""The sweep engine: many independent instances, on any executor, with checkpoints.

Every sweep of the package (:func:`qnb.gd_loss_curves`,
:func:`qnb.recovery_probability`, :func:`qnb.recovery_threshold`,
:func:`qnb.string_profiles`) is a list of *tasks* and a *work* function, and
plugs in by calling :func:`run_sweep`:

* a task is a plain dict of JSON values (numbers, strings, lists) that
  determines one instance completely: the root seed, the sizes, the options
  and the instance's own key (``n``, ``trial``, ``run``). Tasks pickle
  anywhere, and a task's JSON text identifies its checkpoint file;
* ``work(task)`` is a top-level function (picklable by reference, so that
  process pools and Dask workers can run it; bind extra objects with
  :func:`functools.partial`) that returns the instance's *record*: a flat dict
  with ``success`` (bool), ``status`` (int, the sweep's own table of codes),
  ``message`` (str) and the sweep's fields (scalars or arrays). The engine adds
  ``seconds``, the time ``work`` took.

:func:`run_sweep` checks ``executor``, ``checkpoint`` and ``progress`` (the
arguments every sweep shares, so each sweep documents them once by reference),
reads the records already in the checkpoint directory, runs the other tasks
(in this process, on a process pool or on a Dask cluster), writes each record
as soon as it arrives (:mod:`qnb._checkpoint`, one schema for all sweeps) and
prints progress to ``sys.stderr``. It returns :class:`Records`, from which the
sweep assembles its result: fields stacked into arrays, the per-instance
``instance_success``, ``instance_status`` and ``instance_seconds``, and the
sweep's ``success``, ``status`` and ``message`` from :data:`MESSAGES`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import numbers
import os
import sys
import time
import warnings

import numpy as np

from ._checkpoint import check_checkpoint, load_record, record_path, save_record
from ._validation import check_int, check_seed

# Status of a whole sweep.
STATUS_ALL_SUCCEEDED = 0
STATUS_SOME_FAILED = 1

# The default message table of a sweep's status; each sweep passes its own to Records.summary.
MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} {unit} succeeded",
    STATUS_SOME_FAILED: "{failed} of {total} {unit} failed: {details}",
}


# --- arguments every sweep shares ---------------------------------------------------

def check_executor(executor):
    """``None``, ``'serial'``, an ``Executor`` or a duck-typed client with ``submit``."""
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


def check_flag(value, name):
    """Return ``value`` as ``bool`` after checking it is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def check_root_seed(rng, name="rng"):
    """The root seed of a sweep as a non-negative ``int`` (drawn when ``rng`` is not one).

    ``None`` draws fresh entropy; a ``Generator`` draws a seed from its stream
    (reproducible given its state). Either way the sweep reports the seed it
    used, so passing it back repeats the sweep.

    Examples
    --------
    >>> check_root_seed(5), check_root_seed(None) >= 0
    (5, True)
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63))
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"{name} must be None, a non-negative integer or a numpy Generator, got {type(rng).__name__}"
        )
    return check_seed(rng, name)


def renamed_seed(rng, seed, function, default):
    """The seed argument's value and name: ``rng``, or the deprecated alias ``seed=``.

    The alias gives a ``DeprecationWarning``; passing both is a ``TypeError``.
    """
    if seed is None:
        return rng, "rng"
    if not (isinstance(rng, type(default)) and rng == default):
        raise TypeError(f"{function}() got both rng and its deprecated alias seed; pass rng only")
    warnings.warn(f"{function}(seed=...) is deprecated; pass rng=... instead", DeprecationWarning,
                  stacklevel=3)
    return seed, "seed"


def check_n_values(n_values):
    """Sample sizes as an ``int`` array: a 1-D sequence of distinct integers ``>= 1``."""
    if isinstance(n_values, (str, bytes)) or np.ndim(n_values) > 1:
        raise TypeError(f"n_values must be a 1-D sequence of integers, got {type(n_values).__name__}")
    values = [n_values] if np.ndim(n_values) == 0 else list(np.asarray(n_values, dtype=object))
    if not values:
        raise ValueError("n_values must not be empty")
    values = [check_int(n, "n_values entry") for n in values]
    if len(set(values)) != len(values):
        raise ValueError(f"n_values must not repeat a value, got {values}")
    return np.array(values, dtype=int)


# --- executors ------------------------------------------------------------------------

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
    """Futures as they finish: ``concurrent.futures`` and Dask futures in completion order,
    any other object with ``result()`` (a duck-typed executor's) in submission order."""
    if all(isinstance(f, concurrent.futures.Future) for f in futures):
        return concurrent.futures.as_completed(futures)
    try:
        import distributed
    except ImportError:  # pragma: no cover - distributed is a pinned dependency
        distributed = None
    if distributed is not None and all(isinstance(f, distributed.Future) for f in futures):
        return distributed.as_completed(futures)
    return iter(futures)


def _timed(work, task):
    """``work(task)`` with the seconds it took added as ``seconds`` (runs in the worker)."""
    start = time.perf_counter()
    record = work(task)
    record["seconds"] = time.perf_counter() - start
    return record


def _completed(pending, executor, work):
    """Yield ``(index, record)`` as each of ``pending`` (a list of ``(index, task)``) finishes."""
    if not pending:
        return
    work = functools.partial(_timed, work)
    if executor == "serial":
        for index, task in pending:
            yield index, work(task)
        return
    own = executor is None
    if own:
        executor = _default_pool(len(pending))
    futures = []
    try:
        which = {}
        for index, task in pending:
            future = executor.submit(work, task)
            futures.append(future)
            which[id(future)] = index
        for future in _as_completed(futures):
            yield which[id(future)], future.result()
    finally:
        # Reached on success, on a worker error and when the caller stops early
        # (KeyboardInterrupt): do not leave tasks queued behind us.
        for future in futures:
            cancel = getattr(future, "cancel", None)
            if cancel is not None:
                cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)


# --- the engine ---------------------------------------------------------------------

class Progress:
    """One line on ``sys.stderr`` every ``every`` items and after the last one.

    ``update(done, details)`` prints ``"<label>: <done>/<total> <unit>, <details>, <t> s"``
    when ``done`` is a multiple of ``every`` or equals ``total``; nothing when disabled.
    Progress goes to stderr so that notebook outputs compared on stdout do not change.
    """

    def __init__(self, label, total, unit, enabled=True, every=None, stream=None):
        self.label, self.total, self.unit, self.enabled = label, total, unit, enabled
        self.every = max(1, total // 20) if every is None else max(1, int(every))
        self.stream = stream
        self.start = time.perf_counter()

    def update(self, done, details=""):
        if not self.enabled or (done % self.every and done != self.total):
            return
        details = f", {details}" if details else ""
        print(
            f"{self.label}: {done}/{self.total} {self.unit}{details}, "
            f"{time.perf_counter() - self.start:.1f} s",
            file=self.stream if self.stream is not None else sys.stderr,
            flush=True,
        )


class Records(list):
    """The records of a sweep, in task order, with what the result needs from them.

    Attributes: ``tasks``, ``index`` (the task fields that name an instance),
    ``unit`` and ``n_loaded`` (records read from the checkpoint).
    """

    def __init__(self, records, tasks, index, unit, n_loaded):
        super().__init__(records)
        self.tasks, self.index, self.unit, self.n_loaded = tasks, index, unit, n_loaded

    def array(self, field, shape, dtype=None):
        """Field ``field`` of every record as one array of shape ``shape + field shape``."""
        values = np.array([record[field] for record in self], dtype=dtype)
        return values.reshape(tuple(shape) + values.shape[1:])

    def name(self, i):
        """``"n=12 trial=3"``: the index fields of task ``i``."""
        return " ".join(f"{key}={self.tasks[i][key]}" for key in self.index)

    def summary(self, shape, messages=MESSAGES):
        """The fields every sweep result shares.

        ``success``, ``status`` and ``message`` of the sweep (from the table
        ``messages``, whose entries may use ``{total}``, ``{unit}``, ``{failed}``
        and ``{details}``, the failed instances and their messages),
        ``instance_success``, ``instance_status`` and ``instance_seconds`` of
        shape ``shape``, ``n_failed`` and ``n_loaded``.
        """
        failures = [f"{self.name(i)}: {r['message']}" for i, r in enumerate(self) if not r["success"]]
        status = STATUS_SOME_FAILED if failures else STATUS_ALL_SUCCEEDED
        message = messages[status].format(total=len(self), unit=self.unit, failed=len(failures),
                                           details="; ".join(failures))
        return {
            "success": not failures, "status": status, "message": message,
            "instance_success": self.array("success", shape, bool),
            "instance_status": self.array("status", shape, int),
            "instance_seconds": self.array("seconds", shape, float),
            "n_failed": len(failures), "n_loaded": self.n_loaded,
        }


def run_sweep(name, work, tasks, *, index, executor=None, checkpoint=None, progress=False,
              unit="instances", label=None):
    """Records of all ``tasks``, computed by ``work`` on ``executor`` or read from ``checkpoint``.

    Parameters
    ----------
    name : str
        The sweep's name: part of every checkpoint file's name and identity.
    work : callable
        ``work(task) -> record`` (see the module docstring).
    tasks : list of dict
        JSON-serialisable tasks, one per instance.
    index : tuple of str
        Task fields that tell the instances of one sweep apart (file names, messages).
    executor : None, 'serial', concurrent.futures.Executor or an object with ``submit``
        ``None``: a process pool with ``os.cpu_count()`` workers, created and
        shut down here. ``'serial'``: in this process, in task order. An
        executor, or any object whose ``submit(fn, *args)`` returns futures
        (a Dask ``Client``), is used as it is and left open; futures that are
        neither ``concurrent.futures`` nor Dask futures are awaited in
        submission order.
    checkpoint : str or os.PathLike, optional
        Directory (created if missing); each record is written there as soon
        as it arrives, and records found there are read instead of recomputed.
    progress : bool
        Print a progress line to ``sys.stderr`` every few instances.
    unit, label : str
        What an instance is called, and the progress lines' prefix (default ``name``).

    Returns
    -------
    Records

    Examples
    --------
    >>> def square(task):
    ...     return {"success": True, "status": 0, "message": "done", "square": task["k"] ** 2}
    >>> records = run_sweep("demo", square, [{"k": 2}, {"k": 3}], index=("k",), executor="serial")
    >>> [r["square"] for r in records], records.n_loaded
    ([4, 9], 0)
    """
    executor = check_executor(executor)
    checkpoint = check_checkpoint(checkpoint)
    progress = check_flag(progress, "progress")
    records, pending = {}, list(enumerate(tasks))
    if checkpoint is not None:
        os.makedirs(checkpoint, exist_ok=True)
        paths = [record_path(checkpoint, name, task, index) for task in tasks]
        records = {i: r for i, r in ((i, load_record(paths[i], name, t)) for i, t in pending)
                   if r is not None}
        pending = [(i, task) for i, task in pending if i not in records]
    n_loaded = len(records)

    report = Progress(label or name, len(tasks), unit, enabled=progress)
    failed = sum(not r["success"] for r in records.values())
    if n_loaded:
        report.update(n_loaded, f"{n_loaded} from checkpoint, {failed} failed")
    # closing(): if saving fails or the caller interrupts, the queued tasks are
    # cancelled (and an own pool shut down) at once, not when the generator is collected.
    with contextlib.closing(_completed(pending, executor, work)) as finished:
        for i, record in finished:
            if checkpoint is not None:
                save_record(paths[i], name, tasks[i], record)
            records[i] = record
            failed += not record["success"]
            report.update(len(records), f"{n_loaded} from checkpoint, {failed} failed")
    return Records([records[i] for i in range(len(tasks))], tasks, index, unit, n_loaded)

