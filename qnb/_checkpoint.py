"""Helpers shared by the long sweeps (:mod:`qnb.loss_curves`, :mod:`qnb.recovery`,
:mod:`qnb.string_profiles`).

A sweep computes many independent items (runs, instances) and may checkpoint
each finished item to a directory, so that an interrupted sweep resumes
without recomputation. An item's file name carries a short hash of every
parameter that determines it; files are written atomically (a temporary file
renamed into place), so a crash never leaves a half-written file under a
final name. Progress lines go to ``sys.stderr`` so that notebook outputs
compared on stdout do not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
import zipfile

import numpy as np


def check_checkpoint(checkpoint):
    """``None`` or the checkpoint directory as a ``str`` (it may not exist yet)."""
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(
            f"checkpoint must be None or a directory path, got {type(checkpoint).__name__}"
        )
    path = os.fspath(checkpoint)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"checkpoint must be a directory, got the file {path!r}")
    return path


def check_flag(value, name):
    """Return ``value`` as ``bool`` after checking it is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def array_digest(arr):
    """SHA-256 hex digest of the bytes of an array (for parameters that are arrays)."""
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def parameter_hash(params, length=12):
    """Short hex hash of a JSON-serialisable mapping of parameters (key order irrelevant).

    Examples
    --------
    >>> parameter_hash({"d": 3, "n": 8}) == parameter_hash({"n": 8, "d": 3})
    True
    >>> len(parameter_hash({"d": 3}))
    12
    """
    key = json.dumps(params, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:length]


def save_npz_atomic(path, **arrays):
    """Write ``numpy.savez(path, **arrays)`` atomically (temporary file, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_npz(path):
    """All arrays of an ``.npz`` file as a dict; ``None`` when missing or unreadable."""
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def read_record(path, task, scalars, arrays, identity):
    """A checkpointed record with the given fields; ``None`` when missing, unreadable or when
    its ``identity`` fields differ from the task's (another item's file).

    ``scalars`` and ``arrays`` map field names to the type each is read as.
    """
    f = load_npz(path)
    if f is None:
        return None
    try:
        record = {key: kind(f[key][()]) for key, kind in scalars.items()}
        record |= {key: np.asarray(f[key], dtype=kind) for key, kind in arrays.items()}
    except (KeyError, ValueError, TypeError):
        return None
    if any(record[key] != task[key] for key in identity):
        return None
    return record


class Progress:
    """One line on ``sys.stderr`` every ``every`` items and after the last one.

    ``update(done, details)`` prints ``"<label>: <done>/<total> <unit>, <details>, <t> s"``
    when ``done`` is a multiple of ``every`` or equals ``total``; nothing when disabled.
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
