"""Branches of perfect global minima (qnb.perfect_minima).

The enumeration against counts done by hand and against the definition (every point of
every branch reproduces the target); the function rank against the numerical rank of the
Jacobian; the Hessian report and the separation test against the two-neuron example of
seed 004, where the thresholds are derived in the chapter (n = 3 for every branch, Morse-Bott
only on the unmerged ones); the test's refusal to call a sphere that meets another branch a
verdict.
"""

import numpy as np
import pytest

import qnb
from qnb.perfect_minima import (
    HESSIAN_RANK_RTOL,
    PERFECT_RTOL,
    SPHERE_ZERO_RTOL,
    STATUS_NOT_PERFECT,
    Branch,
    branch_hessian,
    branch_profile,
    function_error,
    perfect_branches,
    separation_test,
    teacher_student_loss,
)

GOLDEN = (1 + 5 ** 0.5) / 2
X = 2 * np.mod(0.5 + GOLDEN * np.arange(1, 13), 1.0) - 1      # the chapter's nested inputs
A, W = 1.0, 0.5
Q1_POINT = np.array([W, W - 1.5, A, 0.0])
Q3_POINT = np.array([W, W, 0.7, 0.3])


@pytest.fixture(scope="module")
def two():
    return perfect_branches(2, [A], [W])


# -- the enumeration -----------------------------------------------------------------------------


@pytest.mark.parametrize("m, k, count", [(1, 1, 1), (2, 1, 3), (3, 1, 10), (2, 2, 2), (3, 2, 12)])
def test_branch_counts(m, k, count):
    # Labelled partitions with every target unit on exactly one block. Counted by hand:
    # m = 3, k = 1: 1 (all merged) + 3 * 2 (a pair and a single, either matched) + 3 (one of
    # three singles); m = 3, k = 2: 3 * 2 (pair + single, both matched) + 3 * 2 (three
    # singles, two of them matched, in order).
    a_star = [1.0, -2.0][:k]
    w_star = [0.5, -0.7][:k]
    assert len(perfect_branches(m, a_star, w_star)) == count


@pytest.mark.parametrize("m, k, d", [(2, 1, 1), (3, 1, 1), (3, 2, 1), (2, 1, 2), (3, 2, 2)])
def test_every_point_of_every_branch_is_perfect(m, k, d):
    rng = np.random.default_rng(m + 10 * k + 100 * d)
    a_star = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 1.5, k)
    w_star = rng.standard_normal((k, d))
    x = rng.uniform(-1, 1, (40, d))
    for b in perfect_branches(m, a_star, w_star):
        loss = teacher_student_loss(x, a_star, w_star, m)
        for _ in range(3):
            theta = b.random_point(rng)
            assert loss.value(theta) < 1e-28 * loss.zero_network_loss()
            assert function_error(loss, b, theta, x) < 1e-13


@pytest.mark.parametrize("m, k, d", [(3, 1, 1), (3, 2, 2), (4, 1, 1)])
def test_dimension_and_bases(m, k, d):
    rng = np.random.default_rng(1)
    a_star, w_star = rng.uniform(0.5, 1.5, k), rng.standard_normal((k, d))
    for b in perfect_branches(m, a_star, w_star):
        null = sum(1 for lab in b.labels if lab is None)
        assert b.dimension == (m - len(b.blocks)) + d * null
        assert b.dimension + b.codimension == b.size == m * (d + 1)
        basis = np.hstack([b.directions, b.normal])
        np.testing.assert_allclose(basis.T @ basis, np.eye(b.size), atol=1e-12)
        theta = b.random_point(rng)
        off = theta + b.normal @ rng.standard_normal(b.codimension)
        assert b.distance(theta) < 1e-12
        np.testing.assert_allclose(b.project(off), theta, atol=1e-12)
        assert b.deficient_number == sum(1 for blk, lab in zip(b.blocks, b.labels)
                                         if lab is not None and len(blk) > 1)


@pytest.mark.parametrize("m, k, d", [(2, 1, 1), (3, 1, 1), (2, 1, 2), (3, 2, 2)])
def test_function_rank_is_the_rank_of_the_jacobian_with_many_samples(m, k, d):
    # Away from the intersections (distinct blocks at distinct weights; a generic point) the
    # derivatives of f span exactly function_rank functions.
    rng = np.random.default_rng(7)
    a_star, w_star = rng.uniform(0.5, 1.5, k), rng.standard_normal((k, d))
    x = rng.uniform(-1, 1, (30, d))
    loss = teacher_student_loss(x, a_star, w_star, m)
    for b in perfect_branches(m, a_star, w_star):
        s = np.linalg.svd(loss.jacobian(b.random_point(rng, scale=1.5)), compute_uv=False)
        assert int(np.sum(s > 1e-10 * s[0])) == b.function_rank, b   # round-off zeros: 1e-16


