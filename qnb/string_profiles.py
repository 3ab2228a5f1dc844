"""Loss profiles along converged strings for many teacher-student instances (Fig. 4).

For every instance ``(n, trial)`` the same data as :func:`qnb.recovery_probability`
(:func:`qnb.instance_data`) and a Gaussian student start ``A(0) = W0^T W0 / m``
drawn next from the same generator, this module

* runs :func:`qnb.string_method` from ``A(0)`` to the teacher ``A*`` and keeps the
  training and population losses along the string;
* measures the string's flat stretch (:func:`qnb.flat_stretch`);
* solves the gradient flow (5) from ``A(0)`` to ``flow_time`` and records how far its
  limit stops from ``A*`` and how far the string's descending part is from the flow's
  trajectory (:func:`qnb.distance_to_path`);
* decides with the certificate (:func:`qnb.is_unique_minimizer`) whether ``A*`` is
  the only PSD zero of the training loss.

Instances run in parallel and are checkpointed one file each, as in the other sweeps.
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
from ._sweep import check_executor, check_root_seed, run_tasks
from ._validation import check_int, check_positive
from .data import gram
from .energy_paths import distance_to_path, flat_stretch, string_method
from .loss_curves import _check_teacher
from .losses import _population_loss
from .recovery import _check_n_values, _flow_with_fallback, instance_data
from .result import Result
from .uniqueness import is_unique_minimizer

_CHECKPOINT_FORMAT = 1
_FLOW_SAMPLES = 4000  # trajectory samples, log-spaced in time, for the string-to-flow distance

_SCALARS = {
    "n": int, "trial": int, "nit": int, "status": int, "success": bool, "message": str,
    "flat_start": int, "flat_count": int, "flat_length": float, "unique": bool,
    "certificate": float, "flow_gap": float, "flow_population_loss": float,
    "flow_train_loss": float, "flow_success": bool, "gd_distance": float, "seconds": float,
}
_ARRAYS = {"train_loss": float, "population_loss": float, "arclength": float}


def _flow(A0, X, y, flow_time):
    t = np.concatenate(([0.0], np.logspace(-4, np.log10(flow_time), _FLOW_SAMPLES)))
    return _flow_with_fallback(A0, X, y, t)


def _run_instance(task):
    """String, flow and certificate of one instance; ``task`` is a plain dict (picklable)."""
    start = time.perf_counter()
    d, n = task["d"], task["n"]
    A_star, X, y, rng = instance_data(task["seed"], n, task["trial"], d, task["m_star"], task["teacher"])
    A0 = gram(rng.standard_normal((task["width"], d)))
    string = string_method(A0, A_star, X, y, task["n_images"], A_star=A_star)
    flat = flat_stretch(string.train_loss, string.arclength)
    flow = _flow(A0, X, y, task["flow_time"])
    certificate = is_unique_minimizer(X, A_star)
    A_inf = flow.A[-1]
    descending = string.images[: max(flat.start, 1)]
    return {
        "n": n, "trial": task["trial"],
        "train_loss": string.train_loss, "population_loss": string.population_loss,
        "arclength": string.arclength,
        "nit": int(string.nit), "status": int(string.status), "success": bool(string.success),
        "message": str(string.message),
        "flat_start": flat.start, "flat_count": flat.count, "flat_length": flat.length,
        "unique": bool(certificate.unique), "certificate": float(certificate.certificate),
        "flow_gap": float(np.linalg.norm(A_inf - A_star)),
        "flow_population_loss": _population_loss(A_inf, A_star),
        "flow_train_loss": float(flow.loss[-1]), "flow_success": bool(flow.success),
        "gd_distance": float(distance_to_path(descending, flow.A).max()),
        "seconds": time.perf_counter() - start,
    }


def _checkpoint_path(directory, task):
    key = parameter_hash({"format": _CHECKPOINT_FORMAT} | task)
    return os.path.join(directory, f"n{task['n']:04d}_t{task['trial']:04d}_{key}.npz")


def _save_record(path, record):
    save_npz_atomic(path, **{key: np.asarray(record[key]) for key in (*_SCALARS, *_ARRAYS)})


def _load_record(path, task):
    return read_record(path, task, _SCALARS, _ARRAYS, ("n", "trial"))


def string_profiles(d, n_values, trials, m_star=1, rng=0, n_images=100, executor=None, teacher="gaussian",
                    width=None, flow_time=1e10, checkpoint=None, progress=False):
    """Converged strings from ``A(0)`` to ``A*`` for ``trials`` instances at each ``n`` (Fig. 4).

    Parameters
    ----------
    d : int
        Input dimension.
    n_values : sequence of int
        Sample sizes.
    trials : int
        Instances per sample size.
    m_star : int, optional
        Teacher width.
    rng : int, optional
        Root seed; instance ``(n, trial)`` is :func:`qnb.instance_data` ``(rng, n, trial, d,
        m_star)``, followed by the student start ``W0`` of shape ``(width, d)``.
    n_images : int, optional
        Images per string.
    executor : None, 'serial', int or Executor, optional
        Where instances run (see :func:`qnb.recovery_probability`).
    teacher : {'gaussian', 'orthonormal'}, optional
    width : int, optional
        Student width ``m`` (default ``d``).
    flow_time : float, optional
        Time up to which the gradient flow is solved for its limit ``A_inf``.
    checkpoint : path, optional
        Directory for one file per finished instance; a rerun reads them back.
    progress : bool, optional
        Print a progress line to ``sys.stderr`` as instances finish.

    Returns
    -------
    Result
        Per instance, arrays of shape ``(len(n_values), trials, ...)``: ``train_loss``,
        ``population_loss`` and ``arclength`` along the string (last axis ``n_images``);
        ``nit``, ``string_status`` and ``string_success`` of :func:`qnb.string_method`;
        ``flat_start``, ``flat_count``, ``flat_length`` (:func:`qnb.flat_stretch`);
        ``unique`` and ``certificate`` (:func:`qnb.is_unique_minimizer`); ``flow_gap``
        ``= ||A_inf - A*||_F``, ``flow_population_loss`` ``E(A_inf)``,
        ``flow_train_loss`` and ``flow_success`` of the gradient flow; ``gd_distance``,
        the largest distance from a string image before the flat stretch to the flow's
        trajectory; ``seconds``. Also ``n_values``, the parameters, ``n_loaded`` (from
        the checkpoint), ``success`` (every string converged and every flow succeeded),
        ``status`` (0 or 1) and ``message``.

    Examples
    --------
    >>> res = string_profiles(4, [8], 1, rng=3, n_images=20, executor="serial")
    >>> res.train_loss.shape, bool(res.success)
    ((1, 1, 20), True)
    """
    d = check_int(d, "d")
    n_values = _check_n_values(n_values)
    trials = check_int(trials, "trials")
    m_star = check_int(m_star, "m_star")
    seed = check_root_seed(rng)
    n_images = check_int(n_images, "n_images", minimum=3)
    executor = check_executor(executor)
    teacher = _check_teacher(teacher)
    width = d if width is None else check_int(width, "width")
    flow_time = check_positive(flow_time, "flow_time")
    checkpoint = check_checkpoint(checkpoint)
    progress = check_flag(progress, "progress")

    base = {"seed": seed, "d": d, "m_star": m_star, "teacher": teacher, "width": width,
            "n_images": n_images, "flow_time": flow_time}
    tasks = [base | {"n": int(n), "trial": t} for n in n_values for t in range(trials)]
    records, n_loaded = run_tasks(tasks, _run_instance, executor, checkpoint, path_of=_checkpoint_path,
                                  load=_load_record, save=_save_record, label=f"strings d={d}",
                                  progress=progress)
    shape = (len(n_values), trials)
    failures = [f"n={t['n']} trial={t['trial']}: "
                + (records[i]["message"] if not records[i]["success"] else "gradient flow failed")
                for i, t in enumerate(tasks) if not (records[i]["success"] and records[i]["flow_success"])]
    out = Result(
        success=not failures, status=1 if failures else 0,
        message=f"{len(failures)} of {len(tasks)} instances incomplete: " + "; ".join(failures) if failures
        else f"all {len(tasks)} strings converged and all flows succeeded",
    )
    renamed = {"status": "string_status", "success": "string_success"}
    for key in (*_SCALARS, *_ARRAYS):
        if key in ("n", "trial", "message"):
            continue
        values = np.array([records[i][key] for i in range(len(tasks))])
        out[renamed.get(key, key)] = values.reshape(shape + values.shape[1:])
    out.update(
        n_values=n_values, d=d, m_star=m_star, seed=seed, teacher=teacher, width=width,
        n_images=n_images, flow_time=flow_time, n_loaded=n_loaded,
    )
    return out
