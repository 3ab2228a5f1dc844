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

:func:`run_sweep` checks ``executor``, ``checkpoint``, ``progress`` and
``instance_timeout`` (the arguments every sweep shares, so each sweep documents
them once by reference), prints a root seed drawn for ``rng=None`` so that the
sweep can be resumed, reads the records already in the checkpoint directory
(each checked against its task), runs the other tasks (in this process, on its
own process pool or on a given executor such as a Dask cluster), writes each
record as soon as it arrives (:mod:`qnb._checkpoint`, one schema for all
sweeps) and prints progress to ``sys.stderr``. It returns :class:`Records`,
from which the sweep assembles its result: fields stacked into arrays, the
per-instance ``instance_success``, ``instance_status`` and
``instance_seconds``, and the sweep's ``success``, ``status`` and ``message``
from :data:`MESSAGES`.

One instance never stops a sweep: an exception of ``work``, an instance over
its time limit and a worker process that dies each become that instance's
record, with a status of :data:`ENGINE_MESSAGES` (-200, -201, -202), the
sweep's blank fields (NaN, -1, empty) and a message naming the exception.
Those records are checkpointed but recomputed on the next run. The engine's
own pool kills a worker stuck past its limit, and its workers exit by
themselves when the sweep's process dies, even by SIGKILL.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
import multiprocessing.connection
import numbers
import os
import select
import signal
import sys
import threading
import time
import warnings

import numpy as np

from ._checkpoint import (
    check_checkpoint,
    load_record,
    process_gone,
    record_path,
    remove_stale_temporaries,
    save_record,
)
from ._validation import check_int, check_positive, check_seed

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


# --- failures of one instance -----------------------------------------------------------

# Status of one instance when its work did not return a record: the engine's own codes, the
# same in every sweep and outside every sweep's own table (its work's codes are small numbers
# and -100). Such a record is written to the checkpoint (it shows what happened) but is
# recomputed on the next run: an exception may come from code fixed since or from the machine
# (memory), a time limit or a lost worker from the load, and none of them is a verdict.
STATUS_RAISED = -200        # the work raised an exception
STATUS_TIMED_OUT = -201     # the instance ran longer than instance_timeout
STATUS_WORKER_LOST = -202   # the process running it died, or its executor failed

ENGINE_MESSAGES = {
    STATUS_RAISED: "raised {error}",
    STATUS_TIMED_OUT: "stopped after instance_timeout = {timeout:g} s",
    STATUS_WORKER_LOST: "its worker was lost: {error}",
}

# Statuses of records that a rerun recomputes instead of reading back.
RETRIED_STATUSES = frozenset(ENGINE_MESSAGES)

# Seconds a worker of the engine's own pool gets after its time limit to stop by itself
# (the alarm in the worker) before it is killed: the alarm cannot interrupt compiled code.
KILL_GRACE_SECONDS = 1.0

# After the first alarm, the alarm repeats at this interval, in case the work swallowed it.
ALARM_REPEAT_SECONDS = 1.0

# Where a worker cannot wait on its parent's pidfd (not Linux), it polls the parent this often.
PARENT_POLL_SECONDS = 1.0


def check_timeout(instance_timeout):
    """``None`` (no limit) or the per-instance time limit in seconds, a finite ``float > 0``."""
    if instance_timeout is None:
        return None
    return check_positive(instance_timeout, "instance_timeout")


def failure(status, **context):
    """The record of an instance whose work did not return one (``ENGINE_MESSAGES[status]``)."""
    return {"success": False, "status": status, "message": ENGINE_MESSAGES[status].format(**context)}


def _error_text(exc):
    return f"{type(exc).__name__}: {exc}"


class InstanceTimeout(BaseException):
    """Raised by the alarm in the thread running an instance that exceeded its time limit.

    A ``BaseException``, like ``KeyboardInterrupt``, so that a solver's own
    ``except Exception`` does not swallow it and carry on past the limit.
    """


# Whether this process's alarm belongs to an instance (a pending signal that arrives after the
# instance finished must not raise).
_ALARM = {"armed": False}


def _on_alarm(signum, frame):
    if _ALARM["armed"]:
        raise InstanceTimeout


