"""Running independent instances on an executor, with checkpoints (used by :mod:`qnb.recovery`).

A sweep is a list of tasks (plain dicts, so that they pickle anywhere) and a
top-level worker function that turns one task into one record. The tasks run
in this process, on a process pool or on a Dask cluster; each finished record
can be written to a checkpoint directory at once, and records found there are
read instead of recomputed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import numbers
import os

import numpy as np

from ._checkpoint import Progress
from ._validation import check_seed


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


def check_root_seed(rng):
    """The root seed of a sweep as a non-negative ``int`` (drawn when ``rng`` is not one)."""
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


def _completed(tasks, executor, worker):
    """Yield ``(index, record)`` as each task of ``tasks`` (a list of ``(index, task)``) finishes."""
    if not tasks:
        return
    if executor == "serial":
        for index, task in tasks:
            yield index, worker(task)
        return
    own = executor is None
    if own:
        executor = _default_pool(len(tasks))
    futures = []
    try:
        which = {}
        for index, task in tasks:
            future = executor.submit(worker, task)
            futures.append(future)
            which[id(future)] = index
        for future in _as_completed(futures):
            yield which[id(future)], future.result()
    finally:
        # Reached on success, on a worker error and when the caller stops early
        # (KeyboardInterrupt): do not leave tasks queued behind us.
        for future in futures:
            future.cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)


def run_tasks(tasks, worker, executor, checkpoint=None, *, path_of=None, load=None, save=None,
              label="sweep", unit="instances", progress=False):
    """Records of all ``tasks`` (a list), computed by ``worker`` or read from ``checkpoint``.

    ``path_of(task)`` names a task's checkpoint file, ``load(path, task)``
    returns its record or ``None`` (missing, unreadable, another task's) and
    ``save(path, record)`` writes one; every finished record is saved before
    the next is awaited. Returns ``(records, n_loaded)`` with ``records[i]``
    the record of ``tasks[i]``.
    """
    records = {}
    pending = list(enumerate(tasks))
    if checkpoint is not None:
        os.makedirs(checkpoint, exist_ok=True)
        pending = []
        for i, task in enumerate(tasks):
            record = load(path_of(checkpoint, task), task)
            if record is None:
                pending.append((i, task))
            else:
                records[i] = record
    n_loaded = len(records)

    report = Progress(label, len(tasks), unit, enabled=progress)
    failed = sum(not r["success"] for r in records.values())
    if n_loaded:
        report.update(n_loaded, f"{n_loaded} from checkpoint, {failed} failed")
    # closing(): if saving fails or the caller interrupts, the queued tasks are
    # cancelled (and an own pool shut down) at once, not when the generator is collected.
    with contextlib.closing(_completed(pending, executor, worker)) as finished:
        for i, record in finished:
            if checkpoint is not None:
                save(path_of(checkpoint, tasks[i]), record)
            records[i] = record
            failed += not record["success"]
            report.update(len(records), f"{n_loaded} from checkpoint, {failed} failed")
    return records, n_loaded
