"""Repeated gradient-descent runs: the loss curves behind Figs. 2 and 3 of the paper.

Each run draws a teacher, a data set and a random student start, solves the
gradient flow (5) on ``A`` with :func:`qnb.empirical_flow` and records the
training loss ``E_n`` (6) and the population loss ``E`` (9) on a time grid.
Figures of the paper show the "log-average" of such curves over runs,
:func:`log_mean`.

Runs are reproducible one by one: run ``r`` takes its randomness from
:func:`qnb.instance_rng` ``(seed, r)``, so it does not depend on how many runs
are asked for, and a slice of a stored sweep can be regenerated. The runs go
through the package's sweep engine (:mod:`qnb._sweep`): any executor, and a
checkpoint of each finished run from which a long sweep resumes.
"""

from __future__ import annotations

import numpy as np

from ._sweep import STATUS_ALL_SUCCEEDED, STATUS_SOME_FAILED, check_root_seed, renamed_seed, run_sweep
from ._sweep import STATUS_RAISED, STATUS_TIMED_OUT, STATUS_WORKER_LOST  # noqa: F401  (statuses here too)
from ._validation import as_real, as_times, check_choice, check_int, check_positive
from .data import TEACHERS, draw_instance, gram, instance_rng
from .flows import empirical_flow
from .result import Result

# Status of a sweep (``status``). A run's own status (``instance_status``) is the status of
# qnb.empirical_flow: 0 reached the final time, -1 integration failed, 2 diverged; or the
# sweep engine's (qnb._sweep.ENGINE_MESSAGES), recomputed on a rerun: STATUS_RAISED = -200,
# STATUS_TIMED_OUT = -201, STATUS_WORKER_LOST = -202.
MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} runs reached the final time",
    STATUS_SOME_FAILED: "{failed} of {total} runs failed (their rows are NaN): {details}",
}


def _run(task):
    """Draw run ``task['run']`` (teacher, inputs, labels, start) and solve flow (5) on it."""
    t_eval = np.asarray(task["t_eval"], dtype=float)
    A_star, X, y, W0 = draw_instance(task["d"], task["m_star"], task["n"],
                                     instance_rng(task["seed"], task["run"]), task["teacher"],
                                     task["width"])
    res = empirical_flow(gram(W0), X, y, t_eval, A_star=A_star)
    train, population = np.asarray(res.loss, float), np.asarray(res.population_loss, float)
    if not res.success:
        # A failed run is kept, as a row of NaN, so that every row of the
        # output is a complete trajectory and averages over runs are not
        # silently taken over a set of runs that changes with time.
        train = population = np.full(t_eval.size, np.nan)
    return {"train_loss": train, "population_loss": population, "success": bool(res.success),
            "status": int(res.status), "message": str(res.message)}


def _blank(task):
    """The curves of a run that has no result: NaN rows, as for a failed integration."""
    curve = np.full(len(task["t_eval"]), np.nan)
    return {"train_loss": curve, "population_loss": curve}


