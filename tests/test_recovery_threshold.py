"""Recovery thresholds of nested instances: exact against a scan, bounds, methods, checkpoints, data."""

import dataclasses
import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import qnb
import qnb.recovery
from qnb import (
    RECOVERY_METHODS,
    critical_samples,
    is_unique_minimizer,
    nested_instance_data,
    recovery_bracket,
    recovery_threshold,
)
from qnb.recovery import STATUS_DECIDED, STATUS_NOT_RECOVERED

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data", "recovery_thresholds.npz")


# --- the search ------------------------------------------------------------------------

def known_threshold(threshold, calls):
    """A method (an entry for RECOVERY_METHODS) that recovers exactly from ``threshold`` samples
    on, and records the sample sizes it is asked about."""
    def solve(X, y, A_star, W0, flow_time):
        n = X.shape[0]
        calls.append(n)
        return {"unique": n >= threshold, "certificate": float(n - threshold),
                "status": STATUS_DECIDED, "detail": "known"}

    return dataclasses.replace(RECOVERY_METHODS["certificate"], solve=solve)


# Brackets, first guesses (13) and steps max(1, d // 4) of several shapes.
@pytest.mark.parametrize("d, m_star", [(8, 1), (8, 3), (12, 1), (16, 2), (4, 4)])
def test_search_finds_every_threshold(d, m_star, monkeypatch):
    lower, upper = recovery_bracket(d, m_star)
    for threshold in range(lower + 1, upper + 1):
        calls = []
        monkeypatch.setitem(RECOVERY_METHODS, "known", known_threshold(threshold, calls))
        res = recovery_threshold(d, m_star, 1, method="known", rng=0, executor="serial")
        assert res.success and res.n_threshold[0] == threshold
        assert all(lower < n <= upper for n in calls)  # never below the bracket, never above
        assert len(calls) == len(set(calls)) <= 2 * np.log2(upper - lower) + 3
        assert_array_equal(res.probe_n[0], calls)
        assert_array_equal(res.probe_recovered[0], np.array(calls) >= threshold)


def test_search_reports_no_threshold(monkeypatch):
    calls = []
    monkeypatch.setitem(RECOVERY_METHODS, "never", known_threshold(np.inf, calls))
    res = recovery_threshold(8, 1, 2, method="never", rng=0, executor="serial")
    assert calls[-1] == 36  # the upper end was tried before giving up
    assert_array_equal(res.instance_status, [STATUS_NOT_RECOVERED] * 2) and res.n_failed == 2
    assert_array_equal(res.n_threshold, [-1, -1]) and not res.probability.any()
    assert "trial=0: not recovered even with d (d + 1) / 2 = 36 samples" in res.message


# --- the bracket -----------------------------------------------------------------------

def test_bracket_values():
    assert recovery_bracket(8, 1) == (8, 36)
    assert recovery_bracket(8, 3) == (21, 36)
    assert recovery_bracket(8, 8) == recovery_bracket(8, 20) == (35, 36)
    for d in (3, 6, 9):
        for m in range(1, d):
            lower, upper = recovery_bracket(d, m)
            assert lower < critical_samples(d, m) <= upper  # (13) lies inside


@pytest.mark.parametrize("d, m_star", [(6, 1), (6, 2), (5, 4), (4, 4)])
def test_bracket_is_sharp_at_its_ends(d, m_star):
    lower, upper = recovery_bracket(d, m_star)
    for trial in range(4):
        A_star, X, _, _ = nested_instance_data(9, trial, d, m_star)
        assert not is_unique_minimizer(X[:lower], A_star).unique
        assert is_unique_minimizer(X[:upper], A_star).unique


# --- exact thresholds ------------------------------------------------------------------

