"""The stored large-d thresholds (book/data/threshold_scaling.npz): consistency checks, no solves.

The file is regenerated (in part) by tests/test_threshold_scaling_regenerates.py; here only the
stored arrays are checked against each other, against recovery_thresholds.npz and against
what must hold on every instance.
"""

import os

import numpy as np
import pytest

import qnb
from qnb.recovery import STATUS_UNDECIDED

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data")
SCALING = os.path.join(DATA, "threshold_scaling.npz")
SEED_BASE = 20_200_000  # book/data/make_threshold_scaling.py (and make_recovery_thresholds.py)

@pytest.fixture(scope="module")
def scaling():
    if not os.path.exists(SCALING):
        pytest.fail(f"{SCALING} is missing; regenerate it with .venv/bin/python book/data/make_threshold_scaling.py")
    with np.load(SCALING) as f:
        return {key: f[key] for key in f.files}


@pytest.fixture(scope="module")
def stored():
    with np.load(os.path.join(DATA, "recovery_thresholds.npz")) as f:
        return {key: f[key] for key in f.files}


def sweep(data, method, d, m_star):
    (i,) = np.flatnonzero((data["method"] == method) & (data["d"] == d) & (data["m_star"] == m_star))
    return data["n_threshold"][i, : data["trials"][i]]


def test_schema_and_statuses(scaling):
    rows = scaling["method"].size
    for key in ("d", "m_star", "trials", "seed"):
        assert scaling[key].shape == (rows,)
    for key in ("n_threshold", "status", "instance_seconds"):
        assert scaling[key].shape[0] == rows and scaling[key].shape[1] >= scaling["trials"].max()
    assert set(scaling["method"]) <= {"phaselift", "uniqueness"}
    assert np.array_equal(scaling["seed"], SEED_BASE + 100 * scaling["d"] + scaling["m_star"])
    for i, trials in enumerate(scaling["trials"]):
        status = scaling["status"][i, :trials]
        # Decided, or (only at d > 48, where the instances are new) left undecided because a margin
        # near the threshold was within its round-off bound: then no threshold is stored.
        allowed = (0,) if scaling["d"][i] <= 48 else (0, STATUS_UNDECIDED)
        assert np.all(np.isin(status, allowed)), (scaling["method"][i], scaling["d"][i], scaling["m_star"][i])
        assert np.all(scaling["n_threshold"][i, :trials][status != 0] == -1)
        assert np.mean(status != 0) <= 0.2                           # a few at most
        assert np.all(scaling["n_threshold"][i, trials:] == -2)     # padding beyond the sweep
        assert np.all(np.isfinite(scaling["instance_seconds"][i, :trials]))


def test_thresholds_within_the_bracket(scaling):
    # n <= p1 samples can always be fitted by a second PSD point (recovery_bracket), and with
    # N* = d(d+1)/2 samples the span condition makes A* unique: p1 < n_PL <= n_u <= N*.
    for i, trials in enumerate(scaling["trials"]):
        d, m_star = int(scaling["d"][i]), int(scaling["m_star"][i])
        lower, upper = qnb.recovery_bracket(d, m_star)
        n = scaling["n_threshold"][i, :trials][scaling["status"][i, :trials] == 0]
        assert np.all(n > lower) and np.all(n <= upper)


def test_phaselift_never_after_uniqueness(scaling):
    # A uniqueness certificate is a trace-minimization certificate: n_PL <= n_u, instance by instance.
    pairs = {(int(d), int(m)) for d, m in zip(scaling["d"], scaling["m_star"])}
    compared = 0
    for d, m_star in pairs:
        methods = set(scaling["method"][(scaling["d"] == d) & (scaling["m_star"] == m_star)])
        if methods != {"phaselift", "uniqueness"}:
            continue
        n_u, n_pl = sweep(scaling, "uniqueness", d, m_star), sweep(scaling, "phaselift", d, m_star)
        k = min(n_u.size, n_pl.size)
        decided = (n_u[:k] > 0) & (n_pl[:k] > 0)
        assert np.all(n_pl[:k][decided] <= n_u[:k][decided]), (d, m_star)
        compared += decided.sum()
    assert compared > 0


def test_uniqueness_equals_the_dense_certificate(scaling, stored):
    # Same root seeds, same instances: the rank-one solver must find the dense certificate's thresholds.
    checked = 0
    for i in np.flatnonzero(scaling["method"] == "uniqueness"):
        d, m_star = int(scaling["d"][i]), int(scaling["m_star"][i])
        j = np.flatnonzero((stored["method"] == "certificate") & (stored["d"] == d) & (stored["m_star"] == m_star))
        if j.size == 0:
            continue
        assert stored["seed"][j[0]] == scaling["seed"][i]
        n_u = scaling["n_threshold"][i, : scaling["trials"][i]]
        assert np.array_equal(n_u, stored["n_threshold"][j[0], : n_u.size]), (d, m_star)
        checked += n_u.size
    assert checked > 0


def test_theory_arrays(scaling):
    d, m_star = scaling["theory_d"], scaling["theory_m_star"]
    delta, err = scaling["delta"], scaling["delta_stderr"]
    assert np.all(np.isfinite(delta)) and np.all(err > 0) and np.all(err < 0.01 * delta)
    # Bounds of tests/test_statistical_dimension.py: r(r+1)/2 + r s - 1/2 < delta(D) < delta(T).
    s = d - m_star
    assert np.all(delta > m_star * (m_star + 1) / 2 + m_star * s - 0.5)
    assert np.all(delta < m_star * (m_star + 1) / 2 + m_star * s + s * (s + 1) / 4)
    for r in np.unique(m_star):
        order = np.argsort(d[m_star == r])
        ratio = (delta / d)[m_star == r][order]
        assert np.all(np.diff(ratio) > 0) and np.all(ratio < 3 * r)    # delta / (r d) rises towards 3
    # Every sweep has its theory row; the mean-I PhaseLift prediction is stored up to d = 128.
    for dd, mm in zip(scaling["d"], scaling["m_star"]):
        j = np.flatnonzero((d == dd) & (m_star == mm))
        assert j.size == 1
        assert np.isfinite(scaling["n_phaselift_predicted"][j[0]]) == (dd <= 128)
