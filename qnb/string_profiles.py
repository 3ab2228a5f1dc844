"""Loss profiles along converged strings for many teacher-student instances (Fig. 4).

For every instance ``(n, trial)``, the same data as :func:`qnb.recovery_probability`
(:func:`qnb.instance_data`) and a Gaussian student start ``A(0) = W0^T W0 / m``
drawn next from the same generator (:func:`string_profile_instance`), this module

* runs :func:`qnb.string_method` from ``A(0)`` to the teacher ``A*`` and keeps the
  training and population losses along the string;
* measures the string's flat stretch (:func:`qnb.flat_stretch`);
* solves the gradient flow (5) from ``A(0)`` to ``flow_time`` and records how far its
  limit stops from ``A*`` and how far the string's descending part is from the flow's
  trajectory (:func:`qnb.distance_to_path`);
* decides with the certificate (:func:`qnb.is_unique_minimizer`) whether ``A*`` is
  the only PSD zero of the training loss.

Instances run on the package's sweep engine (:mod:`qnb._sweep`): in parallel, and
checkpointed one file each, as in the other sweeps.
"""

from __future__ import annotations

import numpy as np

from ._sweep import STATUS_ALL_SUCCEEDED, STATUS_SOME_FAILED, check_n_values, check_root_seed, run_sweep
from ._sweep import STATUS_RAISED, STATUS_TIMED_OUT, STATUS_WORKER_LOST  # noqa: F401  (statuses here too)
from ._validation import check_choice, check_int, check_positive, check_seed
from .data import TEACHERS, draw_instance, gram, instance_rng
from .strings import distance_to_path, flat_stretch, string_method
from .flows import flow_with_fallback
from .losses import population_loss
from .result import Result
from .uniqueness import is_unique_minimizer

# Root seed of the book's Fig. 4 sweep at dimension d is STRING_PROFILES_SEED + d
# (book/data/make_string_profiles.py, the string chapter, benchmarks/bench_string_method.py).
STRING_PROFILES_SEED = 40_600_000

_FLOW_SAMPLES = 4000  # trajectory samples, log-spaced in time, for the string-to-flow distance

# Status of one instance (``instance_status``).
STATUS_COMPLETE = 0
STATUS_STRING_FAILED = 1
STATUS_FLOW_FAILED = 2
# and the sweep engine's (qnb._sweep.ENGINE_MESSAGES), recomputed on a rerun:
# STATUS_RAISED = -200 (the string method, the flow or the certificate raised),
# STATUS_TIMED_OUT = -201 (instance_timeout), STATUS_WORKER_LOST = -202 (the worker died).

INSTANCE_MESSAGES = {
    STATUS_COMPLETE: "the string converged and the flow reached flow_time",
    STATUS_STRING_FAILED: "the string did not converge: {string}",
    STATUS_FLOW_FAILED: "the gradient flow failed: {flow}",
}

# Status of a sweep (``status``).
MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} strings converged and all flows succeeded",
    STATUS_SOME_FAILED: "{failed} of {total} instances incomplete: {details}",
}

# Fields of a record reported per instance (and stored in book/data/string_profiles.npz).
_STRING_FIELDS = ("train_loss", "population_loss", "arclength", "nit", "string_status", "string_success")
_FIELDS = _STRING_FIELDS + ("flat_start", "flat_count", "flat_length", "unique", "certificate",
                            "flow_gap", "flow_population_loss", "flow_train_loss", "flow_success",
                            "gd_distance")


def string_profiles_seed(d):
    """Root seed of the book's Fig. 4 sweep at dimension ``d``: ``STRING_PROFILES_SEED + d``.

    Examples
    --------
    >>> string_profiles_seed(8)
    40600008
    """
    return STRING_PROFILES_SEED + check_int(d, "d")


