"""Regenerate the stored strings behind the chapter on the string method (Fig. 4).

Run from the repository root:

    .venv/bin/python book/data/make_string_profiles.py --out book/data

It writes ``string_profiles.npz``: for ``d = 4, 6, 8``, ``n = 8, 12, 16, 20``,
``m* = 1`` and 10 instances each, the output of :func:`qnb.string_profiles`
(Gaussian teacher, student width ``d``, 100 images, root seed
:func:`qnb.string_profiles_seed` ``(d)``): training and population loss and
arclength along each converged string, its flat stretch, the certificate of
uniqueness (the signed trace-normalised margin of
:func:`qnb.is_unique_minimizer`), the limit of the gradient flow and the
distance from the string to the flow's trajectory.
Arrays are stacked over ``d`` (first axis). The file also carries the command,
the package versions, the date and the timings. Finished instances are
checkpointed under ``<out>/.checkpoints/`` (git-ignored) so an interrupted run
resumes.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import qnb
from provenance import checkpoint_folder, output_parser, output_path, provenance, script_command

D_VALUES = (4, 6, 8)
N_VALUES = (8, 12, 16, 20)
TRIALS = 10
N_IMAGES = 100
M_STAR = 1

PER_INSTANCE = ("train_loss", "population_loss", "arclength", "nit", "string_status", "string_success",
                "flat_start", "flat_count", "flat_length", "unique", "certificate", "flow_gap",
                "flow_population_loss", "flow_train_loss", "flow_success", "gd_distance")


def command(out):
    return script_command("make_string_profiles.py", "--out", output_path(out))


def main(argv=None):
    parser = output_parser(__doc__)
    args = parser.parse_args(argv)
    checkpoints = checkpoint_folder(args.out, "string_profiles")

    start = time.perf_counter()
    results = []
    for d in D_VALUES:
        res = qnb.string_profiles(d, N_VALUES, TRIALS, m_star=M_STAR, rng=qnb.string_profiles_seed(d),
                                  n_images=N_IMAGES, checkpoint=os.path.join(checkpoints, f"d{d}"),
                                  progress=True)
        if not res.success:
            print(f"d={d}: {res.message}", file=sys.stderr)
        results.append(res)
    seconds = time.perf_counter() - start

    path = os.path.join(args.out, "string_profiles.npz")
    np.savez_compressed(
        path,
        d=np.array(D_VALUES),
        n_values=np.array(N_VALUES),
        seed=np.array([qnb.string_profiles_seed(d) for d in D_VALUES]),
        trials=np.int64(TRIALS),
        n_images=np.int64(N_IMAGES),
        m_star=np.int64(M_STAR),
        width=np.array(D_VALUES),
        flow_time=np.float64(results[0].flow_time),
        teacher=np.array("gaussian"),
        **{key: np.stack([r[key] for r in results]) for key in PER_INSTANCE},
        seconds=np.stack([r.instance_seconds for r in results]),  # stored under its older name
        **provenance(command(args.out), seconds),
        n_loaded_from_checkpoint=np.int64(sum(r.n_loaded for r in results)),
    )
    print(f"wrote {path}: {seconds:.1f} s wall", file=sys.stderr)


if __name__ == "__main__":
    main()
