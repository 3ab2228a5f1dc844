"""Time to a converged 100-image string: the default scheme against plain fixed steps.

One instance of Fig. 4 (d = 8, n = 12, m* = 1: below n = 2d - 1, so the string has
a flat stretch), 100 images, from the straight segment between A(0) and A*:

* ``string_method(...)`` with its defaults (per-image times of one spacing, covered
  by Rosenbrock steps);
* the plain method, ``scheme='fixed'``: one gradient-descent step of the same size
  for every image (at most one spacing for the fastest image, and stable).

"Converged" is judged the same way for both, against a reference string (the
default scheme at ``tol=1e-8``): every image within ``--accuracy`` spacings of the
reference, and every image of the reference's flat stretch at training loss below
1e-8 of the string's maximum. The fixed-step string is advanced in chunks of
``--chunk`` iterations and checked after each; it is stopped after ``--budget``
seconds, in which case the ratio printed is a lower bound.

Run:  python benchmarks/bench_string_method.py [--budget 600] [--chunk 20000] [--accuracy 0.1]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import qnb  # noqa: E402
from timing import timed  # noqa: E402

D, N, TRIAL, N_IMAGES = 8, 12, 0, 100


def instance():
    """Instance (n = 12, trial 0) of the d = 8 sweep of book/data/make_string_profiles.py."""
    return qnb.string_profile_instance(D, N, TRIAL, rng=qnb.string_profiles_seed(D))


def quality(images, X, y, reference, flat_start):
    """Largest distance to the reference in spacings, and whether the flat stretch is flat."""
    spacing = qnb.string_arclength(reference)[-1] / (len(reference) - 1)
    off = qnb.distance_to_path(images, reference).max() / spacing
    loss = np.array([qnb.empirical_loss(A, X, y) for A in images])
    flat = bool(np.all(loss[flat_start:] <= 1e-8 * loss.max()))
    return off, flat


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds allowed to the fixed-step string")
    parser.add_argument("--chunk", type=int, default=20000, help="fixed-step iterations between checks")
    parser.add_argument("--accuracy", type=float, default=0.1, help="allowed distance to the reference, in spacings")
    args = parser.parse_args(argv)

    A0, A_star, X, y = instance()
    reference = qnb.string_method(A0, A_star, X, y, N_IMAGES, tol=1e-8, max_iter=20000)
    flat = qnb.flat_stretch(reference.train_loss, reference.arclength)
    print(f"reference: {reference.nit} iterations, {reference.message}; flat stretch of {flat.count} images, "
          f"length {flat.length:.3f} of {reference.arclength[-1]:.3f}")

    fast, t_fast = timed(qnb.string_method, A0, A_star, X, y, N_IMAGES)
    off, is_flat = quality(fast.images, X, y, reference.images, flat.start)
    print(f"default scheme: {fast.nit} iterations in {t_fast:.2f} s ({fast.message}); "
          f"{off:.3f} spacings from the reference, flat stretch flat: {is_flat}")

    images, nit, t_plain, step = None, 0, 0.0, None
    while t_plain < args.budget:
        res, dt = timed(qnb.string_method, A0, A_star, X, y, N_IMAGES, scheme="fixed", step=step,
                        max_iter=args.chunk, tol=1e-300, initial=images)
        images, step = res.images, res.step
        nit, t_plain = nit + res.nit, t_plain + dt
        if res.status == 2:
            print("fixed steps diverged")
            return
        off_plain, plain_flat = quality(images, X, y, reference.images, flat.start)
        print(f"  fixed steps: {nit} iterations, {t_plain:.1f} s: {off_plain:.3f} spacings from the reference, "
              f"flat stretch flat: {plain_flat}", flush=True)
        if off_plain <= args.accuracy and plain_flat:
            break
    done = off_plain <= args.accuracy and plain_flat
    print(f"fixed steps (step {step:.3g}): {nit} iterations in {t_plain:.1f} s, "
          + ("converged" if done else f"not converged within the {args.budget:.0f} s budget"))
    ratio = t_plain / t_fast
    print(f"speed-up of the default scheme: {'' if done else 'at least '}{ratio:.0f}x "
          f"(iterations {nit} against {fast.nit}; per iteration the default costs "
          f"{(t_fast / fast.nit) / (t_plain / nit):.0f}x a fixed step)")


if __name__ == "__main__":
    main()