def test_the_two_neuron_example(two):
    q1, q2, q3 = two
    assert [b.name for b in two] == ["{1}->w*1 | {2}->0", "{1}->0 | {2}->w*1", "{1,2}->w*1"]
    assert [b.dimension for b in two] == [1, 1, 1]
    assert [b.function_rank for b in two] == [3, 3, 2]
    assert [b.deficient_number for b in two] == [0, 0, 1]
    assert [b.morse_bott_threshold for b in two] == [3, 3, None]
    # Q1's closure contains the point of Q3 with a1 = a*.
    assert q1.distance([W, W, A, 0.0]) < 1e-14 and q3.distance([W, W, A, 0.0]) < 1e-14
    assert q2.distance(Q1_POINT) > 0.5


# -- the Hessian and the separation test ---------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 7))
def test_branch_hessian_on_the_two_neuron_example(two, n):
    loss = teacher_student_loss(X[:n], [A], [W], 2)
    for b, theta in ((two[0], Q1_POINT), (two[2], Q3_POINT)):
        h = branch_hessian(loss, b, theta)
        assert h.rank == h.normal_rank == min(n, b.function_rank)
        assert h.morse_bott == (b is two[0] and n >= 3)
        assert h.tangent_leak < 1e-14
        # Both margins of the rank cut, as the module's tolerance promises.
        assert h.largest_zero < 1e-3 * HESSIAN_RANK_RTOL and h.smallest_nonzero > 1e3 * HESSIAN_RANK_RTOL


@pytest.mark.parametrize("n, separated", [(1, False), (2, False), (3, True), (5, True)])
def test_separation_test_on_the_two_neuron_example(two, n, separated):
    loss = teacher_student_loss(X[:n], [A], [W], 2)
    for b, theta in ((two[0], Q1_POINT), (two[2], Q3_POINT)):
        res = separation_test(loss, b, theta, 0.1)
        assert res.success and res.separated == separated, res.message
        assert res.zero_loss == (not separated)
        assert abs(np.linalg.norm(b.normal.T @ (res.theta_min - theta)) - 0.1) < 1e-12
        if separated:
            assert res.relative_min_loss > 1e4 * SPHERE_ZERO_RTOL
        else:
            assert res.relative_min_loss < 1e-4 * SPHERE_ZERO_RTOL
            assert res.function_error > 1e2 * PERFECT_RTOL       # imperfect, clearly


def test_separated_branch_grows_quadratically_or_quartically(two):
    loss = teacher_student_loss(X[:4], [A], [W], 2)
    for b, theta, p in ((two[0], Q1_POINT, 1), (two[2], Q3_POINT, 2)):
        big, small = (separation_test(loss, b, theta, r).min_loss for r in (0.1, 0.05))
        assert abs(np.log2(big / small) / 2 - p) < 0.1


def test_a_sphere_meeting_another_branch_is_no_verdict(two):
    # Around the intersection of Q3 with Q1's closure, Q3's normal sphere holds perfect points
    # of Q1: the zero found there says nothing about imperfect minima.
    loss = teacher_student_loss(X[:6], [A], [W], 2)
    res = separation_test(loss, two[2], [W, W, A, 0.0], 0.1)
    assert not res.success and res.status == STATUS_NOT_PERFECT and res.perfect
    assert "meets another branch" in res.message


def test_branch_profile_thresholds(two):
    p1 = branch_profile(X, two[0], range(1, 7), theta=Q1_POINT)
    p3 = branch_profile(X, two[2], range(1, 7), theta=Q3_POINT)
    assert (p1.separation_threshold, p1.morse_bott_threshold) == (3, 3)
    assert (p3.separation_threshold, p3.morse_bott_threshold) == (3, None)
    np.testing.assert_array_equal(p3.rank, [1, 2, 2, 2, 2, 2])
    assert np.isnan(p3.smallest_normal).sum() == 0     # rank > 0 at every n


def test_three_merged_units_of_one_sign_separate_one_sample_early():
    # The chapter's finding: positive output weights make mu_2 = 0 force u = 0 at n = 3 < 4.
    merged = [b for b in perfect_branches(3, [A], [W]) if b.kind == ((3,), ())][0]
    same = branch_profile(X, merged, range(1, 6), theta=[W, W, W, 0.5, 0.3, 0.2])
    mixed = branch_profile(X, merged, range(1, 6), theta=[W, W, W, 0.8, 0.6, -0.4])
    assert merged.separation_threshold == 4
    assert same.separation_threshold == 3 and mixed.separation_threshold == 4


def test_branch_validation():
    with pytest.raises(ValueError, match="partition range"):
        Branch([[0], [2]], [0, None], [1.0], [0.5])
    with pytest.raises(ValueError, match="exactly once"):
        Branch([[0], [1]], [None, None], [1.0], [0.5])
    with pytest.raises(ValueError, match="distinct rows"):
        perfect_branches(2, [1.0, 1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="length dimension"):
        perfect_branches(2, [1.0], [0.5])[0].point([0.0, 1.0])
