"""Regenerate the stored landscape census behind Theorem 2.1 of seed 003.

Run from the repository root:

    .venv/bin/python book/data/make_landscape_census.py --out book/data

It writes ``landscape_census.npz``: gradient descent, polish and the
second-order report (:func:`qnb.landscape_census`) on quadratic networks
``x^T W^T diag(v) W x`` with fixed output weights ``v`` in ``{-1, +1}``, at
``d = 6`` (``d (d + 1) / 2 = 21`` entries of a symmetric matrix), all with the
root seed :data:`qnb.LANDSCAPE_CENSUS_SEED` (so instance ``i`` at a given ``n``
has the same inputs in every configuration, and the same indefinite target
unless ``min_target_negatives`` differs):

* ``holds``: the theorem's conditions (``k = 12`` with 6 units of each sign,
  planted, indefinite and random labels, ``n = 15`` and ``42``; and
  ``k = 16`` with 8 of each sign, indefinite and random labels, ``n = 42``);
* ``all_positive``: ``v > 0``, ``k = 12``, indefinite labels, ``n = 42``;
* ``few_negatives``: 1 and 2 negative units of ``k = 12``, indefinite targets
  with at least 3 negative eigenvalues, ``n = 42``;
* ``k_scan``: ``k = 2, 4, ..., 16`` with ``k / 2`` negative units and with
  none, indefinite labels, ``n = 42``.

Per-run arrays (``run_config``, ``run_instance`` and ``run_start`` place each run
in the configuration table ``config_*``; ``run_instance_seconds`` is its time),
per-instance arrays (``instance_*``), the fractions of runs verified at zero loss
in the ``k`` scan, the tolerances, and the command, versions, date and wall time.
Finished runs are checkpointed under ``<out>/.checkpoints/`` (git-ignored) so
an interrupted run resumes.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from provenance import checkpoint_folder, output_parser, output_path, provenance, script_command
# Names from the module itself: once qnb exports the function landscape_census, ``qnb.landscape_census``
# is the function, not the module.
from qnb.landscape_census import (
    DESCENT_RTOL,
    GLOBAL_GAP_RTOL,
    LANDSCAPE_CENSUS_SEED,
    RUN_FIELDS,
    SPURIOUS_RTOL,
    STEP_FACTOR,
    landscape_census,
)

D = 6
# (group, k, negatives, labels, n, instances, runs, min_target_negatives)
HOLDS = [("holds", 12, 6, labels, n, 10, 20, 0) for labels in ("planted", "indefinite", "random")
         for n in (15, 42)] + [("holds", 16, 8, labels, 42, 10, 10, 0) for labels in ("indefinite", "random")]
ALL_POSITIVE = [("all_positive", 12, 0, "indefinite", 42, 10, 20, 0)]
FEW_NEGATIVES = [("few_negatives", 12, negatives, "indefinite", 42, 20, 20, 3) for negatives in (1, 2)]
K_VALUES = tuple(range(2, 17, 2))
K_SCAN = [("k_scan", k, negatives, "indefinite", 42, 20, 5, 0) for k in K_VALUES for negatives in (k // 2, 0)]
CONFIGS = HOLDS + ALL_POSITIVE + FEW_NEGATIVES + K_SCAN

PER_RUN = RUN_FIELDS + ("at_reference", "spurious", "instance_status", "instance_success",
                               "instance_seconds")
PER_INSTANCE = ("reference_loss", "reference_kind", "reference_gap", "target_negatives")


def command(out):
    return script_command("make_landscape_census.py", "--out", output_path(out))


def config_name(group, k, negatives, labels, n, instances, runs, min_target_negatives):
    return f"{group}_k{k}_neg{negatives}_{labels}_n{n}"


def flat(results, key, per_run):
    """Field ``key`` of every configuration, flattened and concatenated (run or instance order)."""
    return np.concatenate([np.ravel(r[key]) if per_run else np.asarray(r[key]).ravel() for r in results])


def k_scan_fractions(results):
    """Per ``k``, mixed signs and all positive: the fraction of runs verified at zero loss (a run
    that did not end at a verified stationary point counts as not at zero loss) and the number
    of such unverified runs."""
    fractions, failed = {"mixed": [], "positive": []}, {"mixed": [], "positive": []}
    for config, res in zip(CONFIGS, results):
        if config[0] != "k_scan":
            continue
        pattern = "positive" if config[2] == 0 else "mixed"
        fractions[pattern].append(float(np.mean(res.zero_loss & res.instance_success)))
        failed[pattern].append(int(res.n_failed))
    return ({key: np.array(value) for key, value in fractions.items()},
            {key: np.array(value) for key, value in failed.items()})


def main(argv=None):
    parser = output_parser(__doc__)
    args = parser.parse_args(argv)
    checkpoints = checkpoint_folder(args.out, "landscape_census")

    start = time.perf_counter()
    results = []
    for config in CONFIGS:
        group, k, negatives, labels, n, instances, runs, min_target_negatives = config
        # executor=None: the sweep engine's own pool of os.cpu_count() workers (2 on the machine
        # that made the stored file), whose workers end with this process even when it is killed.
        res = landscape_census(D, k, negatives, labels, n, runs, instances=instances,
                               min_target_negatives=min_target_negatives, executor=None,
                               checkpoint=os.path.join(checkpoints, config_name(*config)), progress=True)
        if not res.success:
            print(f"{config_name(*config)}: {res.message}", file=sys.stderr)
        results.append(res)
    seconds = time.perf_counter() - start

    columns = list(zip(*CONFIGS))
    sizes = [c[5] * c[6] for c in CONFIGS]
    fractions, failed = k_scan_fractions(results)
    path = os.path.join(args.out, "landscape_census.npz")
    np.savez_compressed(
        path,
        d=np.int64(D),
        seed=np.int64(LANDSCAPE_CENSUS_SEED),
        config_group=np.array(columns[0]), config_k=np.array(columns[1]), config_negatives=np.array(columns[2]),
        config_labels=np.array(columns[3]), config_n=np.array(columns[4]), config_instances=np.array(columns[5]),
        config_runs=np.array(columns[6]), config_min_target_negatives=np.array(columns[7]),
        config_max_steps=np.array([r.max_steps for r in results]),
        run_config=np.repeat(np.arange(len(CONFIGS)), sizes),
        run_instance=np.concatenate([np.repeat(np.arange(c[5]), c[6]) for c in CONFIGS]),
        run_start=np.concatenate([np.tile(np.arange(c[6]), c[5]) for c in CONFIGS]),
        **{f"run_{key}": flat(results, key, True) for key in PER_RUN},
        instance_config=np.repeat(np.arange(len(CONFIGS)), [c[5] for c in CONFIGS]),
        instance_index=np.concatenate([np.arange(c[5]) for c in CONFIGS]),
        **{f"instance_{key}": flat(results, key, False) for key in PER_INSTANCE},
        k_scan_k=np.array(K_VALUES),
        k_scan_zero_loss_fraction_mixed=fractions["mixed"],
        k_scan_zero_loss_fraction_positive=fractions["positive"],
        k_scan_failed_mixed=failed["mixed"],
        k_scan_failed_positive=failed["positive"],
        spurious_rtol=np.float64(SPURIOUS_RTOL),
        global_gap_rtol=np.float64(GLOBAL_GAP_RTOL),
        descent_rtol=np.float64(DESCENT_RTOL),
        step_factor=np.float64(STEP_FACTOR),
        **provenance(command(args.out), seconds),
        n_loaded_from_checkpoint=np.int64(sum(r.n_loaded for r in results)),
    )
    holds = [r for c, r in zip(CONFIGS, results) if c[0] == "holds"]
    print(f"conditions hold: {sum(r.n_runs for r in holds)} runs, {sum(r.n_spurious for r in holds)} spurious; "
          f"few negatives: {sum(r.n_spurious for c, r in zip(CONFIGS, results) if c[0] == 'few_negatives')} "
          f"spurious", file=sys.stderr)
    print(f"wrote {path}: {seconds:.1f} s wall", file=sys.stderr)


if __name__ == "__main__":
    main()
