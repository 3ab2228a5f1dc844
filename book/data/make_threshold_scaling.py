"""Regenerate the large-d thresholds of uniqueness and of trace minimization (PhaseLift).

Run from the repository root:

    .venv/bin/python book/data/make_threshold_scaling.py --out book/data

It writes ``threshold_scaling.npz``: for every sweep ``(method, d, m_star)`` below,
the threshold of each nested instance from :func:`qnb.recovery_threshold`, with

* ``method='uniqueness'``: the smallest ``n`` with ``F = {A*}``, decided by
  :func:`qnb.certify_uniqueness` (the rank-one barrier solver, stopped at the
  first verified certificate or witness);
* ``method='phaselift'``: the smallest ``n`` at which ``A*`` is the unique
  minimum-trace point of ``F``, decided by :func:`qnb.certify_phaselift`.

Both methods of one ``(d, m_star)`` use the root seed ``SEED_BASE + 100 d + m_star``
of ``make_recovery_thresholds.py``, so their instances are the same teachers and
input sequences, and for ``d <= 48`` they are the instances of the stored
``recovery_thresholds.npz`` (whose uniqueness thresholds the dense certificate
computed: the rank-one solver must reproduce them exactly).

Sweeps (``--part``):

* ``stored``: ``m_star = 1, 2, 3`` at ``d = 16`` (200 instances), ``24`` (100),
  ``32`` (60), ``48`` (40);
* ``large``: ``m_star = 1`` at ``d = 64, 128, 256`` (30 instances each) and
  ``m_star = 2, 3`` at ``d = 64, 128`` (30);
* ``d512``: ``m_star = 1`` at ``d = 512``, ``--trials-512`` instances (the first
  ones of a 30-instance sweep: instance ``t`` does not depend on how many run).

With the thresholds, the file stores the theory they are compared with, per
``(theory_d, theory_m_star)``: the statistical dimension ``delta`` of the descent
cone of trace minimization (:func:`qnb.statistical_dimension`, ``DELTA_SAMPLES``
draws, root seed of the pair) and, for ``d <= PREDICTION_MAX_D``, the PhaseLift
threshold predicted with the measurements' mean taken into account
(:func:`qnb.predicted_threshold`, ``PREDICTION_SAMPLES`` draws), each with its
Monte Carlo standard error.

Arrays have one row per sweep and one column per instance (``-2`` where a sweep
has fewer instances; ``-1`` where an instance failed); ``status`` is the
instance's ``instance_status``. Finished instances are checkpointed under
``<out>/.checkpoints/threshold_scaling/`` (git-ignored), so an interrupted run
resumes, and parts may run in separate processes: every call writes the file for
the sweeps of its own part. The stored file was made with one call per part, then
one call with ``--part all`` that loaded every instance from the checkpoints; its
``command`` is that last call.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import qnb
from provenance import checkpoint_folder, output_parser, output_path, provenance, script_command
from threshold_table import plan_arrays, threshold_table

SEED_BASE = 20_200_000
METHODS = ("phaselift", "uniqueness")
PARTS = ("stored", "large", "d512", "all")
DELTA_SAMPLES = 2000  # statistical dimension: s.e. of delta / d about 0.006 at d = 64, 0.002 at 512
PREDICTION_SAMPLES = 100  # the mean-I PhaseLift prediction (dense eigensolves), d <= PREDICTION_MAX_D
PREDICTION_MAX_D = 128


def sweeps(part, trials_512):
    """(method, d, m_star, trials) of every sweep of ``part``, cheapest first."""
    plan = {"stored": [], "large": [], "d512": []}
    for d, trials in ((16, 200), (24, 100), (32, 60), (48, 40)):
        plan["stored"] += [(method, d, m, trials) for m in (1, 2, 3) for method in METHODS]
    for d in (64, 128):
        plan["large"] += [(method, d, m, 30) for m in (1, 2, 3) for method in METHODS]
    plan["large"] += [(method, 256, 1, 30) for method in METHODS]
    plan["d512"] = [(method, 512, 1, trials_512) for method in METHODS]
    if part == "all":
        return plan["stored"] + plan["large"] + plan["d512"]
    return plan[part]


def seed(d, m_star):
    return SEED_BASE + 100 * d + m_star


def command(out, part, trials_512):
    return script_command("make_threshold_scaling.py", "--out", output_path(out), "--part", part,
                          "--trials-512", trials_512)


def main(argv=None):
    parser = output_parser(__doc__)
    parser.add_argument("--part", choices=PARTS, default="all", help="which sweeps to run (default all)")
    parser.add_argument("--trials-512", type=int, default=30, help="instances at d = 512 (default 30)")
    parser.add_argument("--method", choices=METHODS, help="one method only (to run the two in two processes)")
    parser.add_argument("--no-write", action="store_true", help="fill the checkpoints only, write no file")
    args = parser.parse_args(argv)
    checkpoints = checkpoint_folder(args.out, "threshold_scaling")

    plan = [s for s in sweeps(args.part, args.trials_512) if args.method in (None, s[0])]
    start = time.perf_counter()
    table, n_loaded = threshold_table(plan, seed, checkpoints, executor="serial")
    seconds = time.perf_counter() - start

    if args.no_write:
        print(f"{args.part}: {seconds:.1f} s, checkpoints only", file=sys.stderr)
        return
    pairs = sorted({(d, m_star) for _, d, m_star, _ in plan})
    delta, delta_stderr, n_pl_pred, n_pl_pred_stderr = (np.full(len(pairs), np.nan) for _ in range(4))
    for j, (d, m_star) in enumerate(pairs):
        res = qnb.statistical_dimension(d, m_star, samples=DELTA_SAMPLES, rng=seed(d, m_star))
        delta[j], delta_stderr[j] = res.delta, res.stderr
        if d <= PREDICTION_MAX_D:
            res = qnb.predicted_threshold(d, m_star, "phaselift", samples=PREDICTION_SAMPLES, rng=seed(d, m_star))
            n_pl_pred[j], n_pl_pred_stderr[j] = res.n, res.stderr
        print(f"delta(d={d}, r={m_star}) / d = {delta[j] / d:.3f}", file=sys.stderr)
    seconds = time.perf_counter() - start

    path = os.path.join(args.out, "threshold_scaling.npz")
    np.savez_compressed(
        path,
        **plan_arrays(plan, seed),
        **table,
        teacher=np.array("gaussian"),
        theory_d=np.array([p[0] for p in pairs]),
        theory_m_star=np.array([p[1] for p in pairs]),
        delta=delta,
        delta_stderr=delta_stderr,
        delta_samples=np.int64(DELTA_SAMPLES),
        n_phaselift_predicted=n_pl_pred,
        n_phaselift_predicted_stderr=n_pl_pred_stderr,
        prediction_samples=np.int64(PREDICTION_SAMPLES),
        **provenance(command(args.out, args.part, args.trials_512), seconds),
        n_loaded_from_checkpoint=np.int64(n_loaded),
    )
    print(f"wrote {path}: {seconds:.1f} s wall", file=sys.stderr)


if __name__ == "__main__":
    main()