def alarm_available():
    """Whether this thread can limit an instance's time with ``SIGALRM`` (POSIX, main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _limited(work, task, timeout):
    """``work(task)``, interrupted by :class:`InstanceTimeout` after ``timeout`` seconds when
    this thread can set an alarm (and no outer instance's alarm is running)."""
    if timeout is None or _ALARM["armed"] or not alarm_available():
        return work(task)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _ALARM["armed"] = True
    signal.setitimer(signal.ITIMER_REAL, timeout, ALARM_REPEAT_SECONDS)
    try:
        return work(task)
    finally:
        _ALARM["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def _timed(work, timeout, task):
    """``work(task)`` with the seconds it took added as ``seconds`` (runs in the worker).

    Never raises an ``Exception``: an exception or the time limit becomes the
    instance's failure record, with the exception's type and message, so that
    one instance cannot stop a sweep. ``KeyboardInterrupt`` still stops it.
    """
    start = time.perf_counter()
    try:
        record = _limited(work, task, timeout)
    except InstanceTimeout:
        record = failure(STATUS_TIMED_OUT, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - any failure of one instance is its status
        record = failure(STATUS_RAISED, error=_error_text(exc))
    record["seconds"] = time.perf_counter() - start
    return record


# --- the engine's own process pool ---------------------------------------------------------

def _pool_context():
    """Workers from a fork server on POSIX (forking the caller directly is unsafe when it
    runs threads: a Dask client, a Jupyter kernel), spawned elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _watch_parent(parent, pidfd):
    """Block until process ``parent`` has ended, then end this worker at once."""
    if pidfd is not None:
        select.select([pidfd], [], [])  # a pidfd becomes readable when its process ends
    else:
        while not process_gone(parent):
            time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _exit_with_parent(parent):
    """End this worker as soon as the sweep's process ``parent`` ends, even when it was
    killed with SIGKILL and could not stop its workers: a watchdog thread waits on a pidfd
    of ``parent`` (Linux) or polls it (elsewhere)."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(parent)
        except ProcessLookupError:
            os._exit(1)
        except OSError:  # pragma: no cover - kernels before 5.3
            pidfd = None
    threading.Thread(target=_watch_parent, args=(parent, pidfd), daemon=True,
                     name="qnb-sweep-parent-watch").start()


# A worker's first message: it has started (imported the work's modules) and can take tasks.
_READY = "ready"


def _serve(conn, work, timeout, parent):
    """A worker of the engine's pool: say it is ready, then run each task received on ``conn``
    and send back its record; stop when the parent closes the pipe or ends."""
    _exit_with_parent(parent)
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        conn.send(_timed(work, timeout, task))


class _Worker:
    """One worker process of the engine's pool and the pipe it works through."""

    def __init__(self, context, work, timeout):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, work, timeout, os.getpid()),
                                       daemon=True, name="qnb-sweep-worker")
        self.process.start()
        child.close()
        self.timeout, self.ready = timeout, False
        self.index = self.started = None

    def start(self, index, task):
        """Send ``task``; its clock starts now, or when a new worker says it is ready (its
        start-up, importing the work's modules, does not count against the time limit).
        Returns ``False``, the worker stopped, when it died since its last task."""
        try:
            self.conn.send(task)
        except OSError:
            self.stop(kill=True)
            return False
        self.index, self.started = index, time.monotonic() if self.ready else None
        return True

    @property
    def deadline(self):
        """When the running task is killed: its limit plus the grace the alarm gets to act
        (``None``: no limit, or the task has not started)."""
        if self.timeout is None or self.started is None:
            return None
        return self.started + self.timeout + KILL_GRACE_SECONDS

    def outcome(self, ready):
        """The record of the running task if it is done, lost or past its deadline, else ``None``.

        A worker that ends before it was ready is the pool's failure, not the
        instance's (the work's modules do not import, the main module lacks its
        ``__main__`` guard): every worker would fail alike, so this raises.
        """
        if self.conn in ready or self.process.sentinel in ready:
            try:
                if self.conn.poll():
                    message = self.conn.recv()
                    if not (isinstance(message, str) and message == _READY):
                        return message
                    self.ready, self.started = True, time.monotonic()
                    return None
                error = "its process ended"
            except Exception as exc:  # noqa: BLE001 - a died worker or an unreadable record
                error = _error_text(exc)
            self.stop(kill=True)
            error += f" (exit code {self.process.exitcode})"
            if not self.ready:
                raise RuntimeError(f"a worker process of the sweep's pool failed to start: {error}")
            return self._stopped(failure(STATUS_WORKER_LOST, error=error))
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.stop(kill=True)
            return self._stopped(failure(STATUS_TIMED_OUT, timeout=self.timeout))
        return None

    def _stopped(self, record):
        """``record`` of the running task, with its seconds (its worker was stopped)."""
        seconds = 0.0 if self.started is None else time.monotonic() - self.started
        return record | {"seconds": seconds}

    @property
    def alive(self):
        return self.process.exitcode is None and not self.conn.closed

    def stop(self, kill=False):
        """Close the pipe (an idle worker then exits) or kill the process; reap it."""
        if kill and self.process.exitcode is None:
            self.process.kill()
        self.conn.close()
        self.process.join(timeout=None if kill else 5.0)
        if self.process.exitcode is None:  # pragma: no cover - a worker that ignored EOF
            self.process.kill()
            self.process.join()


def _own_pool_completed(pending, work, timeout, workers):
    """Yield ``(index, record)`` as each of ``pending`` finishes on a pool of ``workers``
    processes owned here: a worker over its time limit is killed and replaced, a worker that
    dies is recorded as the instance's failure and replaced, and every worker is stopped on
    the way out (also when the caller stops early)."""
    context = _pool_context()
    queue = collections.deque(pending)
    idle, busy = [], []
    try:
        while queue or busy:
            while queue and len(idle) + len(busy) < workers:
                idle.append(_Worker(context, work, timeout))
            while queue and idle:
                worker = idle.pop()
                if worker.start(*queue[0]):
                    queue.popleft()
                    busy.append(worker)
            if not busy:
                continue  # every idle worker had died: start new ones
            deadlines = [w.deadline for w in busy if w.deadline is not None]
            wait = max(0.0, min(deadlines) - time.monotonic()) + 0.01 if deadlines else None
            ready = multiprocessing.connection.wait(
                [w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=wait)
            done = [(w, w.outcome(ready)) for w in busy]
            done = [(w, record) for w, record in done if record is not None]
            for worker, _ in done:
                busy.remove(worker)
                if worker.alive:
                    idle.append(worker)
            for worker, record in done:
                yield worker.index, record
    finally:
        for worker in idle + busy:
            worker.stop(kill=worker in busy)


# --- executors ------------------------------------------------------------------------

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


def _executor_completed(pending, executor, work, timeout):
    """Yield ``(index, record)`` as each of ``pending`` finishes on a given ``executor``.

    The time limit is the alarm of :func:`_timed` in the worker, so it holds
    where tasks run in a process's main thread (a process pool) and not where
    they run in threads (a Dask worker). A future that raises (a broken pool,
    a lost Dask worker) is its instance's failure.
    """
    futures = []
    try:
        which = {}
        for index, task in pending:
            future = executor.submit(functools.partial(_timed, work, timeout), task)
            futures.append(future)
            which[id(future)] = index
        for future in _as_completed(futures):
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - the executor's failure, not the sweep's
                record = failure(STATUS_WORKER_LOST, error=_error_text(exc)) | {"seconds": np.nan}
            yield which[id(future)], record
    finally:
        # Reached on success and when the caller stops early (KeyboardInterrupt):
        # do not leave tasks queued behind us.
        for future in futures:
            cancel = getattr(future, "cancel", None)
            if cancel is not None:
                cancel()


def _completed(pending, executor, work, timeout):
    """Yield ``(index, record)`` as each of ``pending`` (a list of ``(index, task)``) finishes."""
    if not pending:
        return
    if executor == "serial":
        for index, task in pending:
            yield index, _timed(work, timeout, task)
    elif executor is None:
        workers = max(1, min(os.cpu_count() or 1, len(pending)))
        yield from _own_pool_completed(pending, work, timeout, workers)
    else:
        yield from _executor_completed(pending, executor, work, timeout)


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
              unit="instances", label=None, instance_timeout=None, blank=None, drawn_seed=None):
    """Records of all ``tasks``, computed by ``work`` on ``executor`` or read from ``checkpoint``.

    Parameters
    ----------
    name : str
        The sweep's name: part of every checkpoint file's name and identity.
    work : callable
        ``work(task) -> record`` (see the module docstring).
    tasks : list of dict
        JSON-serialisable tasks, one per instance; each holds the sweep's root
        seed and every parameter that determines the instance (the record's
        identity in the checkpoint).
    index : tuple of str
        Task fields that tell the instances of one sweep apart (file names, messages).
    executor : None, 'serial', concurrent.futures.Executor or an object with ``submit``
        ``None``: a pool of ``os.cpu_count()`` worker processes (fewer if
        there are fewer tasks), created and stopped here; a worker past its
        time limit is killed and replaced, and a worker exits by itself when
        this process ends, even by SIGKILL. ``'serial'``: in this process, in
        task order. An executor, or any object whose ``submit(fn, *args)``
        returns futures (a Dask ``Client``), is used as it is and left open;
        futures that are neither ``concurrent.futures`` nor Dask futures are
        awaited in submission order.
    checkpoint : str or os.PathLike, optional
        Directory (created if missing); each record is written there as soon
        as it arrives, and records found there are read instead of recomputed,
        after checking that each was computed for its task and has the
        sweep's fields (a file that fails is recomputed, with a warning that
        says why). Failure records of :data:`RETRIED_STATUSES` are
        recomputed too. Temporary files left by a process killed while
        writing are removed.
    progress : bool
        Print a progress line to ``sys.stderr`` every few instances.
    unit, label : str
        What an instance is called, and the progress lines' prefix (default ``name``).
    instance_timeout : float, optional
        Seconds one instance may run; ``None`` (default): no limit. An
        instance over it gets the status :data:`STATUS_TIMED_OUT` and the
        sweep goes on. Enforced by an alarm (``SIGALRM``) in the thread
        running the instance: on ``'serial'`` (POSIX, main thread; elsewhere
        the limit is not enforced, with a warning), on the default pool (and
        there a worker still running ``KILL_GRACE_SECONDS`` later, stuck in
        compiled code, is killed) and on a given process pool; not on Dask,
        whose workers run tasks in threads.
    blank : callable, optional
        ``blank(task) -> dict``: the sweep's fields of an instance that has no
        result (NaN, -1, empty arrays), merged into the engine's failure
        records so that every record has every field, and the template a
        stored record's fields are checked against.
    drawn_seed : int, optional
        The root seed drawn because the caller passed ``rng=None``: printed on
        ``sys.stderr`` before any work, so that an interrupted sweep can be
        resumed with ``rng=drawn_seed``.

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

    An instance that raises is a status, not the end of the sweep:

    >>> records = run_sweep("demo", square, [{"k": 2}, {"j": 3}], index=(), executor="serial")
    >>> records[1]["status"] == STATUS_RAISED, records[1]["message"]
    (True, "raised KeyError: 'k'")
    """
    executor = check_executor(executor)
    checkpoint = check_checkpoint(checkpoint)
    progress = check_flag(progress, "progress")
    timeout = check_timeout(instance_timeout)
    if timeout is not None and executor == "serial" and not alarm_available():
        warnings.warn("instance_timeout is not enforced with executor='serial' outside the main "
                      "thread or without SIGALRM (Windows); use executor=None, a process pool",
                      RuntimeWarning, stacklevel=3)
    if drawn_seed is not None:
        print(f"{name}: rng=None, drew seed {drawn_seed}; pass rng={drawn_seed} to repeat or "
              "resume this sweep", file=sys.stderr, flush=True)
    complete = functools.partial(_with_blank, blank)
    records, pending = {}, list(enumerate(tasks))
    if checkpoint is not None:
        os.makedirs(checkpoint, exist_ok=True)
        remove_stale_temporaries(checkpoint)
        paths = [record_path(checkpoint, name, task, index) for task in tasks]
        records = _read_checkpoint(name, paths, tasks, blank)
        pending = [(i, task) for i, task in pending if i not in records]
    n_loaded = len(records)

    report = Progress(label or name, len(tasks), unit, enabled=progress)
    failed = sum(not r["success"] for r in records.values())
    if n_loaded:
        report.update(n_loaded, f"{n_loaded} from checkpoint, {failed} failed")
    # closing(): if saving fails or the caller interrupts, the queued tasks are
    # cancelled (and an own pool stopped) at once, not when the generator is collected.
    with contextlib.closing(_completed(pending, executor, work, timeout)) as finished:
        for i, record in finished:
            record = complete(tasks[i], record)
            if checkpoint is not None:
                save_record(paths[i], name, tasks[i], record)
            records[i] = record
            failed += not record["success"]
            report.update(len(records), f"{n_loaded} from checkpoint, {failed} failed")
    return Records([records[i] for i in range(len(tasks))], tasks, index, unit, n_loaded)


def _with_blank(blank, task, record):
    """``record``, with the sweep's blank fields when it is one of the engine's failure records."""
    if blank is None or record["status"] not in RETRIED_STATUSES:
        return record
    return blank(task) | record


def _read_checkpoint(name, paths, tasks, blank):
    """``{i: record}`` of the tasks whose checkpoint file holds a usable record; a file that
    exists but cannot be used is named in a warning, with the reason."""
    records = {}
    for i, (path, task) in enumerate(zip(paths, tasks)):
        record, reason = load_record(path, name, task, None if blank is None else blank(task))
        if reason is not None:
            warnings.warn(f"{name}: checkpoint file {os.path.basename(path)} is not used and its "
                          f"instance is recomputed: {reason}", stacklevel=4)
        elif record is not None and record["status"] not in RETRIED_STATUSES:
            records[i] = record
    return records
