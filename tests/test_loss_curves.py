"""Repeated gradient-flow runs: stored data regenerate, checkpoints resume, arguments are checked."""

import inspect
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb
import qnb.loss_curves
from qnb import curves_agree, gd_loss_curves, log_mean

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data")
T_SHORT = np.array([0.0, 0.1, 1.0, 10.0])


def load(name):
    path = os.path.join(DATA, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing; regenerate it with "
                    ".venv/bin/python book/data/make_population_runs.py")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def assert_rows_reproduced(stored, fresh):
    # The tolerance is derived from the integrator's rtol in qnb.curves_agree's docstring:
    # |dE| / E <~ 20 rtol sqrt(E(0) / E(t)), and below the 10 % level both curves must be there.
    assert np.all(stored[:, :10] > 0)
    assert curves_agree(stored, fresh, rtol=RTOL_FLOW)


RTOL_FLOW = inspect.signature(qnb.empirical_flow).parameters["rtol"].default


# --- stored files: a slice regenerates ----------------------------------------

@pytest.mark.parametrize("m_star", [2, 16])
def test_fig2_file_regenerates(m_star):
    data = load("fig2_gd_runs.npz")
    i = int(np.flatnonzero(data["m_star"] == m_star)[0])
    res = gd_loss_curves(int(data["d"]), m_star, int(data["n"][i]), 2, data["t"],
                         rng=int(data["seed"][i]), teacher=str(data["teacher"]),
                         width=int(data["width"]))
    assert res.success
    assert_rows_reproduced(data["population_loss"][i, :2], res.population_loss)
    assert_rows_reproduced(data["train_loss"][i, :2], res.train_loss)


def test_fig3_file_regenerates():
    data = load("fig3_gd_runs.npz")
    i = int(np.flatnonzero(data["alpha"] == 1.5)[0])
    assert data["n"][i] == 12
    res = gd_loss_curves(int(data["d"]), int(data["m_star"]), int(data["n"][i]), 2, data["t"],
                         rng=int(data["seed"][i]), teacher=str(data["teacher"]),
                         width=int(data["width"]))
    assert res.success
    assert_rows_reproduced(data["population_loss"][i, :2], res.population_loss)
    assert_rows_reproduced(data["train_loss"][i, :2], res.train_loss)


@pytest.mark.parametrize("name", ["fig2_gd_runs.npz", "fig3_gd_runs.npz"])
def test_stored_files_carry_their_provenance(name):
    data = load(name)
    assert str(data["command"]).startswith(".venv/bin/python book/data/make_population_runs.py")
    for key in ("qnb_version", "numpy_version", "scipy_version", "created"):
        assert str(data[key])
    assert data["wall_time_s"] > 0
    n_panels, n_runs, n_t = data["population_loss"].shape
    assert data["train_loss"].shape == (n_panels, n_runs, n_t) and n_t == data["t"].size
    assert len(set(data["seed"].tolist())) == n_panels
    assert data["run_success"].shape == (n_panels, n_runs)


# --- reproducibility and checkpoints ------------------------------------------

def test_run_r_does_not_depend_on_n_runs():
    small = gd_loss_curves(4, 2, 20, 2, T_SHORT, rng=3)
    large = gd_loss_curves(4, 2, 20, 4, T_SHORT, rng=3)
    assert_array_equal(small.train_loss, large.train_loss[:2])
    assert_array_equal(small.population_loss, large.population_loss[:2])
    assert not np.array_equal(large.train_loss[0], large.train_loss[1])
    assert small.width == 16 and small.n_failed == 0 and small.status == 0


def test_run_is_the_documented_draw():
    """Run r is qnb.draw_instance from qnb.instance_rng(seed, r), then flow (5) from gram(W0)."""
    res = gd_loss_curves(3, 1, 8, 2, T_SHORT, rng=4, width=5)
    A_star, X, y, W0 = qnb.draw_instance(3, 1, 8, qnb.instance_rng(4, 1), width=5)
    flow = qnb.empirical_flow(qnb.gram(W0), X, y, T_SHORT, A_star=A_star)
    assert_array_equal(res.train_loss[1], flow.loss)
    assert_array_equal(res.population_loss[1], flow.population_loss)