@pytest.mark.parametrize("d, m_star", [(6, 1), (6, 2), (5, 3), (4, 4)])
def test_certificate_threshold_matches_a_scan(d, m_star):
    res = recovery_threshold(d, m_star, 6, rng=3, executor="serial")
    assert res.success and res.n_failed == 0
    lower, upper = res.n_lower, res.n_upper
    for t in range(6):
        A_star, X, _, _ = nested_instance_data(res.seed, t, d, m_star)
        scan = np.array([is_unique_minimizer(X[:n], A_star).unique for n in range(lower, upper + 1)])
        first = lower + int(np.argmax(scan))
        assert scan[first - lower:].all() and not scan[:first - lower].any()  # monotone
        assert res.n_threshold[t] == first
        assert res.probe_recovered[t][res.probe_n[t] == first].all()
    assert res.n_probes.max() <= 6
    # The empirical distribution function of the thresholds.
    expected = (res.n_threshold[:, None] <= res.n_values[None, :]).mean(axis=0)
    assert_array_equal(res.probability, expected)
    assert res.probability[-1] == 1.0 and np.all(np.diff(res.probability) >= 0)
    assert_array_equal(res.alpha_threshold, res.n_threshold / d)


def test_flow_and_certificate_thresholds_agree():
    """Same instances; the flow (T = 1e10) ends at A* exactly when the certificate says unique."""
    cert = recovery_threshold(5, 1, 8, rng=4, executor="serial")
    flow = recovery_threshold(5, 1, 8, method="flow", rng=4)  # default process pool
    assert cert.success and flow.success
    assert_array_equal(flow.n_threshold, cert.n_threshold)
    # Around each threshold the flow is decisive: close to A* above, far below.
    for n, recovered, distance in zip(flow.probe_n, flow.probe_recovered, flow.probe_value):
        assert np.all(distance[recovered] < 1e-3) and np.all(distance[~recovered] > 1e-2)


def test_a_short_flow_misses_slow_recoveries():
    """Near its threshold the flow approaches A* like 1/t: at T = 1e5 it is not there yet."""
    cert = recovery_threshold(5, 1, 8, rng=4, executor="serial")
    short = recovery_threshold(5, 1, 8, method="flow", flow_time=1e5, rng=4, executor="serial")
    assert np.all(short.n_threshold >= cert.n_threshold)
    assert np.any(short.n_threshold > cert.n_threshold)


# --- sweeps: executors, checkpoints, failures --------------------------------------------

def test_checkpoint_resume_and_pool(tmp_path, counting):
    serial = recovery_threshold(6, 2, 5, rng=1, executor="serial")
    first = recovery_threshold(6, 2, 3, rng=1, checkpoint=tmp_path, executor="serial")
    assert first.n_loaded == 0 and len(os.listdir(tmp_path)) == 3
    counter = counting()
    more = recovery_threshold(6, 2, 5, rng=1, checkpoint=tmp_path, executor=counter)
    assert more.n_loaded == 3 and sorted(task["trial"] for task in counter.tasks) == [3, 4]
    assert_array_equal(more.n_threshold, serial.n_threshold)
    for a, b in zip(more.probe_n, serial.probe_n):
        assert_array_equal(a, b)
    # Another method or seed does not pick these files up.
    recovery_threshold(6, 2, 1, rng=2, checkpoint=tmp_path, executor="serial")
    assert len(os.listdir(tmp_path)) == 6


@pytest.mark.parametrize("status", [qnb.recovery.STATUS_UNDECIDED, qnb.recovery.STATUS_FLOW_DIVERGED,
                                    qnb.recovery.STATUS_FLOW_FAILED])
def test_failed_probe_is_reported(status, monkeypatch):
    """A failed solve stops the search with its own status, distinct from 'not recovered'."""
    def solve(X, *args):
        out = RECOVERY_METHODS["certificate"].solve(X, *args)
        if X.shape[0] == 12:
            out.update(status=status, detail="solver gave up (test)")
        return out

    monkeypatch.setitem(RECOVERY_METHODS, "failing",
                        dataclasses.replace(RECOVERY_METHODS["certificate"], solve=solve))
    res = recovery_threshold(6, 1, 4, method="failing", rng=0, executor="serial")
    failed = ~res.instance_success
    assert failed.any() and not res.success and res.status == 1
    assert_array_equal(res.n_threshold[failed], -1)
    assert np.isnan(res.alpha_threshold[failed]).all()
    assert_array_equal(res.instance_status[failed], status)
    assert status != STATUS_NOT_RECOVERED
    assert "n=12: " in res.message and "solver gave up (test)" in res.message
    assert res.probability[-1] == np.mean(~failed)  # failed instances never count as recovered


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"d": 0}, ValueError, "d must be >= 1"),
        ({"m_star": 1.5}, TypeError, "m_star must be an integer"),
        ({"trials": 0}, ValueError, "trials must be >= 1"),
        ({"method": "gd"}, ValueError, "method must be one of"),
        ({"flow_time": -1.0}, ValueError, "flow_time must be finite and > 0"),
        ({"executor": "threads"}, ValueError, "executor must be None, 'serial' or an executor"),
        ({"progress": "yes"}, TypeError, "progress must be True or False"),
    ],
)
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        recovery_threshold(**({"d": 4, "m_star": 1, "trials": 1, "executor": "serial"} | kwargs))