def string_profile_instance(d, n, trial, m_star=1, rng=0, teacher="gaussian", width=None):
    """Student start, teacher and data of instance ``(n, trial)`` of :func:`string_profiles`.

    :func:`qnb.draw_instance` with the generator :func:`qnb.instance_rng`
    ``(rng, n, trial)``: the same teacher and data as :func:`qnb.instance_data`
    (and :func:`qnb.recovery_probability`), then the student weights ``W0``
    of shape ``(width, d)``.

    Parameters
    ----------
    d, n, trial : int
        Input dimension, sample size and trial of the instance.
    m_star : int, optional
        Teacher width.
    rng : int, optional
        The sweep's root seed (its result's ``seed``; for the book's Fig. 4,
        :func:`string_profiles_seed` ``(d)``).
    teacher : {'gaussian', 'orthonormal'}, optional
        Key of :data:`qnb.TEACHERS`.
    width : int, optional
        Student width ``m`` (default ``d``).

    Returns
    -------
    A0 : ndarray, shape (d, d)
        The student start ``gram(W0)``.
    A_star : ndarray, shape (d, d)
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)

    Examples
    --------
    >>> A0, A_star, X, y = string_profile_instance(4, 8, 0, rng=3)
    >>> A0.shape, X.shape
    ((4, 4), (8, 4))
    """
    d, n, trial = check_int(d, "d"), check_int(n, "n"), check_int(trial, "trial", minimum=0)
    width = d if width is None else check_int(width, "width")
    A_star, X, y, W0 = draw_instance(d, m_star, n, instance_rng(check_seed(rng, "rng"), n, trial),
                                     teacher, width)
    return gram(W0), A_star, X, y


def _flow_fields(flow, A_star, descending):
    """Where the flow ends and how far the string's descending part is from it (NaN if it failed)."""
    if not flow.success:
        return {"flow_gap": np.nan, "flow_population_loss": np.nan, "gd_distance": np.nan}
    A_inf = flow.A[-1]
    return {"flow_gap": float(np.linalg.norm(A_inf - A_star)),
            "flow_population_loss": population_loss(A_inf, A_star),
            "gd_distance": float(distance_to_path(descending, flow.A).max())}


def _blank(task):
    """The fields of an instance that has no result: NaN, -1, False (status -1: not run)."""
    curve = np.full(task["n_images"], np.nan)
    return {"train_loss": curve, "population_loss": curve, "arclength": curve, "nit": -1,
            "string_status": -1, "string_success": False, "flat_start": -1, "flat_count": -1,
            "flat_length": np.nan, "unique": False, "certificate": np.nan, "flow_gap": np.nan,
            "flow_population_loss": np.nan, "flow_train_loss": np.nan, "flow_success": False,
            "gd_distance": np.nan}


def _instance(task):
    """String, flow and certificate of one instance; ``task`` is a plain dict (picklable)."""
    A0, A_star, X, y = string_profile_instance(task["d"], task["n"], task["trial"], task["m_star"],
                                               task["seed"], task["teacher"], task["width"])
    string = string_method(A0, A_star, X, y, task["n_images"], A_star=A_star)
    flat = flat_stretch(string.train_loss, string.arclength)
    t = np.concatenate(([0.0], np.logspace(-4, np.log10(task["flow_time"]), _FLOW_SAMPLES)))
    flow = flow_with_fallback(A0, X, y, t)
    certificate = is_unique_minimizer(X, A_star)
    status = (STATUS_STRING_FAILED if not string.success
              else STATUS_FLOW_FAILED if not flow.success else STATUS_COMPLETE)
    return {
        "success": status == STATUS_COMPLETE, "status": status,
        "message": INSTANCE_MESSAGES[status].format(string=string.message, flow=flow.message),
        "train_loss": string.train_loss, "population_loss": string.population_loss,
        "arclength": string.arclength, "nit": int(string.nit),
        "string_status": int(string.status), "string_success": bool(string.success),
        "flat_start": flat.start, "flat_count": flat.count, "flat_length": flat.length,
        "unique": bool(certificate.unique), "certificate": float(certificate.certificate),
        "flow_train_loss": float(flow.loss[-1]), "flow_success": bool(flow.success),
        **_flow_fields(flow, A_star, string.images[: max(flat.start, 1)]),
    }