def gd_loss_curves(d, m_star, n, n_runs, t_eval, rng=0, teacher="gaussian", width=None,
                   checkpoint=None, progress=False, *, executor="serial", seed=None,
                   instance_timeout=None):
    """Training and population loss of many independent gradient-flow runs.

    Run ``r`` draws, with :func:`qnb.draw_instance` and the generator
    :func:`qnb.instance_rng` ``(seed, r)`` (child ``r`` of
    ``numpy.random.SeedSequence(seed)``), the teacher weights (``m_star``
    units), the inputs ``X`` of shape ``(n, d)`` (labels ``y = labels(X, A*)``)
    and standard Gaussian student weights ``W0`` of shape ``(width, d)``. It
    then solves the gradient flow (5) from ``A(0) = gram(W0)`` with
    :func:`qnb.empirical_flow` (default method and tolerances) and records
    ``E_n`` and ``E`` at every time of ``t_eval``. Run ``r`` is the same
    whatever ``n_runs`` is, so the first runs of a large sweep can be
    regenerated alone.

    Parameters
    ----------
    d : int
        Input dimension.
    m_star : int
        Number of teacher hidden units.
    n : int
        Number of training samples.
    n_runs : int
        Number of independent runs (teacher, data and start all redrawn).
    t_eval : array_like
        Strictly increasing, non-negative output times; every flow starts at 0.
    rng : None, int or numpy.random.Generator
        Root seed of the sweep (default 0); ``None`` draws fresh entropy (and
        prints the seed on ``sys.stderr``, so that an interrupted sweep resumes
        with it) and a Generator draws a seed. The seed used is returned as
        ``seed``.
    teacher : {'gaussian', 'orthonormal'}
        Key of :data:`qnb.TEACHERS`.
    width : int, optional
        Number ``m`` of student hidden units; default ``4 * d``. With
        ``width >= d`` the start has full rank almost surely, as Theorem 4.1
        assumes.
    checkpoint : str or os.PathLike, optional
        Directory (created if missing). Each finished run is written there at
        once; its file name and contents identify every parameter that
        determines the run (not ``n_runs``), and runs already there are read
        instead of recomputed, so an interrupted sweep resumes where it stopped
        (files are checked first; see :func:`qnb.recovery_probability`).
    progress : bool
        Print a one-line progress count to ``sys.stderr`` every few runs
        (stderr, so that notebook outputs compared on stdout do not change).
    executor : None, 'serial', concurrent.futures.Executor or dask.distributed.Client
        Where the runs go (see :func:`qnb.recovery_probability`); default
        ``'serial'``, in this process. Results do not depend on it.
    seed : int, optional
        Deprecated alias of ``rng``.
    instance_timeout : float, optional
        Seconds one run may take (default ``None``: no limit); a run over it
        gets the status -201 and a NaN row (see :func:`qnb.recovery_probability`).

    Returns
    -------
    Result
        ``t`` (the output times), ``train_loss`` and ``population_loss``
        (each of shape ``(n_runs, len(t))``; the row of a run whose
        integration failed is NaN), ``instance_success`` (bool per run),
        ``instance_status`` (per run, the :func:`qnb.empirical_flow` status: 0
        reached the final time, -1 integration failed, 2 diverged; or the
        sweep engine's: -200 raised, with the exception's type and message,
        -201 over ``instance_timeout``, -202 worker lost),
        ``instance_seconds`` (time per run, as first computed), with the older names ``run_success``, ``run_status``
        and ``run_seconds`` for the same arrays; ``n_failed``, ``n_loaded``
        (runs read from ``checkpoint``), ``success`` (every run succeeded),
        ``status`` (0 if so, 1 if some run failed; :data:`MESSAGES`), ``message``
        (the failed runs and why), and the parameters ``d``, ``m_star``, ``n``, ``n_runs``,
        ``seed``, ``teacher``, ``width``.

    See Also
    --------
    log_mean : the log-average over runs shown in the paper's figures.

    Examples
    --------
    >>> import numpy as np
    >>> res = gd_loss_curves(d=3, m_star=1, n=12, n_runs=2, t_eval=[0.0, 1e3], rng=5)
    >>> res.train_loss.shape, res.success, res.n_failed
    ((2, 2), True, 0)
    >>> bool(np.all(res.train_loss[:, -1] < 1e-6 * res.train_loss[:, 0]))
    True

    Run 1 of a sweep does not depend on the number of runs:

    >>> again = gd_loss_curves(d=3, m_star=1, n=12, n_runs=3, t_eval=[0.0, 1e3], rng=5)
    >>> bool(np.array_equal(again.population_loss[1], res.population_loss[1]))
    True
    """
    rng, rng_name = renamed_seed(rng, seed, "gd_loss_curves", default=0)
    d, m_star, n = check_int(d, "d"), check_int(m_star, "m_star"), check_int(n, "n")
    n_runs = check_int(n_runs, "n_runs")
    t_eval = as_times(t_eval)
    seed = check_root_seed(rng, rng_name)
    teacher = check_choice(teacher, "teacher", TEACHERS)
    width = 4 * d if width is None else check_int(width, "width")

    params = {"d": d, "m_star": m_star, "n": n, "seed": seed, "teacher": teacher, "width": width}
    tasks = [params | {"t_eval": t_eval.tolist(), "run": r} for r in range(n_runs)]
    records = run_sweep("gd_loss_curves", _run, tasks, index=("run",), executor=executor,
                        checkpoint=checkpoint, progress=progress, unit="runs",
                        label=f"gd_loss_curves(d={d}, m_star={m_star}, n={n}, seed={seed})",
                        instance_timeout=instance_timeout, blank=_blank,
                        drawn_seed=seed if rng is None else None)
    out = Result(**records.summary((n_runs,), MESSAGES), t=t_eval,
                 train_loss=records.array("train_loss", (n_runs,)),
                 population_loss=records.array("population_loss", (n_runs,)))
    out.update(run_success=out.instance_success, run_status=out.instance_status,
               run_seconds=out.instance_seconds)
    return Result(out, **params, n_runs=n_runs)


