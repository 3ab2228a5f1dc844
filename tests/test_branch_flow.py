"""Gradient flow near branches of perfect minima (qnb.branch_flow).

The exponent fit against exact power laws and its statuses; the flow stopped at round-off
against the plain flow before it stops; the soft-direction law against the closed form of
the chapter (eq. zzl-quartic) and against a flow, and its refusals where there is no single
soft direction or no quartic growth; the approach direction of a flow into the merged branch.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
from qnb.branch_flow import (
    ROUND_OFF_RTOL,
    STATUS_FITTED,
    STATUS_NOT_ONE_SOFT,
    STATUS_NOT_POWER_LAW,
    STATUS_SHORT_WINDOW,
    algebraic_decay_exponent,
    approach_direction,
    flow_to_limit,
    soft_direction_law,
)

GOLDEN = (1 + 5 ** 0.5) / 2
X = 2 * np.mod(0.5 + GOLDEN * np.arange(1, 10), 1.0) - 1
A, W = 1.0, 0.5
Q1_POINT = np.array([W, W - 1.5, A, 0.0])
TIMES = np.r_[0.0, np.logspace(-2, 11, 131)]


@pytest.fixture(scope="module")
def branches():
    return qnb.perfect_branches(2, [A], [W])


def loss_for(n):
    return qnb.teacher_student_loss(X[:n], [A], [W], 2)


def closed_form_quartic(n, a1, a2):
    """K of the chapter's eq. (zzl-quartic), from a weighted least-squares residual."""
    x = X[:n]
    wgt = np.exp(W * x)
    basis = np.stack([wgt, x * wgt], axis=1)
    target = x ** 2 * wgt
    coef, *_ = np.linalg.lstsq(basis, target, rcond=None)
    c_n = np.sum((target - basis @ coef) ** 2) / n
    return (a1 * a2 * A) ** 2 * c_n / (8 * (a1 ** 2 + a2 ** 2) ** 2)


# -- algebraic_decay_exponent --------------------------------------------------------------------


@pytest.mark.parametrize("p, C", [(2.0, 0.25), (0.5, 3.0), (3.0, 1e-4)])
def test_exponent_of_an_exact_power_law(p, C):
    t = np.logspace(-1, 7, 81)
    res = algebraic_decay_exponent(t, C * t ** -p, 1.0, 1e6)
    assert res.success and res.status == STATUS_FITTED
    assert_allclose([res.exponent, res.constant], [p, C], rtol=1e-10)
    assert_allclose(res.local_exponents, p, rtol=1e-10)
    assert abs(res.decades - 6) < 1e-9


def test_exponent_statuses():
    t = np.logspace(0, 6, 61)
    short = algebraic_decay_exponent(t, t ** -2.0, 10.0, 1e3)
    assert not short.success and short.status == STATUS_SHORT_WINDOW
    curved = algebraic_decay_exponent(t, np.exp(-t / 1e3), 1.0, 1e5)
    assert not curved.success and curved.status == STATUS_NOT_POWER_LAW
    # A correction (1 + t^-1/2) at the start of the window still reads as a power law.
    mild = algebraic_decay_exponent(t, t ** -2.0 * (1 + 0.01 * t ** -0.5), 1e2, 1e6)
    assert mild.success and abs(mild.exponent - 2) < 1e-3


# -- flow_to_limit -------------------------------------------------------------------------------


def test_flow_stops_at_round_off_and_agrees_with_the_plain_flow_before(branches):
    loss = loss_for(4)
    start = Q1_POINT + 0.05 * np.array([1.0, -1.0, 0.5, 0.5])
    res = flow_to_limit(loss, start, TIMES)
    assert res.success and res.stopped_at is not None and "round-off" in res.message
    assert res.loss[-1] <= ROUND_OFF_RTOL * loss.zero_network_loss()
    after = TIMES > res.stopped_at
    assert after.any() and np.all(res.theta[after] == res.theta[-1])
    early = TIMES <= 1e2
    plain = qnb.network_flow(loss, start, TIMES[early], method="LSODA", rtol=1e-11, atol=1e-15)
    assert_allclose(res.theta[early], plain.theta, rtol=1e-8, atol=1e-10)
    assert branches[0].distance(res.theta[-1]) < 1e-12