def test_seed_is_a_deprecated_alias_of_rng():
    with pytest.warns(DeprecationWarning, match="pass rng"):
        old = gd_loss_curves(3, 1, 8, 1, T_SHORT, seed=3)
    assert_array_equal(old.train_loss, gd_loss_curves(3, 1, 8, 1, T_SHORT, rng=3).train_loss)
    assert old.seed == 3
    with pytest.raises(TypeError, match="both rng and its deprecated alias seed"):
        gd_loss_curves(3, 1, 8, 1, T_SHORT, rng=2, seed=3)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="seed must be a non-negative"):
        gd_loss_curves(3, 1, 8, 1, T_SHORT, seed=-3)


def test_old_field_names_are_the_new_arrays():
    res = gd_loss_curves(3, 1, 8, 2, T_SHORT, rng=0)
    for old in ("success", "status", "seconds"):
        assert res[f"run_{old}"] is res[f"instance_{old}"]
    assert res.run_success.all() and res.instance_seconds.shape == (2,)


def test_checkpoint_resumes_only_missing_runs(tmp_path, counting):
    counter = counting()
    first = gd_loss_curves(4, 2, 20, 3, T_SHORT, rng=7, checkpoint=tmp_path, executor=counter)
    assert counter.calls == 3 and first.n_loaded == 0
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3 and all(f.endswith(".npz") for f in files)

    os.remove(tmp_path / files[1])
    second = gd_loss_curves(4, 2, 20, 3, T_SHORT, rng=7, checkpoint=tmp_path, executor=counter)
    assert counter.calls == 4 and second.n_loaded == 2
    assert sorted(os.listdir(tmp_path)) == files
    for key in ("train_loss", "population_loss", "run_success", "run_status"):
        assert_array_equal(second[key], first[key])

    # Other parameters do not pick up these files.
    gd_loss_curves(4, 2, 21, 1, T_SHORT, rng=7, checkpoint=tmp_path, executor=counter)
    assert counter.calls == 5 and len(os.listdir(tmp_path)) == 4


def test_process_pool_gives_the_serial_result():
    serial = gd_loss_curves(3, 1, 8, 2, T_SHORT, rng=9)
    pooled = gd_loss_curves(3, 1, 8, 2, T_SHORT, rng=9, executor=None)
    assert_array_equal(pooled.train_loss, serial.train_loss)


def test_failed_run_is_kept_as_nan_and_reported(tmp_path, monkeypatch):
    def failing_second_call(*args, _calls=[0], **kwargs):
        _calls[0] += 1
        res = qnb.flows.empirical_flow(*args, **kwargs)
        if _calls[0] == 2:
            res.update(success=False, status=-1, message="integration failed: test")
        return res

    monkeypatch.setattr(qnb.loss_curves, "empirical_flow", failing_second_call)
    res = gd_loss_curves(4, 2, 20, 3, T_SHORT, rng=1, checkpoint=tmp_path)
    assert not res.success and res.status == 1 and res.n_failed == 1
    assert_array_equal(res.instance_success, [True, False, True])
    assert res.instance_status[1] == -1 and "run=1: integration failed: test" in res.message
    assert np.isnan(res.train_loss[1]).all() and np.isnan(res.population_loss[1]).all()
    assert np.isfinite(res.train_loss[[0, 2]]).all()
    assert_allclose(log_mean(res.train_loss), log_mean(res.train_loss[[0, 2]]))
    # The failure is checkpointed too: it is deterministic, rerunning would fail again.
    again = gd_loss_curves(4, 2, 20, 3, T_SHORT, rng=1, checkpoint=tmp_path)
    assert again.n_loaded == 3 and again.n_failed == 1


