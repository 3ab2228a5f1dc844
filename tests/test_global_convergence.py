"""Global convergence from random starts (seed 003, Figs. 2-4): stored runs regenerated, the
logistic fit on outcomes of known law, the random-label curves, argument checks.

Tolerances for regenerated runs, from the numerics. Another processor's OpenBLAS rounds the
same matrix products differently (last bits), and gradient descent carries those differences
along its path:

* a run's *outcome* (zero loss, local minimum, saddle, not converged) and an instance's verdict
  are compared exactly. On the slices below none of the decisions is a close call: the losses
  at the chunk ends around a stop differ from ``REACHED_ZERO_RTOL`` by far more than the
  round-off bound below (the step counts repeat exactly under another kernel), and the local
  minima found are certified (isolated off the symmetry fibre). A run that passes close to a
  saddle can amplify round-off without bound; such runs are not used as slices;
* a run stopped at a fixed step count (``max_steps``) carries the round-off of every step: a
  relative perturbation of about ``u = 1e-16`` per step, which gradient descent contracts across
  its path and at worst adds up along it, so after ``N <= 1e5`` steps the weights differ by at
  most ``N u = 1e-11`` relative and the loss by that times ``||grad L|| ||theta|| / L``, of order
  one to ten at these ends: ``1e-10``. ``LOSS_RTOL = 1e-8`` is a factor 100 above that bound;
* a run classified at a refined stationary point (``polish_stationary_point``, a root of the
  gradient) has its loss fixed to second order in the point's error, far below the above;
* the largest difference measured on these slices between two OpenBLAS kernels
  (``../shared/tools/other-cpu``) is ``MEASURED_RTOL = 4e-13``;
* a run stopped on reaching ``REACHED_ZERO_RTOL`` stops at the end of the chunk of steps in
  which it got there; its loss is then only known to be below that tolerance (compared as such),
  and its step count to within one chunk (``CHUNK_STEPS``).
"""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from qnb.global_convergence import (CHUNK_STEPS, OUTCOME_GLOBAL, OUTCOME_MAX_STEPS, OUTCOME_SKIPPED,
                                    REACHED_ZERO_RTOL, global_convergence_probability, logistic_fit,
                                    random_label_curves, run_instance)

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data", "global_convergence.npz")

LOSS_RTOL = 1e-8
MEASURED_RTOL = 4e-13  # largest relative loss difference measured between two OpenBLAS kernels

# (panel, n, k, instance): a quick all-global instance of each activation, two quadratic ones
# whose first start ends at a certified local minimum (relative losses 0.37 and 5e-4) and a
# softplus one whose first start stops at max_steps. Picked from the stored file.
SLICES = (("fig3a", 60, 2, 0), ("fig3a", 60, 1, 10), ("fig3b", 40, 4, 6), ("fig2b", 20, 16, 0),
          ("fig2a", 60, 4, 0))


@pytest.fixture(scope="module")
def stored():
    with np.load(DATA) as f:
        return {key: f[key] for key in f.files}


@pytest.mark.parametrize("panel, n, k, instance", SLICES)
def test_stored_slice_regenerates(stored, panel, n, k, instance):
    p = lambda key: stored[f"{panel}_{key}"]  # noqa: E731
    i, j = list(p("n_values")).index(n), list(p("k_values")).index(k)
    res = run_instance(str(p("activation")), int(p("d")), n, k, instance, int(p("starts")), rng=int(p("seed")),
                       max_steps=int(p("max_steps")))
    old = {key: p(key)[i, j, instance] for key in ("outcome", "relative_loss", "nsteps", "negative", "certified")}
    assert_array_equal(res.outcome, old["outcome"])
    assert res.all_global == bool(p("all_global")[i, j, instance])
    assert res.status == p("instance_status")[i, j, instance]
    ran = old["outcome"] != OUTCOME_SKIPPED
    reached = ran & (old["outcome"] == OUTCOME_GLOBAL) & (old["relative_loss"] <= REACHED_ZERO_RTOL)
    assert np.all(res.relative_loss[reached] <= REACHED_ZERO_RTOL)
    assert np.all(np.abs(res.nsteps[reached] - old["nsteps"][reached]) <= CHUNK_STEPS)
    rest = ran & ~reached
    assert_allclose(res.relative_loss[rest], old["relative_loss"][rest], rtol=LOSS_RTOL)
    stopped = ran & (old["outcome"] == OUTCOME_MAX_STEPS)
    assert_array_equal(res.nsteps[stopped], old["nsteps"][stopped])
    assert_array_equal(res.negative[ran], old["negative"][ran])
    assert_array_equal(res.certified[ran], old["certified"][ran])


def test_stored_file_is_complete(stored):
    assert "make_global_convergence.py" in str(stored["command"])
    for panel in stored["panels"]:
        outcome = stored[f"{panel}_outcome"]
        everyone = stored[f"{panel}_all_global"]
        assert outcome.shape == everyone.shape + (int(stored[f"{panel}_starts"]),)
        # The verdict is what the per-start outcomes say; later starts are skipped after a failure.
        assert_array_equal(everyone, np.all(outcome == OUTCOME_GLOBAL, axis=-1))
        assert np.all(stored[f"{panel}_run_seconds"][outcome != OUTCOME_SKIPPED] > 0)


