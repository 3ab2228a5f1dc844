"""Time to the limit of a linearly converging flow: stopping at round-off against integrating on.

Near a Morse-Bott branch of perfect minima (the chapter on branches, seed 004)
the flow reaches zero loss to round-off at a finite time. The chapter
integrates every flow to t = 1e11 on log-spaced output times, because flows
into the degenerate branch need that long. Two ways to do it, from the same
starts (two exponential units fitting one, n = 6 of the chapter's inputs,
starts drawn as in the chapter's check that flows end on the branches):

* ``qnb.network_flow`` (LSODA, exact Hessian, rtol 1e-11, atol 1e-15) on all
  output times: after the loss reaches round-off its gradient is noise, and
  the integrator crawls through it;
* ``qnb.flow_to_limit``, the same integrator stopped after the first step at
  which the loss is at round-off (``ROUND_OFF_RTOL`` of the zero network's),
  the later output times repeating that state.

Both limits are compared, and the time ratio of this one run is printed per
start. Starts whose flow goes to the degenerate branch are not stopped, and
cost the same both ways.

Run:  python benchmarks/bench_flow_to_limit.py [--starts 0 6]
"""

from __future__ import annotations

import argparse

import numpy as np

import qnb
from timing import timed

GOLDEN = (1 + 5 ** 0.5) / 2
X = 2 * np.mod(0.5 + GOLDEN * np.arange(1, 7), 1.0) - 1
TIMES = np.r_[0.0, np.logspace(-2, 11, 261)]
FLOW = dict(method="LSODA", rtol=1e-11, atol=1e-15)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, nargs="+", default=[0, 6],
                        help="indices of the chapter's random starts (0 and 6 converge linearly)")
    args = parser.parse_args(argv)
    loss = qnb.teacher_student_loss(X, [1.0], [0.5], 2)
    rng = np.random.default_rng(1)
    starts = [np.r_[rng.normal(0.5, 0.5, 2), rng.normal(0.5, 0.5, 2)] for _ in range(max(args.starts) + 1)]
    ratios = {}
    for i in args.starts:
        plain, t_plain = timed(qnb.network_flow, loss, starts[i], TIMES, **FLOW)
        stopped, t_stopped = timed(qnb.flow_to_limit, loss, starts[i], TIMES, **FLOW)
        assert plain.success and stopped.success
        gap = float(np.max(np.abs(plain.theta[-1] - stopped.theta[-1])))
        ratios[i] = t_plain / t_stopped
        print(f"start {i}: network_flow takes {ratios[i]:.0f}x the time of flow_to_limit "
              f"(stopped at t = {stopped.stopped_at:.3g}, {plain.nfev} against {stopped.nfev} "
              f"evaluations); limits differ by {gap:.1e}; both losses at round-off "
              f"({plain.loss[-1]:.1e}, {stopped.loss[-1]:.1e})")
    return ratios


if __name__ == "__main__":
    main()
