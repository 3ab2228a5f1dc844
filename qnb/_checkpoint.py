"""Checkpoint files of the sweeps: one record per file, one schema for every sweep.

A record is a flat dict of named values (``bool``, ``int``, ``float``, ``str``
or arrays) that always holds ``success``, ``status``, ``message`` and
``seconds``. Its file stores every field under its own name, plus the field
``checkpoint``: the JSON text of the record's identity (the schema
:data:`FORMAT`, the sweep's name and the task, which holds the root seed and
every parameter that determines the instance). The file name carries a short
hash of the same identity, but a name is never trusted: :func:`load_record`
reads a file back only when its stored identity is the task's and its fields
are those the sweep expects, and otherwise says why, so that the caller
recomputes the instance and warns. A renamed file, a record of another seed or
parameters, a file of another schema and a forged or corrupt file are all
recomputed, never misread.

Reading is bounded: before an array is allocated, its ``.npy`` header is
checked (plain dtype, size within :data:`MAX_RECORD_BYTES` and within the
bytes the archive says it holds), so a header that claims ``2**40`` floats is
a bad file, not a ``MemoryError``.

Files are written atomically: a temporary file ``.tmp-<host>-<pid>-*.npz`` in
the same directory, renamed into place, so a crash never leaves a half-written
file under a final name. A process killed while writing leaves its temporary
file behind; :func:`remove_stale_temporaries` deletes those of processes that
no longer run (and any older than :data:`STALE_SECONDS`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import socket
import tempfile
import time
import zipfile

import numpy as np

# The record schema. Bump it when the meaning or layout of a stored field changes: file names
# and identities change with it, so files of the old schema are recomputed. (Version 1 was the
# per-sweep schemas "recovery_probability/1", "recovery_threshold/1", "gd_loss_curves/1" and 1;
# version 2 could not hold the engine's failure records, statuses -200 to -202 of qnb._sweep.)
FORMAT = "qnb.sweep/3"

# Fields every record holds, and the dtype kinds each may be stored with.
COMMON_FIELDS = {"success": "b", "status": "iu", "message": "U", "seconds": "iuf"}

# Largest record read back, over all its members: records hold a few curves of at most
# ~1e5 points, so 256 MiB is generous and still far below what would exhaust memory.
MAX_RECORD_BYTES = 2**28

# dtype kinds a stored member may have (bool, integers, floats, unicode text): never objects.
_PLAIN_KINDS = "biufU"

# Dtype kinds a stored value may have, given the kind of the expected (template) value:
# an integer or bool is a valid float, a bool a valid integer.
_COMPATIBLE_KINDS = {"b": "b", "i": "biu", "u": "biu", "f": "biuf", "U": "U"}

# A temporary file of another host, or of a process that cannot be checked, is deleted once
# it is this old: writing a record takes milliseconds, so such a file was abandoned.
STALE_SECONDS = 3600.0

# .tmp-<host>-<pid>-<random>.npz (tempfile's random part has no "-"), or an older .tmp-<random>.npz.
_TEMPORARY = re.compile(r"^\.tmp-(?:(?P<host>.+)-(?P<pid>\d+)-)?[^-]*\.npz$")


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


# --- writing --------------------------------------------------------------------------

def _temporary_prefix():
    """``.tmp-<host>-<pid>-``: who writes a temporary file, so that a later run can tell
    whether its writer still runs."""
    return f".tmp-{socket.gethostname()}-{os.getpid()}-"


def save_record(path, sweep, task, record):
    """Write ``record`` and its identity to ``path`` atomically (temporary file, then rename)."""
    arrays = {key: np.asarray(value) for key, value in record.items()}
    arrays["checkpoint"] = np.array(identity(sweep, task))
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(), suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def process_gone(pid):
    """Whether no process ``pid`` exists on this host (a zombie still counts as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


def remove_stale_temporaries(directory, now=None):
    """Delete the temporary files left in ``directory`` by writers killed mid-write.

    A file ``.tmp-<host>-<pid>-*.npz`` of this host is deleted when process
    ``pid`` no longer runs; any other ``.tmp-*.npz`` (another host's, or of an
    older schema) when it is older than :data:`STALE_SECONDS`. Files that
    vanish meanwhile (another process cleaning up) are skipped. Returns the
    names deleted.
    """
    now = time.time() if now is None else now
    host = socket.gethostname()
    removed = []
    for name in sorted(os.listdir(directory)):
        match = _TEMPORARY.match(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        try:
            mine = match["host"] == host and match["pid"] is not None
            if (mine and process_gone(int(match["pid"]))
                    or now - os.path.getmtime(path) > STALE_SECONDS):
                os.remove(path)
                removed.append(name)
        except FileNotFoundError:
            continue
    return removed


# --- reading --------------------------------------------------------------------------

class BadRecord(Exception):
    """A checkpoint file that cannot be used; the message says why."""


def _array_bytes(member, size):
    """The bytes of the array that the ``.npy`` header of ``member`` (an open zip member of
    ``size`` bytes) announces, after checking that it is plain and fits ``size``."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise BadRecord(f"unsupported .npy version {version}")
    if dtype.kind not in _PLAIN_KINDS or dtype.hasobject:
        raise BadRecord(f"dtype {dtype} is not a plain bool, number or text")
    nbytes = math.prod(shape) * dtype.itemsize
    if min(shape, default=0) < 0 or nbytes > min(size, MAX_RECORD_BYTES):
        raise BadRecord(f"its header claims shape {shape} of {dtype} ({nbytes:.3g} bytes), not within "
                        f"the {size} bytes stored and the limit of {MAX_RECORD_BYTES} bytes")
    return nbytes


def _read_fields(path):
    """Every member of the ``.npz`` file at ``path``, each header checked before it is read."""
    fields, total = {}, 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise BadRecord(f"member {info.filename!r} is not a .npy array")
            key = info.filename[:-4]
            with archive.open(info) as member:
                total += _array_bytes(member, info.file_size)
            if total > MAX_RECORD_BYTES:
                raise BadRecord(f"its members exceed the limit of {MAX_RECORD_BYTES} bytes")
            with archive.open(info) as member:
                fields[key] = np.lib.format.read_array(member, allow_pickle=False)
    return fields


def _task_difference(stored, task):
    """``"seed: stored 1, expected 2; ..."``: how a stored task differs from ``task``."""
    if not isinstance(stored, dict):
        return f"its task is {stored!r}"

    def shown(values, key):
        return repr(values[key]) if key in values else "nothing"

    return "; ".join(f"{key}: stored {shown(stored, key)}, expected {shown(task, key)}"
                     for key in sorted(set(stored) | set(task))
                     if shown(stored, key) != shown(task, key))


def _check_identity(text, sweep, task):
    """Raise :class:`BadRecord` unless the stored identity ``text`` is that of ``task``."""
    if text == identity(sweep, task):
        return
    try:
        stored = json.loads(text)
    except ValueError:
        raise BadRecord("its identity is not JSON") from None
    if not isinstance(stored, dict):
        raise BadRecord("its identity is not a JSON object")
    if stored.get("format") != FORMAT:
        raise BadRecord(f"it has the schema {stored.get('format')!r}, not {FORMAT!r}")
    if stored.get("sweep") != sweep:
        raise BadRecord(f"it is a record of the sweep {stored.get('sweep')!r}, not {sweep!r}")
    raise BadRecord(f"it was computed for another task ({_task_difference(stored.get('task'), task)})")


def _check_field(key, value, kinds, shape=()):
    """Raise :class:`BadRecord` unless ``value`` has one of the dtype ``kinds`` and fits
    ``shape`` (a template shape; an extent 0 there allows any length)."""
    if value.dtype.kind not in kinds:
        raise BadRecord(f"field {key!r} has dtype {value.dtype}")
    fits = value.ndim == len(shape) and all(e == 0 or e == v for e, v in zip(shape, value.shape))
    if not fits:
        raise BadRecord(f"field {key!r} has shape {value.shape}, expected {tuple(shape)}")


def _check_fields(fields, template):
    """Raise :class:`BadRecord` unless ``fields`` hold the common fields and ``template``'s
    (when given) with matching dtype kinds and shapes."""
    for key, kinds in COMMON_FIELDS.items():
        if key not in fields:
            raise BadRecord(f"it lacks the field {key!r}")
        _check_field(key, fields[key], kinds)
    for key, value in (template or {}).items():
        if key not in fields:
            raise BadRecord(f"it lacks the field {key!r}")
        value = np.asarray(value)
        _check_field(key, fields[key], _COMPATIBLE_KINDS.get(value.dtype.kind, value.dtype.kind),
                     value.shape)


def load_record(path, sweep, task, template=None):
    """The record stored at ``path`` for ``task``, or why it cannot be used.

    Parameters
    ----------
    path : str
        The file (:func:`record_path`).
    sweep : str
        The sweep's name.
    task : dict
        The task the record must have been computed for.
    template : dict, optional
        The fields the sweep reads from every record (its fields of a failed
        instance): each must be stored, with a compatible dtype and the same
        shape (an extent 0 in the template allows any length).

    Returns
    -------
    record : dict or None
        The record (scalars as Python scalars, arrays as arrays), or ``None``.
    reason : str or None
        ``None`` when the record is returned or the file does not exist;
        otherwise why the file is not used (unreadable, too large, another
        schema, sweep or task, a missing or malformed field).
    """
    if not os.path.exists(path):
        return None, None
    try:
        try:
            fields = _read_fields(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, NotImplementedError,
                RuntimeError) as exc:
            raise BadRecord(f"it is unreadable ({type(exc).__name__}: {exc})") from None
        stored = fields.pop("checkpoint", None)
        if stored is None or stored.dtype.kind != "U" or stored.ndim != 0:
            raise BadRecord("it holds no identity")
        _check_identity(str(stored), sweep, task)
        _check_fields(fields, template)
    except BadRecord as bad:
        return None, str(bad)
    return {key: value.item() if value.ndim == 0 else value for key, value in fields.items()}, None