def log_mean(curves, floor=1e-300):
    """The paper's "log-average" of loss curves: ``exp(mean(log(max(curves, floor))))``.

    The mean is over runs (axis 0). NaN entries, such as the rows of failed
    runs in :func:`gd_loss_curves`, are left out of the mean; a time at which
    every run is NaN gives NaN. The ``floor`` keeps a loss that is exactly
    zero from sending the average to zero.

    Parameters
    ----------
    curves : array_like, shape (n_runs, ...)
        Non-negative values, one run per row.
    floor : float
        Positive lower bound applied before the logarithm.

    Returns
    -------
    ndarray, shape ``curves.shape[1:]``
        The geometric mean over runs.

    Examples
    --------
    >>> import numpy as np
    >>> log_mean([[0.5, 1.0], [2.0, 4.0], [np.nan, np.nan]])
    array([1., 2.])

    Far from the arithmetic mean when the runs spread over decades:

    >>> float(np.round(log_mean([1e-12, 1e-2]), 20)), float(np.mean([1e-12, 1e-2]))
    (1e-07, 0.0050000000005)
    """
    arr = as_real(curves, "curves")
    if arr.ndim < 1 or arr.shape[0] == 0:
        raise ValueError(f"curves must have at least one run along axis 0, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError(f"curves must be non-negative, got minimum {np.nanmin(arr):.3g}")
    if np.any(np.isinf(arr)):
        raise ValueError("curves contains infinite entries")
    floor = check_positive(floor, "floor")
    logs = np.log(np.maximum(arr, floor))  # NaN stays NaN
    counts = np.sum(~np.isnan(logs), axis=0)
    total = np.nansum(logs, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return np.exp(mean)


def curves_agree(stored, fresh, rtol=1e-9, factor=20.0):
    """Whether regenerated loss curves match stored ones to the accuracy the flow fixes.

    Two solutions of the same flow that round differently (another machine's
    BLAS makes the adaptive integrator take other steps) are both within the
    integrator's error of the exact one. LSODA keeps the local error of each
    entry of ``A`` near ``rtol |A_ij|`` and the flow contracts, so they differ
    by ``|dA| ~ c rtol ||A||``. A loss is quadratic in ``D = A - A*``, with
    ``E >= ||D||^2`` and ``|dE| <= ||grad E|| |dA| <= c' sqrt(E) |dA|``, hence

        |dE| / E  <~  factor * rtol * sqrt(E(0) / E(t)),

    with ``sqrt(E(0)) ~ ||A||`` setting the scale and ``factor`` collecting
    ``c``, ``c'`` and the growth of the global error with the step count. The
    default ``factor = 20`` is ten times the largest value measured between
    two OpenBLAS kernels on every stored panel of Figs. 2 and 3 (1.8).
    Where that relative tolerance exceeds 10 % the value is not fixed by the
    computation; there both curves only have to be below that level (twice
    it for the fresh one).

    Parameters
    ----------
    stored, fresh : array_like, shape (runs, times)
        Loss curves (rows start at ``t = 0``), as in :func:`gd_loss_curves`.
    rtol : float
        The flow's relative tolerance (:func:`qnb.empirical_flow`'s default).
    factor : float
        The constant ``K`` above.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[10.0, 1e-2, 1e-8, 1e-30]])
    >>> curves_agree(E, E * (1 + 1e-9)), curves_agree(E, E * (1 + 1e-3))
    (True, False)
    """
    stored, fresh = np.atleast_2d(as_real(stored, "stored")), np.atleast_2d(as_real(fresh, "fresh"))
    if stored.shape != fresh.shape:
        raise ValueError(f"stored and fresh must have the same shape, got {stored.shape} and {fresh.shape}")
    rtol, factor = check_positive(rtol, "rtol"), check_positive(factor, "factor")
    if not (np.all(np.isfinite(stored)) and np.all(np.isfinite(fresh))):
        return False
    tol = factor * rtol * np.sqrt(stored[:, :1] / np.maximum(stored, np.finfo(float).tiny))
    resolved = tol < 0.1
    floor = stored[:, :1] * (factor * rtol / 0.1) ** 2 * np.ones_like(stored)
    close = np.abs(fresh - stored) <= tol * stored
    return bool(np.all(close[resolved]) and np.all(fresh[~resolved] <= 2 * floor[~resolved]))