def test_sweep_matches_its_instances_and_resumes(tmp_path):
    kwargs = {"rng": 4, "max_steps": 3000}
    res = global_convergence_probability("quadratic", 3, [10, 14], 1, 2, 2, executor="serial",
                                         checkpoint=tmp_path, **kwargs)
    assert res.outcome.shape == (2, 1, 2, 2) and res.probability.shape == (2, 1)
    one = run_instance("quadratic", 3, 14, 1, 1, 2, **kwargs)
    assert_array_equal(one.outcome, res.outcome[1, 0, 1])
    assert_allclose(one.relative_loss, res.relative_loss[1, 0, 1], rtol=1e-12)
    again = global_convergence_probability("quadratic", 3, [10, 14], 1, 2, 2, executor="serial",
                                           checkpoint=tmp_path, **kwargs)
    assert again.n_loaded == 4
    assert_array_equal(again.outcome, res.outcome)


def _draw(rng, x, intercept, slope):
    return (rng.random(x.size) < 1 / (1 + np.exp(-(intercept + slope * x)))).astype(float)


def test_logistic_fit_recovers_known_parameters():
    """4000 outcomes of a known logistic law: the fit is within 4 standard errors of the truth,
    and the reported standard error agrees with the spread over 40 independent samples."""
    rng = np.random.default_rng(12)
    x = np.repeat(np.arange(1.0, 11.0), 400)
    crossing, slope = 5.3, 1.5
    fits = [logistic_fit(x, _draw(rng, x, -slope * crossing, slope), bootstrap=0) for _ in range(40)]
    assert all(f.success for f in fits)
    c = np.array([f.crossing for f in fits])
    se = np.array([f.crossing_se for f in fits])
    assert np.all(np.abs(c - crossing) <= 4 * se)
    assert 0.7 < np.std(c) / np.mean(se) < 1.4
    assert abs(np.mean([f.slope for f in fits]) - slope) < 0.05
    # The bootstrap interval holds the crossing estimate and is about 4 standard errors wide.
    f = logistic_fit(x, _draw(rng, x, -slope * crossing, slope), bootstrap=100, rng=1)
    lo, hi = f.interval
    assert lo < f.crossing < hi and 2 < (hi - lo) / f.crossing_se < 6


def test_logistic_fit_special_cases():
    sep = logistic_fit([1, 1, 2, 2, 4, 4], [0, 0, 0, 0, 1, 1], bootstrap=0)
    assert not sep.success and sep.crossing == 3.0 and sep.crossing_se == 1.0 and np.isinf(sep.slope)
    down = logistic_fit([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 0, 0], bootstrap=0)  # a falling curve
    assert down.success and down.slope < 0 and 2 < down.crossing < 5
    const = logistic_fit([1, 2, 3], [1, 1, 1], bootstrap=0)
    assert not const.success and np.isnan(const.crossing) and "every outcome is 1" in const.message


def test_random_label_curves():
    res = random_label_curves(4, 12, [1, 12], 600, rng=3, record_every=100)
    assert res.success and res.root_loss.shape == (2, 7)
    assert_array_equal(res.steps, np.arange(0, 601, 100))
    # Wide network (k d = 48 >> n = 12) ends far lower than a single unit.
    assert res.relative_root_loss[1, -1] < 0.5 * res.relative_root_loss[0, -1]
    again = random_label_curves(4, 12, [12], 600, rng=3, record_every=100)
    assert_allclose(again.root_loss[0], res.root_loss[1], rtol=1e-12)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"activation": "relu"}, ValueError, "activation must be one of"),
    ({"activation": 3}, TypeError, "activation must be a string"),
    ({"d": 0}, ValueError, "d must be >= 1"),
    ({"n": []}, ValueError, "n must not be empty"),
    ({"k": [2, 2]}, ValueError, "k must not repeat"),
    ({"k": "3"}, TypeError, "k must be an integer or a 1-D sequence"),
    ({"instances": 1.5}, TypeError, "instances must be an integer"),
    ({"starts": 0}, ValueError, "starts must be >= 1"),
    ({"max_steps": 0}, ValueError, "max_steps must be >= 1"),
    ({"rng": -1}, ValueError, "rng"),
    ({"beta": 2.0, "activation": "quadratic"}, ValueError, "beta is a parameter of"),
    ({"executor": "threads"}, ValueError, "executor"),
    ({"checkpoint": 3}, TypeError, "checkpoint must be None or a directory"),
    ({"progress": 1}, TypeError, "progress"),
])
def test_probability_checks_arguments(kwargs, error, match):
    args = {"activation": "softplus", "d": 3, "n": 10, "k": 1, "instances": 1, "starts": 1} | kwargs
    with pytest.raises(error, match=match):
        global_convergence_probability(**args)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    (([1, 2], [0, 1, 1]), {}, ValueError, "x and outcomes must have the same size"),
    (([1], [0]), {}, ValueError, "x must have at least 2 entries"),
    (([1, np.nan], [0, 1]), {}, ValueError, "x contains NaN"),
    (([1, 2], [0, 2]), {}, ValueError, "outcomes must be 0 or 1"),
    (([1, 2], [0, 1]), {"bootstrap": -1}, ValueError, "bootstrap must be >= 0"),
    (([1, 2], [0, 1]), {"bootstrap": True}, TypeError, "bootstrap must be an integer"),
    (([1, 2], [0, 1]), {"rng": "a"}, TypeError, "rng must be"),
    ((["a", "b"], [0, 1]), {}, TypeError, "x must be a numeric array"),
])
def test_logistic_fit_checks_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        logistic_fit(*args, **kwargs)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"k_values": []}, ValueError, "k_values must not be empty"),
    ({"steps": 0}, ValueError, "steps must be >= 1"),
    ({"record_every": 2.0}, TypeError, "record_every must be an integer"),
    ({"n": -3}, ValueError, "n must be >= 1"),
])
def test_random_label_curves_checks_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        random_label_curves(**({"d": 3, "n": 6, "k_values": [1], "steps": 10} | kwargs))
