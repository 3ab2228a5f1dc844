"""The Fig. 4 sweep: stored data regenerated, checkpoints, executors, argument checks."""

import inspect
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb
from qnb import string_profiles

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data", "string_profiles.npz")

# Tolerances for regenerated strings, from the numerics (another machine rounds differently):
# * the string stops once no image moves by more than STRING_TOL (string_method's tol, 1e-5)
#   of the evolution step, so two runs stop at strings that differ by about that fraction of
#   a spacing; losses and arclengths, smooth functions of the images, then differ by
#   K * STRING_TOL relative, and K = 10 is four times the largest value measured over all 120
#   stored strings between two OpenBLAS kernels (losses 2.5e-5, arclength 7e-8 relative);
# * the flow's end point at t = 1e10 (rtol 1e-9) creeps algebraically through ~1e4 steps whose
#   local errors add up, so its distance to A* is fixed to ~1e4 x 1e-9 relative (measured
#   1.3e-6); where the flow reaches A*, that distance is the integrator's floor, ~100 rtol
#   ||A*|| with ||A*|| < 10 here, so below 1e-6 absolute (measured differences 3e-9).
STRING_TOL = inspect.signature(qnb.string_method).parameters["tol"].default
K_STRING = 10.0
FLOW_GAP_RTOL, FLOW_GAP_ATOL = 1e-4, 1e-6


def test_stored_fig4_data_is_reproduced():
    """Two stored instances recomputed: one with a flat stretch (d=6, n=8), one without (d=4, n=12)."""
    with np.load(DATA) as f:
        stored = {key: f[key] for key in f.files}
    assert "make_string_profiles.py" in str(stored["command"])
    for d, n, trial in ((6, 8, 0), (4, 12, 3)):
        i, j = list(stored["d"]).index(d), list(stored["n_values"]).index(n)
        assert stored["seed"][i] == qnb.string_profiles_seed(d)
        res = string_profiles(d, [n], trial + 1, rng=int(stored["seed"][i]), n_images=int(stored["n_images"]),
                              executor="serial")
        assert res.success, res.message
        for key in ("train_loss", "population_loss", "arclength"):
            new, old = res[key][0, trial], stored[key][i, j, trial]
            keep = old > 1e-12 * old.max()  # round-off-level training losses on a flat stretch differ
            assert_allclose(new[keep], old[keep], rtol=K_STRING * STRING_TOL, err_msg=key)
        for key in ("flat_start", "unique", "string_success"):
            assert res[key][0, trial] == stored[key][i, j, trial], key
        assert_allclose(res.flow_gap[0, trial], stored["flow_gap"][i, j, trial], rtol=FLOW_GAP_RTOL,
                        atol=FLOW_GAP_ATOL)


def test_sweep_fields_and_consistency():
    res = string_profiles(4, [8, 10], 2, rng=5, n_images=20, executor="serial")
    assert res.success and res.status == 0
    assert res.train_loss.shape == res.population_loss.shape == res.arclength.shape == (2, 2, 20)
    for key in ("nit", "flat_length", "unique", "flow_gap", "gd_distance", "seconds",
                "instance_success", "instance_status", "instance_seconds"):
        assert res[key].shape == (2, 2)
    assert res.instance_success.all() and not res.instance_status.any() and res.n_failed == 0
    assert res.seconds is res.instance_seconds  # the older name of the same array
    assert_array_equal(res.n_values, [8, 10])
    assert res.n_loaded == 0 and res.width == 4 and res.n_images == 20
    # Each instance is the one qnb.instance_data draws, with the student start drawn next ...
    A_star, X, y, rng = qnb.instance_data(5, 10, 1, 4, 1)
    A0 = qnb.gram(rng.standard_normal((4, 4)))
    # ... which qnb.string_profile_instance returns.
    for mine, theirs in zip(qnb.string_profile_instance(4, 10, 1, rng=5), (A0, A_star, X, y)):
        assert_array_equal(mine, theirs)
    one = qnb.string_method(A0, A_star, X, y, 20, A_star=A_star)
    assert_allclose(res.population_loss[1, 1], one.population_loss, rtol=1e-10)
    assert res.unique[1, 1] == qnb.is_unique_minimizer(X, A_star).unique


def test_checkpoint_resumes_without_recomputing(tmp_path):
    first = string_profiles(4, [8], 2, rng=2, n_images=15, executor="serial", checkpoint=tmp_path)
    assert len(os.listdir(tmp_path)) == 2
    again = string_profiles(4, [8], 2, rng=2, n_images=15, executor="serial", checkpoint=tmp_path)
    assert again.n_loaded == 2
    for key in ("train_loss", "population_loss", "arclength", "flat_length", "flow_gap", "nit"):
        assert_array_equal(again[key], first[key])
    # Another parameter (the number of images) is another file, not a stale hit.
    other = string_profiles(4, [8], 2, rng=2, n_images=16, executor="serial", checkpoint=tmp_path)
    assert other.n_loaded == 0 and other.train_loss.shape == (1, 2, 16)


def test_process_pool_gives_the_serial_answer():
    serial = string_profiles(4, [9], 2, rng=8, n_images=15, executor="serial")
    pooled = string_profiles(4, [9], 2, rng=8, n_images=15)
    assert_allclose(pooled.population_loss, serial.population_loss, rtol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"d": 0}, ValueError, "d must be >= 1"),
        ({"n_values": []}, ValueError, "n_values must not be empty"),
        ({"n_values": [8, 8]}, ValueError, "n_values must not repeat"),
        ({"trials": 1.5}, TypeError, "trials must be an integer"),
        ({"n_images": 2}, ValueError, "n_images must be >= 3"),
        ({"rng": -1}, ValueError, "rng"),
        ({"executor": "threads"}, ValueError, "executor"),
        ({"teacher": "uniform"}, ValueError, "teacher"),
        ({"flow_time": 0.0}, ValueError, "flow_time"),
        ({"progress": 1}, TypeError, "progress"),
        ({"checkpoint": 3}, TypeError, "checkpoint must be None or a directory"),
    ],
)
def test_string_profiles_checks_arguments(kwargs, error, match):
    args = {"d": 4, "n_values": [8], "trials": 1} | kwargs
    with pytest.raises(error, match=match):
        string_profiles(**args)


def test_checkpoint_recomputes_only_missing_instances(tmp_path, counting):
    counter = counting()
    first = string_profiles(4, [8, 9], 1, rng=2, n_images=15, executor=counter, checkpoint=tmp_path)
    os.remove(tmp_path / sorted(os.listdir(tmp_path))[0])
    again = string_profiles(4, [8, 9], 1, rng=2, n_images=15, executor=counter, checkpoint=tmp_path)
    assert again.n_loaded == 1 and counter.calls == 3
    assert_array_equal(again.flat_start, first.flat_start)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"d": 0}, ValueError, "d must be >= 1"),
    ({"trial": -1}, ValueError, "trial must be >= 0"),
    ({"rng": None}, TypeError, "rng must be a non-negative integer"),
    ({"teacher": "uniform"}, ValueError, "teacher must be one of"),
])
def test_string_profile_instance_checks_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        qnb.string_profile_instance(**({"d": 4, "n": 8, "trial": 0} | kwargs))
