"""Regenerate the stored runs behind the global-convergence figures (seed 003, Figs. 2 and 3).

Run from the repository root:

    .venv/bin/python book/data/make_global_convergence.py --out book/data

It writes ``global_convergence.npz`` with four panels, each the output of
:func:`qnb.global_convergence.global_convergence_probability` on planted data
(teacher width = student width ``k``, ``W*`` i.i.d. ``N(0, 1)``, output
weights one; the student trains ``W`` and ``v`` from random starts):

* ``fig2a``: softplus (beta = 1), ``d = 10``, ``n = 60``, ``k`` varied;
* ``fig2b``: softplus, ``d = 10``, ``k = 16``, ``n`` varied;
* ``fig3a``: quadratic, ``d = 10``, ``n = 60``, ``k`` varied;
* ``fig3b``: quadratic, ``d = 10``, ``k = 4``, ``n`` varied;

12 instances per grid point, 5 starts per instance, at most 20 000 gradient-descent steps per
start for softplus and 100 000 for the quadratic activation (see ``PANELS``).

Every field of a panel is stored under ``<panel>_<field>``: the grid
(``n_values``, ``k_values``), the root seed, ``instances``, ``starts``,
``max_steps``, the per-instance verdict ``all_global`` and status, and per
start (shape ``(len(n), len(k), instances, starts)``) the outcome code, loss,
steps, step size, Hessian data and seconds. The file also carries the
command, the package versions, the date and the timings. Finished instances
are checkpointed under ``<out>/.checkpoints/`` (git-ignored) so an
interrupted run resumes; ``--workers`` sets the size of the process pool.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time

import numpy as np

from qnb.global_convergence import PER_START, global_convergence_probability
from provenance import checkpoint_folder, output_parser, output_path, provenance, script_command

D = 10
INSTANCES = 12
STARTS = 5
PANELS = {
    # name: (activation, n, k, root seed, max_steps). A quadratic step costs about half a softplus
    # one and the quadratic runs approach zero loss more slowly (sublinearly, where a unit's
    # output weight has to change sign), so they get five times the steps.
    "fig2a": ("softplus", 60, (4, 8, 12, 14, 16, 20, 24), 20_201, 20_000),
    "fig2b": ("softplus", (20, 40, 60, 80, 100, 120), 16, 20_202, 20_000),
    "fig3a": ("quadratic", 60, (1, 2, 4, 6, 8, 12, 16, 20), 20_301, 100_000),
    "fig3b": ("quadratic", (20, 30, 40, 60, 80, 100, 140), 4, 20_302, 100_000),
}
PER_INSTANCE = ("all_global", "instance_status", "instance_seconds")


def command(out, workers):
    return script_command("make_global_convergence.py", "--out", output_path(out), "--workers", workers)


def run_panel(name, executor, checkpoints):
    activation, n, k, seed, max_steps = PANELS[name]
    res = global_convergence_probability(activation, D, n, k, INSTANCES, STARTS, rng=seed, max_steps=max_steps,
                                         executor=executor, checkpoint=os.path.join(checkpoints, name),
                                         progress=True)
    if not res.success:
        print(f"{name}: {res.n_failed} instances undecided", file=sys.stderr)
    fields = {"activation": np.array(activation), "d": np.int64(D), "n_values": res.n_values,
              "k_values": res.k_values, "seed": np.int64(res.seed), "instances": np.int64(INSTANCES),
              "starts": np.int64(STARTS), "max_steps": np.int64(max_steps),
              "varied": np.array("k" if res.k_values.size > 1 else "n"),
              "n_loaded_from_checkpoint": np.int64(res.n_loaded)}
    fields |= {key: res[key] for key in PER_START + PER_INSTANCE}
    return {f"{name}_{key}": value for key, value in fields.items()}


def main(argv=None):
    parser = output_parser(__doc__)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    checkpoints = checkpoint_folder(args.out, "global_convergence")

    start = time.perf_counter()
    arrays = {}
    with concurrent.futures.ProcessPoolExecutor(args.workers) as pool:
        for name in PANELS:
            arrays |= run_panel(name, pool, checkpoints)
    seconds = time.perf_counter() - start

    path = os.path.join(args.out, "global_convergence.npz")
    np.savez_compressed(path, panels=np.array(list(PANELS)), **arrays,
                        **provenance(command(args.out, args.workers), seconds))
    print(f"wrote {path}: {seconds:.1f} s wall", file=sys.stderr)


if __name__ == "__main__":
    main()
