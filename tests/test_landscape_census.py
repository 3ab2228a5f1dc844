"""The landscape census behind Theorem 2.1 of seed 003: stored data regenerated, its claims, argument checks.

Tolerances for regenerated runs (another processor's OpenBLAS rounds differently, so the
descent takes other last digits and the polish stops at another point of the same set of
minima; nothing is compared at round-off level):

* integer and boolean fields (status, stationary, certified, zero loss, the Hessian's negative
  and null counts, the symmetry dimension, the spurious flag) are compared exactly. They are
  decided by cuts far from where the computed values sit: the polished gradient is ~1e-16 of
  its scale against the cut GTOL = 1e-9; null Hessian eigenvalues are ~1e-16 of the largest
  against EIG_RTOL = 1e-7; zero losses are ~1e-20 against ZERO_LOSS_RTOL = 1e-10; and the
  spurious margin is SPURIOUS_RTOL = 1e-6 against gaps of 1e-5 and more;
* relative losses (``L / L(0)``) are compared with ``LOSS_ATOL``. Both points are stationary to
  ``GTOL`` on the same set of minima, where the loss is constant; a point with gradient ``g``
  is within ``||g||^2 / (2 mu)`` of that level, ``mu >= EIG_RTOL * lambda_max`` the smallest
  nonzero Hessian eigenvalue, which is at most ``4 GTOL^2 / EIG_RTOL = 4e-11`` of ``L(0)``
  (``||g|| <= GTOL * ||J|| (||r|| + ||y||) / n`` and ``lambda_max >= ||J||^2 / n`` up to the
  residual term). ``LOSS_ATOL = 1e-9`` is 25 times that;
* reference values: least squares over symmetric matrices is exact to round-off (``1e-14``);
  the conic minimum is certified to ``GLOBAL_GAP_RTOL = 1e-8`` (each value lies within its gap
  above the true minimum), so two solves agree to that: ``REFERENCE_ATOL = GLOBAL_GAP_RTOL``;
* gradient-descent step counts: the count is where the gradient norm first crosses a
  threshold along a trajectory that round-off moves by ~1e-13 relative over its ~10^4 steps,
  so it may move by a step near a crossing: compared to ``STEPS_RTOL = 1 %``.
"""

import importlib
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from qnb import NetworkLoss, network_flow, polish_stationary_point

from qnb.landscape_census import (
    GLOBAL_BEST_KNOWN,
    GLOBAL_CONE,
    GLOBAL_GAP_RTOL,
    GLOBAL_SYMMETRIC,
    LANDSCAPE_CENSUS_SEED,
    SPURIOUS_RTOL,
    STATUS_DIVERGED,
    STATUS_RAISED,
    STATUS_STATIONARY,
    census_instance,
    census_run,
    landscape_census,
    negative_eigenvalues,
    network_global_minimum,
    output_weights,
)

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data", "landscape_census.npz")
LOSS_ATOL = 1e-9
REFERENCE_ATOL = GLOBAL_GAP_RTOL
STEPS_RTOL = 0.01
EXACT = ("stationary", "certified_minimum", "zero_loss", "negative", "null", "symmetry_dimension")


@pytest.fixture(scope="module")
def stored():
    with np.load(DATA) as f:
        return {key: f[key] for key in f.files}


def _config(stored, c):
    return {key: stored[f"config_{key}"][c].item() for key in
            ("group", "k", "negatives", "labels", "n", "min_target_negatives", "max_steps")}


def _regenerated_runs(stored):
    """Two runs of every configuration, and the first spurious run of each with one."""
    picked = []
    for c in range(stored["config_k"].size):
        rows = np.flatnonzero(stored["run_config"] == c)
        picked += list(rows[:2])
        spurious = rows[stored["run_spurious"][rows]]
        picked += list(spurious[:1])
    return picked


