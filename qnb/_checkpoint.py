"""Checkpoint files of the sweeps: one record per file, one schema for every sweep.

A record is a flat dict of named values (``bool``, ``int``, ``float``, ``str``
or arrays) that always holds ``success``, ``status``, ``message`` and
``seconds``. Its file stores every field under its own name, plus the field
``checkpoint``: the JSON text of the record's identity (the schema
:data:`FORMAT`, the sweep's name and the task). A file is read back only when
that identity is the task's, so a file from another schema, sweep or set of
parameters is recomputed, never misread. The file name carries a short hash of
the same identity. Files are written atomically (a temporary file renamed
into place), so a crash never leaves a half-written file under a final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile

import numpy as np

# The record schema. Bump it when the meaning of a stored field changes: file names and
# identities change with it, so files of the old schema are recomputed. (Version 1 was the
# per-sweep schemas "recovery_probability/1", "recovery_threshold/1", "gd_loss_curves/1" and 1.)
FORMAT = "qnb.sweep/2"

# Fields every record holds.
COMMON_FIELDS = ("success", "status", "message", "seconds")


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


def identity(sweep, task):
    """The JSON text that names a record: schema, sweep and task (key order irrelevant).

    Examples
    --------
    >>> identity("s", {"d": 3, "n": 8}) == identity("s", {"n": 8, "d": 3})
    True
    """
    return json.dumps({"format": FORMAT, "sweep": sweep, "task": task}, sort_keys=True)


def record_path(directory, sweep, task, index):
    """``<directory>/<sweep>_<index fields>_<hash>.npz``, e.g. ``recovery_probability_n12_trial3_….npz``.

    Examples
    --------
    >>> os.path.basename(record_path("ck", "s", {"n": 12, "trial": 3, "d": 4}, ("n", "trial")))[:13]
    's_n12_trial3_'
    """
    digest = hashlib.sha256(identity(sweep, task).encode()).hexdigest()[:12]
    where = "".join(f"_{key}{task[key]}" for key in index)
    return os.path.join(directory, f"{sweep}{where}_{digest}.npz")


def save_record(path, sweep, task, record):
    """Write ``record`` and its identity to ``path`` atomically (temporary file, then rename)."""
    arrays = {key: np.asarray(value) for key, value in record.items()}
    arrays["checkpoint"] = np.array(identity(sweep, task))
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


def load_record(path, sweep, task):
    """The record stored at ``path`` for ``task``; ``None`` when missing, unreadable, of
    another schema or of another task. Scalars come back as Python scalars, arrays as arrays."""
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            fields = {key: f[key] for key in f.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    stored = fields.pop("checkpoint", None)
    if stored is None or str(stored) != identity(sweep, task):
        return None
    if any(key not in fields for key in COMMON_FIELDS):
        return None
    return {key: value.item() if value.ndim == 0 else value for key, value in fields.items()}