def test_progress_goes_to_stderr(capsys):
    gd_loss_curves(3, 1, 8, 2, T_SHORT, rng=0, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "2/2 runs" in err


# --- argument checks ----------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"d": 0}, ValueError, "d must be >= 1"),
        ({"d": 2.0}, TypeError, "d must be an integer"),
        ({"m_star": -1}, ValueError, "m_star must be >= 1"),
        ({"n": "10"}, TypeError, "n must be an integer"),
        ({"n_runs": 0}, ValueError, "n_runs must be >= 1"),
        ({"t_eval": [1.0, 0.5]}, ValueError, "t_eval must be strictly increasing"),
        ({"t_eval": [-1.0, 0.5]}, ValueError, "t_eval must be non-negative"),
        ({"rng": -3}, ValueError, "rng must be a non-negative integer"),
        ({"rng": 1.5}, TypeError, "rng must be None, a non-negative integer or a numpy Generator"),
        ({"teacher": "uniform"}, ValueError, "teacher must be one of"),
        ({"teacher": 1}, TypeError, "teacher must be a string"),
        ({"width": 0}, ValueError, "width must be >= 1"),
        ({"checkpoint": 3}, TypeError, "checkpoint must be None or a directory"),
        ({"progress": "yes"}, TypeError, "progress must be True or False"),
        ({"executor": "threads"}, ValueError, "executor must be None, 'serial' or an executor"),
    ],
)
def test_gd_loss_curves_argument_errors(kwargs, error, match):
    args = {"d": 3, "m_star": 1, "n": 8, "n_runs": 1, "t_eval": T_SHORT} | kwargs
    with pytest.raises(error, match=match):
        gd_loss_curves(**args)


def test_checkpoint_must_not_be_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(ValueError, match="checkpoint must be a directory"):
        gd_loss_curves(3, 1, 8, 1, T_SHORT, checkpoint=path)


# --- log_mean -----------------------------------------------------------------

def test_log_mean_known_values():
    curves = np.array([[1.0, 1e-10, 0.0, np.nan],
                       [100.0, 1e-30, 1e-100, np.nan],
                       [np.nan, np.nan, np.nan, np.nan]])
    # Geometric means 10 and 1e-20; an exact zero is floored at 1e-300 first.
    assert_allclose(log_mean(curves[:, :3]), [10.0, 1e-20, 1e-200], rtol=1e-12)
    assert np.isnan(log_mean(curves)[3])
    assert_allclose(log_mean(curves[:, 2], floor=1e-120), 1e-110, rtol=1e-12)


@pytest.mark.parametrize(
    "curves, kwargs, error, match",
    [
        ([[1.0, -1.0]], {}, ValueError, "curves must be non-negative"),
        ([[1.0, np.inf]], {}, ValueError, "infinite"),
        (np.empty((0, 3)), {}, ValueError, "at least one run"),
        ([1.0], {"floor": 0.0}, ValueError, "floor must be finite and > 0"),
        ("abc", {}, TypeError, "curves must be a numeric array"),
    ],
)
def test_log_mean_argument_errors(curves, kwargs, error, match):
    with pytest.raises(error, match=match):
        log_mean(curves, **kwargs)


def test_curves_agree_tolerance_follows_the_loss():
    """Resolved values must match to 20 rtol sqrt(E0/E); unresolved ones need only be small."""
    E = np.array([[10.0, 1e-1, 1e-6, 1e-14, 1e-25]])
    tol = 20 * 1e-9 * np.sqrt(10.0 / E)
    assert curves_agree(E, E * (1 + 0.5 * tol))
    bumped = E.copy()
    bumped[0, 2] *= 1 + 2 * tol[0, 2]
    assert not curves_agree(E, bumped)
    floor_level = E.copy()
    floor_level[0, 4] = 1e-20  # still far below the level (20 rtol / 0.1)^2 E0 = 4e-13
    assert curves_agree(E, floor_level)
    floor_level[0, 4] = 1e-11
    assert not curves_agree(E, floor_level)
    with pytest.raises(ValueError, match="same shape"):
        curves_agree(E, E[:, :3])
    assert not curves_agree(E, np.full_like(E, np.nan))
