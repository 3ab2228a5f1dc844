"""A slice of book/data/threshold_scaling.npz regenerates (make_threshold_scaling.py).

(The stored arrays are checked against each other and against recovery_thresholds.npz in
tests/test_threshold_scaling.py.)

Thresholds are integers and are compared exactly. Each is fixed by two verdicts
(recovered at n, not at n - 1), and a verdict is fixed by the computation when its
verified margin is above its own round-off bound (``round_off``, ten times a bound on
how far the data's and the solver's round-off can move it): checked here for the
regenerated instances, so another processor's round-off cannot move these integers.
The statistical dimension is a Monte Carlo mean over a fixed sample (fixed seed): it
is compared at rtol 1e-9, far above the round-off of the eigenvalue solver (about
1e-13 relative) and far below its standard error (about 3e-3 relative).
"""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb
from qnb import certify_phaselift, certify_uniqueness

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "book", "data", "threshold_scaling.npz")


@pytest.fixture(scope="module")
def stored():
    if not os.path.exists(DATA):
        pytest.fail(f"{DATA} is missing; regenerate it with .venv/bin/python book/data/make_threshold_scaling.py")
    with np.load(DATA) as f:
        return {key: f[key] for key in f.files}


def _row(stored, method, d, m_star):
    (i,) = np.flatnonzero((stored["method"] == method) & (stored["d"] == d) & (stored["m_star"] == m_star))
    return i


@pytest.mark.slow
@pytest.mark.parametrize("d, m_star, trials", [(64, 1, 2), (32, 3, 2)])
def test_thresholds_regenerate(stored, d, m_star, trials):
    for method, solve, verdict in (("uniqueness", lambda X, A: certify_uniqueness(X, A, margin=False), "unique"),
                                   ("phaselift", certify_phaselift, "recovered")):
        i = _row(stored, method, d, m_star)
        seed = int(stored["seed"][i])
        res = qnb.recovery_threshold(d, m_star, trials, method=method, rng=seed, executor="serial")
        assert_array_equal(res.n_threshold, stored["n_threshold"][i, :trials])
        for trial, n in enumerate(res.n_threshold):
            A_star, X, _, _ = qnb.draw_instance(d, m_star, n, qnb.instance_rng(seed, trial))
            above, below = solve(X, A_star), solve(X[:n - 1], A_star)
            assert above.success and above[verdict] and above.certificate > above.round_off
            assert below.success and not below[verdict] and below.witness is not None


def test_theory_regenerates(stored):
    j = np.flatnonzero((stored["theory_d"] == 16) & (stored["theory_m_star"] == 1))[0]
    seed = int(stored["seed"][_row(stored, "uniqueness", 16, 1)])
    res = qnb.statistical_dimension(16, 1, samples=int(stored["delta_samples"]), rng=seed)
    assert_allclose(res.delta, stored["delta"][j], rtol=1e-9)
    assert_allclose(res.stderr, stored["delta_stderr"][j], rtol=1e-6)