def test_flow_falls_back_to_bdf_when_lsoda_diverges():
    """Instance 0 of the stored d = 4, m* = 1 flow sweep: LSODA blows up at t ~ 1e10 with n = 7."""
    A_star, X, y, rng = nested_instance_data(20_200_401, 0, 4, 1)
    W0 = rng.standard_normal((4, 4))
    lsoda = qnb.empirical_flow(qnb.gram(W0), X[:7], y[:7], [0.0, 1e10])
    assert not lsoda.success
    res = qnb.flow_with_fallback(qnb.gram(W0), X[:7], y[:7], [0.0, 1e10])
    assert res.success and res.method == "BDF" and res.message.startswith("LSODA failed, BDF:")
    assert np.linalg.norm(res.A[-1] - A_star) / np.linalg.norm(A_star) < 1e-6
    # The threshold sweep decides that probe with the fallback.
    probes = recovery_threshold(4, 1, 1, method="flow", rng=20_200_401, executor="serial")
    assert probes.success and 7 in probes.probe_n[0]


# --- the stored data regenerate -----------------------------------------------------------

@pytest.fixture(scope="module")
def stored():
    if not os.path.exists(DATA):
        pytest.fail(f"{DATA} is missing; regenerate it with "
                    ".venv/bin/python book/data/make_recovery_thresholds.py")
    with np.load(DATA) as f:
        return {key: f[key] for key in f.files}


def _row(stored, method, d, m_star):
    (i,) = np.flatnonzero((stored["method"] == method) & (stored["d"] == d)
                          & (stored["m_star"] == m_star))
    return i


@pytest.mark.parametrize("method, d, m_star, trials",
                         [("certificate", 8, 2, 12), ("certificate", 24, 1, 2), ("flow", 8, 3, 3)])
def test_stored_thresholds_regenerate(stored, method, d, m_star, trials):
    i = _row(stored, method, d, m_star)
    res = recovery_threshold(d, m_star, trials, method=method, rng=int(stored["seed"][i]),
                             flow_time=float(stored["flow_time"]),
                             recovery_tol=float(stored["recovery_tol"]))
    # Thresholds are integers, compared exactly: each is fixed by two verdicts (unique at n_u,
    # not at n_u - 1). A certificate verdict is fixed by the computation when its margin is far
    # above the solver's accuracy (~1e-8): checked below at 1e-6, so another machine's round-off
    # cannot move these integers. (A flow verdict is fixed when the end point's distance is far
    # from recovery_tol; the flow rows are few and were stable between two OpenBLAS kernels.)
    assert_array_equal(res.n_threshold, stored["n_threshold"][i, :trials])
    assert_array_equal(res.n_probes, stored["n_probes"][i, :trials])
    if method == "certificate":
        for trial, n_u in enumerate(res.n_threshold):
            A_star, X, _, _ = qnb.nested_instance_data(int(stored["seed"][i]), trial, d, m_star)
            above, below = is_unique_minimizer(X[:n_u], A_star), is_unique_minimizer(X[:n_u - 1], A_star)
            assert above.unique and above.certificate > 1e-6
            assert not below.unique and below.witness_residual < 1e-9
            assert below.certificate < -1e-6 or below.certificate == 0.0  # 0: exact rank deficiency


def test_stored_file_is_complete(stored):
    assert str(stored["command"]).startswith(".venv/bin/python book/data/make_recovery_thresholds.py")
    for i, trials in enumerate(stored["trials"]):
        row = stored["n_threshold"][i]
        assert np.all(row[:trials] > 0) and np.all(row[trials:] == -2)
        assert np.all(stored["status"][i, :trials] == STATUS_DECIDED)  # 0: threshold found