def string_profiles(d, n_values, trials, m_star=1, rng=0, n_images=100, executor=None, teacher="gaussian",
                    width=None, flow_time=1e10, checkpoint=None, progress=False, instance_timeout=None):
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
    rng : None, int or numpy.random.Generator, optional
        Root seed; instance ``(n, trial)`` is :func:`string_profile_instance`
        ``(d, n, trial, m_star, seed)``: :func:`qnb.instance_data` ``(seed, n,
        trial, d, m_star)``, followed by the student start ``W0`` of shape
        ``(width, d)``. ``None`` draws fresh entropy (and prints the seed on
        ``sys.stderr``, as :func:`qnb.recovery_probability` does, so that an
        interrupted sweep resumes with it) and a Generator draws a seed; the
        seed used is returned as ``seed``.
    n_images : int, optional
        Images per string.
    executor : None, 'serial' or Executor, optional
        Where instances run (see :func:`qnb.recovery_probability`).
    teacher : {'gaussian', 'orthonormal'}, optional
        Key of :data:`qnb.TEACHERS`.
    width : int, optional
        Student width ``m`` (default ``d``).
    flow_time : float, optional
        Time up to which the gradient flow is solved (:func:`qnb.flow_with_fallback`)
        for its limit ``A_inf``.
    checkpoint : path, optional
        Directory for one file per finished instance; a rerun reads them back
        after checking them (see :func:`qnb.recovery_probability`).
    progress : bool, optional
        Print a progress line to ``sys.stderr`` as instances finish.
    instance_timeout : float, optional
        Seconds one instance may take (default ``None``: no limit); see
        :func:`qnb.recovery_probability`.

    Returns
    -------
    Result
        Per instance, arrays of shape ``(len(n_values), trials, ...)``: ``train_loss``,
        ``population_loss`` and ``arclength`` along the string (last axis ``n_images``);
        ``nit``, ``string_status`` and ``string_success`` of :func:`qnb.string_method`;
        ``flat_start``, ``flat_count``, ``flat_length`` (:func:`qnb.flat_stretch`);
        ``unique`` and ``certificate`` (:func:`qnb.is_unique_minimizer`: the signed,
        trace-normalised margin, in ``(0, 1]`` when unique, ``[-1, 0]`` otherwise); ``flow_gap``
        ``= ||A_inf - A*||_F``, ``flow_population_loss`` ``E(A_inf)``,
        ``flow_train_loss`` and ``flow_success`` of the gradient flow; ``gd_distance``,
        the largest distance from a string image before the flat stretch to the flow's
        trajectory; ``instance_success`` (the string converged and the flow succeeded),
        ``instance_status`` (:data:`INSTANCE_MESSAGES`: 0 complete, 1 the string did not
        converge, 2 the flow failed; the engine's -200 raised, with the exception's type
        and message, -201 over ``instance_timeout``, -202 worker lost, whose fields are
        NaN, -1 or False), ``instance_seconds`` and, under its older name,
        ``seconds``. Also ``n_values``, the parameters, ``n_failed``, ``n_loaded`` (from
        the checkpoint), ``success`` (every instance complete), ``status`` (0 or 1;
        :data:`MESSAGES`) and ``message``.

    Examples
    --------
    >>> res = string_profiles(4, [8], 1, rng=3, n_images=20, executor="serial")
    >>> res.train_loss.shape, bool(res.success)
    ((1, 1, 20), True)
    """
    d = check_int(d, "d")
    n_values = check_n_values(n_values)
    trials = check_int(trials, "trials")
    params = {"d": d, "m_star": check_int(m_star, "m_star"), "seed": check_root_seed(rng),
              "teacher": check_choice(teacher, "teacher", TEACHERS),
              "width": d if width is None else check_int(width, "width"),
              "n_images": check_int(n_images, "n_images", minimum=3),
              "flow_time": check_positive(flow_time, "flow_time")}
    tasks = [params | {"n": int(n), "trial": t} for n in n_values for t in range(trials)]
    records = run_sweep("string_profiles", _instance, tasks, index=("n", "trial"), executor=executor,
                        checkpoint=checkpoint, progress=progress, label=f"strings d={d}",
                        instance_timeout=instance_timeout, blank=_blank,
                        drawn_seed=params["seed"] if rng is None else None)
    shape = (len(n_values), trials)
    out = Result(**records.summary(shape, MESSAGES),
                 **{key: records.array(key, shape) for key in _FIELDS})
    return Result(out, seconds=out.instance_seconds, n_values=n_values, **params)
