"""Regenerate the stored gradient-descent runs behind the book's versions of Figs. 2 and 3.

Run from the repository root:

    .venv/bin/python book/data/make_population_runs.py --runs 100 --out book/data

It writes

``fig2_gd_runs.npz``
    d = 8, Gaussian teacher with m_star in (2, 4, 8, 16), n = 2 n_c samples
    (n_c of eq. (13); d(d+1)/2 when m_star >= d), so n = 42, 60, 72, 72.
``fig3_gd_runs.npz``
    d = 8, Gaussian teacher with m_star = 1, n = round(alpha d) for alpha in
    (1, 1.5, 1.875, 2, 2.5, 3, 4, 6).

Both use the same time grid (0 then 71 log-spaced times from 1e-3 to 1e4) and
:func:`qnb.gd_loss_curves` with its defaults (student width 4 d,
LSODA). Loss arrays have shape (panels, runs, times). Every file also carries
the command that regenerates it, the seeds, the package versions, the date
and the time it took. Finished runs are checkpointed under
``<out>/.checkpoints/`` (git-ignored), so an interrupted run of this script
resumes where it stopped; delete that folder to recompute from scratch.
"""

from __future__ import annotations

import inspect
import os
import shlex
import sys
import time

import numpy as np

import qnb
from provenance import checkpoint_folder, output_parser, output_path, provenance, script_command

D = 8
T_EVAL = np.concatenate([[0.0], np.geomspace(1e-3, 1e4, 71)])

FIG2_M_STAR = (2, 4, 8, 16)
FIG3_M_STAR = 1
FIG3_ALPHA = (1.0, 1.5, 1.875, 2.0, 2.5, 3.0, 4.0, 6.0)
FIG3_SEED_OFFSET = 30_000

# gd_loss_curves solves every run with the defaults of qnb.empirical_flow; record them.
FLOW_DEFAULTS = {k: p.default for k, p in inspect.signature(qnb.empirical_flow).parameters.items()
                 if k in ("method", "rtol", "atol")}



def fig2_panels(d=D):
    """(m_star, n, seed) of each panel of Fig. 2."""
    return [(m, 2 * qnb.critical_samples(d, m), 1000 * m + d) for m in FIG2_M_STAR]


def fig3_panels(d=D):
    """(alpha, n, seed) of each curve of Fig. 3."""
    return [(a, int(round(a * d)), FIG3_SEED_OFFSET + i) for i, a in enumerate(FIG3_ALPHA)]


def command(runs, out, only):
    """The command, run from the repository root, that regenerates the file ``only``."""
    return script_command("make_population_runs.py", "--runs", runs, "--out", output_path(out), "--only", only)


def metadata(runs, out, only, seconds, compute_seconds, n_loaded):
    return {
        **provenance(command(runs, out, only), seconds),
        "argv": np.array(shlex.join([sys.executable] + sys.argv)),
        "compute_time_s": np.float64(compute_seconds),
        "n_loaded_from_checkpoint": np.int64(n_loaded),
        "d": np.int64(D),
        "teacher": np.array("gaussian"),
        "width": np.int64(4 * D),
        "method": np.array(FLOW_DEFAULTS["method"]),
        "rtol": np.float64(FLOW_DEFAULTS["rtol"]),
        "atol": np.float64(FLOW_DEFAULTS["atol"]),
        "n_runs": np.int64(runs),
        "t": T_EVAL,
    }


def sweep(panels, m_star_of, runs, checkpoints, label):
    """Run every panel; return stacked arrays and timing."""
    results = []
    start = time.perf_counter()
    for key, n, seed in panels:
        res = qnb.gd_loss_curves(D, m_star_of(key), n, runs, T_EVAL, rng=seed, teacher="gaussian",
                                 checkpoint=checkpoints, progress=True)
        if not res.success:
            print(f"{label} {key}: {res.message}", file=sys.stderr)
        results.append(res)
    seconds = time.perf_counter() - start
    # The stored files keep the names run_success, run_status and run_seconds.
    return {
        "train_loss": np.stack([r.train_loss for r in results]),
        "population_loss": np.stack([r.population_loss for r in results]),
        "run_success": np.stack([r.instance_success for r in results]),
        "run_status": np.stack([r.instance_status for r in results]),
        "n_failed": np.array([r.n_failed for r in results]),
        "run_seconds": np.stack([r.instance_seconds for r in results]),
        "panel_messages": np.array([r.message for r in results]),
    }, seconds, sum(r.n_loaded for r in results)


def main(argv=None):
    parser = output_parser(__doc__)
    parser.add_argument("--runs", type=int, default=100, help="runs per panel (default 100)")
    parser.add_argument("--only", choices=("fig2", "fig3"), help="make only one of the files")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    checkpoints = checkpoint_folder(args.out)

    if args.only in (None, "fig2"):
        write_panels(args, "fig2", "m_star", fig2_panels(), lambda m: m, checkpoints)
    if args.only in (None, "fig3"):
        write_panels(args, "fig3", "alpha", fig3_panels(), lambda a: FIG3_M_STAR, checkpoints,
                     m_star=np.int64(FIG3_M_STAR))


def write_panels(args, name, key, panels, m_star_of, checkpoints, **extra):
    """Run the sweep of one figure and store it as ``<name>_gd_runs.npz`` with its metadata."""
    data, seconds, n_loaded = sweep(panels, m_star_of, args.runs, checkpoints, f"{name} {key}")
    path = os.path.join(args.out, f"{name}_gd_runs.npz")
    np.savez_compressed(
        path,
        **{key: np.array([p[0] for p in panels])},
        n=np.array([p[1] for p in panels]),
        seed=np.array([p[2] for p in panels]),
        **extra,
        **data,
        **metadata(args.runs, args.out, name, seconds, data["run_seconds"].sum(), n_loaded),
    )
    print(f"wrote {path}: {seconds:.1f} s wall, {int(data['n_failed'].sum())} failed runs",
          file=sys.stderr)


if __name__ == "__main__":
    main()