def test_stored_runs_regenerate(stored):
    assert "make_landscape_census.py" in str(stored["command"])
    assert stored["seed"] == LANDSCAPE_CENSUS_SEED
    d = int(stored["d"])
    for row in _regenerated_runs(stored):
        c, i, s = (int(stored[key][row]) for key in ("run_config", "run_instance", "run_start"))
        cfg = _config(stored, c)
        run = census_run(d, cfg["k"], cfg["negatives"], cfg["labels"], cfg["n"], i, s, rng=int(stored["seed"]),
                         min_target_negatives=cfg["min_target_negatives"], max_steps=cfg["max_steps"])
        where = f"config {c} ({cfg['group']}, k={cfg['k']}, negatives={cfg['negatives']}), run {i}/{s}"
        assert run.status == stored["run_instance_status"][row], where
        for key in EXACT:
            assert run[key] == stored[f"run_{key}"][row], f"{key} at {where}"
        assert_allclose(run.relative_loss, stored["run_relative_loss"][row], rtol=0, atol=LOSS_ATOL, err_msg=where)
        assert_allclose(run.descent_steps, stored["run_descent_steps"][row], rtol=STEPS_RTOL, err_msg=where)
        # The spurious flag, against the stored reference of the instance.
        (j,) = np.flatnonzero((stored["instance_config"] == c) & (stored["instance_index"] == i))
        reference = stored["instance_reference_loss"][j]
        spurious = bool(run.certified_minimum and run.relative_loss > reference + SPURIOUS_RTOL)
        assert spurious == stored["run_spurious"][row], where


def test_stored_references_regenerate(stored):
    """The convex reference values of the first two instances of every configuration."""
    d = int(stored["d"])
    for j in np.flatnonzero(stored["instance_index"] < 2):
        c, i = int(stored["instance_config"][j]), int(stored["instance_index"][j])
        cfg = _config(stored, c)
        X, y, M = census_instance(d, cfg["n"], cfg["labels"], i, rng=int(stored["seed"]),
                                  min_target_negatives=cfg["min_target_negatives"])
        assert stored["instance_target_negatives"][j] == (-1 if M is None else negative_eigenvalues(M))
        best = network_global_minimum(X, y, cfg["k"], cfg["negatives"])
        kind = stored["instance_reference_kind"][j]
        assert best.kind == kind or (kind != GLOBAL_SYMMETRIC and kind != GLOBAL_CONE and best.kind == GLOBAL_BEST_KNOWN)
        if kind in (GLOBAL_SYMMETRIC, GLOBAL_CONE):
            assert best.success
            assert_allclose(best.relative_loss, stored["instance_reference_loss"][j], rtol=0, atol=REFERENCE_ATOL)


def _group(stored, group):
    configs = np.flatnonzero(stored["config_group"] == group)
    return np.isin(stored["run_config"], configs)


