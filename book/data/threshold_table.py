"""The per-instance table of a list of threshold sweeps, shared by the ``make_*thresholds*.py`` scripts.

Imported by the scripts beside it (run as scripts, their folder is on ``sys.path``).
"""

import os
import sys

import numpy as np

import qnb


def threshold_table(plan, seed, checkpoints, **kwargs):
    """Run ``qnb.recovery_threshold`` for each ``(method, d, m_star, trials)`` of ``plan``.

    Each sweep checkpoints under ``checkpoints/<method>_d<d>_m<m_star>`` and takes its root
    seed from ``seed(d, m_star)``; ``kwargs`` go to every call. Returns the arrays a stored
    file carries: one row per sweep, one column per instance (``-2`` where a sweep has fewer
    instances; ``-1`` where an instance failed), ``sweep_seconds`` and ``n_loaded``.
    """
    width = max(s[3] for s in plan)
    table = {name: np.full((len(plan), width), -2, dtype=int) for name in ("n_threshold", "n_probes", "status")}
    table["instance_seconds"] = np.full((len(plan), width), np.nan)
    table["sweep_seconds"] = np.zeros(len(plan))
    n_loaded = 0
    for i, (method, d, m_star, trials) in enumerate(plan):
        res = qnb.recovery_threshold(d, m_star, trials, method=method, rng=seed(d, m_star),
                                     checkpoint=os.path.join(checkpoints, f"{method}_d{d}_m{m_star}"),
                                     progress=True, **kwargs)
        if not res.success:
            print(f"{method} d={d} m_star={m_star}: {res.message}", file=sys.stderr)
        table["n_threshold"][i, :trials] = res.n_threshold
        table["n_probes"][i, :trials] = res.n_probes
        table["status"][i, :trials] = res.instance_status
        table["instance_seconds"][i, :trials] = res.instance_seconds
        table["sweep_seconds"][i] = res.seconds
        n_loaded += res.n_loaded
    return table, n_loaded


def plan_arrays(plan, seed):
    """The columns of ``plan`` as arrays: ``method``, ``d``, ``m_star``, ``trials`` and each sweep's ``seed``."""
    return {
        "method": np.array([s[0] for s in plan]),
        "d": np.array([s[1] for s in plan]),
        "m_star": np.array([s[2] for s in plan]),
        "trials": np.array([s[3] for s in plan]),
        "seed": np.array([seed(s[1], s[2]) for s in plan]),
    }