def test_flow_into_the_merged_branch_is_not_stopped(branches):
    loss = loss_for(4)
    res = flow_to_limit(loss, [W + 0.03, W - 0.05, 0.7, 0.32], TIMES)
    assert res.success and res.stopped_at is None and res.message == "reached the final time"
    assert res.loss[-1] > 1e3 * ROUND_OFF_RTOL * loss.zero_network_loss()


def test_flow_to_limit_refuses_explicit_methods():
    with pytest.raises(ValueError, match="method must be one of"):
        flow_to_limit(loss_for(3), Q1_POINT, TIMES, method="RK45")


# -- soft_direction_law --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 4, 6])
@pytest.mark.parametrize("a1", [0.7, 0.2, 1.4])
def test_soft_law_matches_the_closed_form(branches, n, a1):
    theta = np.array([W, W, a1, A - a1])
    law = soft_direction_law(loss_for(n), branches[2], theta)
    assert law.success, law.message
    assert_allclose(law.quartic, closed_form_quartic(n, a1, A - a1), rtol=1e-4)
    e = np.array([A - a1, -a1, 0.0, 0.0])
    assert abs(abs(law.direction @ e) / np.linalg.norm(e) - 1) < 1e-10
    assert law.loss_constant == 1 / (64 * law.quartic) and law.exponent == 2.0


def test_soft_law_against_the_flow(branches):
    loss = loss_for(5)
    run = flow_to_limit(loss, [W + 0.07, W - 0.04, 0.66, 0.35], TIMES)
    limit = branches[2].project(run.theta[-1])
    law = soft_direction_law(loss, branches[2], limit)
    fit = algebraic_decay_exponent(run.t, run.loss, 1e7, 1e11)
    assert fit.success and abs(fit.exponent - 2) < 0.01
    assert abs(run.loss[-1] * run.t[-1] ** 2 * 64 * law.quartic - 1) < 2e-3
    # It arrives along the soft direction, with the bias |a1| / |a| towards Q1.
    late = approach_direction(branches[2], run.theta[[-20]], limit)
    assert abs(late.unit[0] @ law.direction) > 1 - 1e-6
    a1, a2 = limit[2:]
    assert abs(abs(late.unit[0] @ branches[0].directions[:, 0]) - abs(a1) / np.hypot(a1, a2)) < 1e-3


def test_soft_law_refuses_a_morse_bott_point(branches):
    res = soft_direction_law(loss_for(4), branches[0], Q1_POINT)
    assert not res.success and res.status == STATUS_NOT_ONE_SOFT and "misses 0" in res.message


def test_soft_law_refuses_an_unseparated_branch(branches):
    # n = 2: the stiff coordinates cancel the x^2 term exactly; no quartic growth, no law.
    res = soft_direction_law(loss_for(2), branches[2], [W, W, 0.7, 0.3])
    assert not res.success and res.status == STATUS_NOT_ONE_SOFT and "round-off" in res.message


def test_soft_law_refuses_two_soft_directions():
    merged = [b for b in qnb.perfect_branches(3, [A], [W]) if b.kind == ((3,), ())][0]
    loss = qnb.teacher_student_loss(X[:5], [A], [W], 3)
    res = soft_direction_law(loss, merged, [W, W, W, 0.5, 0.3, 0.2])
    assert not res.success and "misses 2" in res.message


# -- approach_direction --------------------------------------------------------------------------


def test_approach_direction_parts(branches):
    q3 = branches[2]
    limit = np.array([W, W, 0.7, 0.3])
    along = limit + np.outer([1.0, 0.5], q3.directions[:, 0])
    across = limit + np.outer([1.0, 0.5], q3.normal[:, 0])
    assert_allclose(approach_direction(q3, along, limit).tangential, 1.0)
    assert_allclose(approach_direction(q3, across, limit).tangential, 0.0, atol=1e-15)
    res = approach_direction(q3, along, limit)
    assert_allclose(res.distance, [1.0, 0.5])
    assert_allclose(np.linalg.norm(res.unit, axis=1), 1.0)
    with pytest.raises(ValueError, match="must not reach theta_limit"):
        approach_direction(q3, limit[None, :], limit)