def test_stored_conditions_hold_no_spurious_minimum(stored):
    """Theorem 2.1: >= d units of each sign: every limit is at the global minimum, none spurious."""
    runs = _group(stored, "holds")
    d = int(stored["d"])
    configs = np.flatnonzero(stored["config_group"] == "holds")
    assert np.all(stored["config_negatives"][configs] >= d)
    assert np.all(stored["config_k"][configs] - stored["config_negatives"][configs] >= d)
    assert runs.sum() >= 1000
    assert np.all(stored["run_instance_success"][runs])
    assert not np.any(stored["run_spurious"][runs])
    assert np.all(stored["run_at_reference"][runs])
    instances = np.isin(stored["instance_config"], configs)
    assert np.all(stored["instance_reference_kind"][instances] == GLOBAL_SYMMETRIC)
    # Zero loss wherever an exact fit exists: n <= d (d + 1) / 2, or labels from a symmetric target.
    fit = ((stored["config_n"] <= d * (d + 1) // 2) | (stored["config_labels"] != "random"))[stored["run_config"]]
    assert np.all(stored["run_zero_loss"][runs & fit])
    assert not np.any(stored["run_zero_loss"][runs & ~fit])


def test_stored_few_negative_units_give_spurious_minima(stored):
    runs = _group(stored, "few_negatives")
    negatives = stored["config_negatives"][stored["run_config"]]
    assert np.any(stored["run_spurious"][runs & (negatives == 1)])
    # Every spurious limit is a certified minimum of a verified run, above its instance's best value.
    spurious = stored["run_spurious"]
    assert np.all(stored["run_certified_minimum"][spurious] & stored["run_instance_success"][spurious])
    targets = np.isin(stored["instance_config"], np.flatnonzero(stored["config_group"] == "few_negatives"))
    assert np.all(stored["instance_target_negatives"][targets] >= 3)


def test_stored_all_positive_never_fits_indefinite_labels(stored):
    for group in ("all_positive", "k_scan"):
        runs = _group(stored, group) & (stored["config_negatives"][stored["run_config"]] == 0)
        assert runs.any()
        assert not np.any(stored["run_zero_loss"][runs])
    runs = _group(stored, "all_positive")
    assert np.all(stored["run_at_reference"][runs]) and not np.any(stored["run_spurious"][runs])
    instances = np.isin(stored["instance_config"], np.flatnonzero(stored["config_group"] == "all_positive"))
    assert np.all(stored["instance_reference_kind"][instances] == GLOBAL_CONE)
    assert np.all(stored["instance_reference_loss"][instances] > 1e-3)
    assert_array_equal(stored["k_scan_zero_loss_fraction_positive"], 0.0)
    k = stored["k_scan_k"]
    assert_array_equal(stored["k_scan_zero_loss_fraction_mixed"][k >= 2 * int(stored["d"])], 1.0)


def test_census_fields_and_checkpoint(tmp_path):
    first = landscape_census(3, 6, 3, "random", 12, 2, instances=2, rng=3, executor="serial", checkpoint=tmp_path)
    assert first.success and first.n_failed == 0 and first.n_runs == 4
    assert first.run_status is first.instance_status  # the engine's "instance" is a run here
    for key in ("relative_loss", "negative", "certified_minimum", "spurious", "at_reference", "instance_status"):
        assert first[key].shape == (2, 2), key
    assert first.reference_loss.shape == first.reference_kind.shape == (2,)
    assert np.all(first.reference_kind == GLOBAL_SYMMETRIC) and np.all(first.reference_loss > 0)  # n > 6
    assert np.all(first.at_reference) and first.n_spurious == 0
    again = landscape_census(3, 6, 3, "random", 12, 2, instances=2, rng=3, executor="serial", checkpoint=tmp_path)
    assert again.n_loaded == 4
    assert_array_equal(again.relative_loss, first.relative_loss)
    # A run of the census is census_run of the same (instance, start); even in one process the
    # last bit can differ between two computations (OpenBLAS kernels depend on memory alignment).
    one = census_run(3, 6, 3, "random", 12, 1, 0, rng=3)
    assert_allclose(one.relative_loss, first.relative_loss[1, 0], rtol=0, atol=LOSS_ATOL)
    assert one.certified_minimum == first.certified_minimum[1, 0] and one.null == first.null[1, 0]


def test_a_failed_run_is_its_status(monkeypatch):
    diverged = landscape_census(3, 6, 3, "planted", 12, 1, instances=2, rng=1, executor="serial", step=1e6)
    assert not diverged.success and diverged.n_failed == 2
    assert np.all(diverged.instance_status == STATUS_DIVERGED)
    assert np.all(np.isnan(diverged.relative_loss)) and not diverged.spurious.any()

    # The module itself: once qnb exports the function landscape_census, the attribute
    # qnb.landscape_census (and so `import qnb.landscape_census as m`) is the function.
    module = importlib.import_module("qnb.landscape_census")

    def broken(loss, theta):
        raise FloatingPointError("polish failed")

    monkeypatch.setattr(module, "polish_stationary_point", broken)
    res = landscape_census(3, 6, 3, "planted", 12, 1, instances=1, rng=1, executor="serial")
    assert res.instance_status[0, 0] == STATUS_RAISED and "polish failed" in res.message
    assert res.negative[0, 0] == -1 and not res.certified_minimum[0, 0]


def test_reference_values():
    X, y, _ = census_instance(3, 20, "planted", 0, rng=5)
    assert network_global_minimum(X, y, 3, 0).relative_loss < 1e-12           # PSD target, PSD cone
    assert network_global_minimum(X, -y, 3, 3).relative_loss < 1e-12          # NSD cone
    flipped = network_global_minimum(X, -y, 3, 0)                              # NSD target, PSD cone
    assert flipped.success and flipped.kind == GLOBAL_CONE and flipped.relative_loss > 0.01
    assert network_global_minimum(X, y, 4, 1).kind == GLOBAL_BEST_KNOWN       # no convex description
    assert_array_equal(output_weights(3, 2), [-1.0, -1.0, 1.0])
    _, _, planted = census_instance(6, 3, "planted", 0)
    assert negative_eigenvalues(planted) == 0 and negative_eigenvalues(-planted) == 3  # rank 3 of 6


@pytest.mark.parametrize("kwargs, error, name", [
    ({"d": 0}, ValueError, "d"),
    ({"k": 2.5}, TypeError, "k"),
    ({"negatives": 7}, ValueError, "negatives"),
    ({"negatives": -1}, ValueError, "negatives"),
    ({"labels": "teacher"}, ValueError, "labels"),
    ({"labels": 3}, TypeError, "labels"),
    ({"n": 0}, ValueError, "n"),
    ({"runs": 0}, ValueError, "runs"),
    ({"instances": "2"}, TypeError, "instances"),
    ({"rng": -1}, ValueError, "rng"),
    ({"step": -0.1}, ValueError, "step"),
    ({"max_steps": 0}, ValueError, "max_steps"),
    ({"min_target_negatives": 4}, ValueError, "min_target_negatives"),
    ({"labels": "planted", "min_target_negatives": 1}, ValueError, "min_target_negatives"),
    ({"progress": 1}, TypeError, "progress"),
])
def test_argument_checks(kwargs, error, name):
    args = {"d": 3, "k": 6, "negatives": 3, "labels": "indefinite", "n": 8, "runs": 1, "instances": 1,
            "executor": "serial"} | kwargs
    with pytest.raises(error, match=name):
        landscape_census(args.pop("d"), args.pop("k"), args.pop("negatives"), args.pop("labels"), args.pop("n"),
                         args.pop("runs"), **args)


def test_reference_argument_checks():
    X, y, _ = census_instance(3, 8, "random", 0)
    with pytest.raises(ValueError, match="y"):
        network_global_minimum(X, y[:-1], 6, 3)
    with pytest.raises(ValueError, match="negatives"):
        network_global_minimum(X, y, 2, 3)
    with pytest.raises(ValueError, match="instance"):
        census_instance(3, 8, "random", -1)


@pytest.mark.parametrize("negatives, instance", [(1, 2), (1, 7), (2, 9)])
def test_spurious_minima_survive_perturbation(stored, negatives, instance):
    # The second-order test proves a local minimum only where theta -> M keeps its rank nearby,
    # which the spurious limits need not do (zero rows, rank drops). So on stored instances with
    # spurious runs, higher minima found by the gradient flow are perturbed (relative size 1e-3
    # and 1e-2) and the flow is run again: a saddle or a degenerate point would let some of the
    # restarts fall to a lower loss; a local minimum brings every one back to its own loss.
    sel = (stored["run_config"] == _few_negatives_config(stored, negatives)) & (stored["run_instance"] == instance)
    assert stored["run_spurious"][sel].any(), "the instance must have stored spurious runs"
    X, y, _ = census_instance(int(stored["d"]), 42, "indefinite", instance, int(stored["seed"]),
                              min_target_negatives=3)
    loss = NetworkLoss(X, y, v=output_weights(12, negatives))
    rng = np.random.default_rng(instance)
    ends = [_flow_limit(loss, loss.random_start(rng)) for _ in range(6)]
    best = min(loss.value(theta) for theta in ends)
    higher = [theta for theta in ends if loss.value(theta) > best * (1 + SPURIOUS_RTOL)]
    assert higher, "the six flow starts must find a higher minimum on this instance"
    for theta in higher[:2]:
        assert loss.stationarity(theta).certified_minimum
        level = loss.value(theta)
        for size in (1e-3, 1e-2):
            u = rng.standard_normal(theta.size)
            again = _flow_limit(loss, theta + size * np.linalg.norm(theta) * u / np.linalg.norm(u))
            assert abs(loss.value(again) / level - 1) < 1e-9


def _few_negatives_config(stored, negatives):
    (c,) = np.flatnonzero((stored["config_group"] == "few_negatives") & (stored["config_negatives"] == negatives))
    return c


def _flow_limit(loss, theta0):
    res = network_flow(loss, theta0, [0.0, 1e2, 1e4, 1e6, 1e8])
    assert res.success, res.message
    return polish_stationary_point(loss, res.theta[-1])
