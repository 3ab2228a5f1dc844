"""Regenerate the stored recovery thresholds behind the chapter on the sample-complexity threshold.

Run from the repository root:

    .venv/bin/python book/data/make_recovery_thresholds.py --out book/data

It writes ``recovery_thresholds.npz``: for every sweep ``(method, d, m_star)``
below, the recovery threshold ``n_u`` of each nested instance, from
:func:`qnb.recovery_threshold` (Gaussian teacher; root seed
``SEED_BASE + 100 d + m_star``, so an instance is the same for both methods
and in every sweep that uses it).

* ``certificate``, ``m_star = 1, 2, 3``: ``d = 4, 8, 16`` (200 instances),
  ``d = 24`` (100), ``d = 32`` (60), ``d = 48`` (40) -- the finite-size extrapolation;
  ``m_star = 4, 5, 6``: ``d = 4, 8, 16`` (200) -- Fig. 1;
* ``flow`` (student width ``d``, ``flow_time = 1e10``, ``recovery_tol = 1e-3``),
  ``m_star = 1..6``, ``d = 4, 8, 16`` (40 instances, the first 40 of the
  certificate sweeps) -- the gradient-descent points of Fig. 1 and the
  agreement of the flow with the certificate.

Arrays have one row per sweep and one column per instance (``-2`` where a
sweep has fewer instances; ``-1`` where an instance failed). ``status`` is the
instance's ``instance_status`` (``0``: threshold found; the other codes are
``qnb.recovery.THRESHOLD_INSTANCE_MESSAGES`` and the sweep engine's -200 raised,
-201 timed out, -202 worker lost). The file also
carries the command, the package versions, the date and the timings.
Finished instances are checkpointed under ``<out>/.checkpoints/`` (git-ignored)
so an interrupted run resumes; ``--only`` restricts to one method.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from provenance import checkpoint_folder, output_parser, output_path, provenance, script_command
from threshold_table import plan_arrays, threshold_table

SEED_BASE = 20_200_000
FLOW_TIME = 1e10
RECOVERY_TOL = 1e-3


def sweeps():
    """(method, d, m_star, trials) of every sweep, cheapest first."""
    out = []
    for d in (4, 8, 16):
        out += [("certificate", d, m, 200) for m in range(1, 7)]
    for d in (4, 8, 16):
        out += [("flow", d, m, 40) for m in range(1, 7)]
    for d, trials in ((24, 100), (32, 60), (48, 40)):
        out += [("certificate", d, m, trials) for m in (1, 2, 3)]
    return out


def seed(d, m_star):
    return SEED_BASE + 100 * d + m_star


def command(out, only):
    options = ["--out", output_path(out)] + (["--only", only] if only else [])
    return script_command("make_recovery_thresholds.py", *options)


def main(argv=None):
    parser = output_parser(__doc__)
    parser.add_argument("--only", choices=("certificate", "flow"), help="run one method only")
    args = parser.parse_args(argv)
    checkpoints = checkpoint_folder(args.out, "recovery_thresholds")

    plan = [s for s in sweeps() if args.only in (None, s[0])]
    start = time.perf_counter()
    table, n_loaded = threshold_table(plan, seed, checkpoints, flow_time=FLOW_TIME, recovery_tol=RECOVERY_TOL)
    seconds = time.perf_counter() - start

    path = os.path.join(args.out, "recovery_thresholds.npz")
    np.savez_compressed(
        path,
        **plan_arrays(plan, seed),
        **table,
        flow_time=np.float64(FLOW_TIME),
        recovery_tol=np.float64(RECOVERY_TOL),
        teacher=np.array("gaussian"),
        **provenance(command(args.out, args.only), seconds),
        n_loaded_from_checkpoint=np.int64(n_loaded),
    )
    print(f"wrote {path}: {seconds:.1f} s wall", file=sys.stderr)


if __name__ == "__main__":
    main()
