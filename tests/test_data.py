"""Teachers, inputs, labels and the rng helper."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb


@pytest.mark.parametrize("d, m_star", [(6, 1), (6, 3), (6, 6), (4, 9)])
def test_orthonormal_teacher_gives_a_projector(d, m_star):
    W_star = qnb.orthonormal_teacher(d, m_star, rng=3)
    assert W_star.shape == (m_star, d)
    A_star = qnb.gram(W_star)
    assert_allclose(A_star @ A_star, A_star, atol=1e-12)
    assert_allclose(np.trace(A_star), min(m_star, d), rtol=1e-12)
    if m_star <= d:
        # Distinct hidden units are orthogonal.
        G = W_star @ W_star.T
        assert_allclose(G - np.diag(np.diag(G)), 0.0, atol=1e-12)


@pytest.mark.parametrize("d, m_star", [(8, 1), (8, 3), (5, 12)])
def test_gaussian_teacher_rank_and_scale(d, m_star):
    A_star = qnb.gram(qnb.gaussian_teacher(d, m_star, rng=0))
    assert np.linalg.matrix_rank(A_star) == min(m_star, d)
    assert np.all(np.linalg.eigvalsh(A_star) > -1e-12)


def test_gaussian_teacher_trace_is_d_on_average():
    traces = [np.trace(qnb.gram(qnb.gaussian_teacher(10, 2, rng=s))) for s in range(400)]
    # tr A* = |W*|_F^2 / m* is chi-squared(m* d) / m*: mean d, sd sqrt(2 d / m*).
    assert abs(np.mean(traces) - 10) < 5 * np.sqrt(2 * 10 / 2) / np.sqrt(400)


def test_gram_of_weights():
    W = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    assert_allclose(qnb.gram(W), (np.outer(W[0], W[0]) + np.outer(W[1], W[1])) / 2)


def test_labels_are_student_outputs():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((4, 3))
    X = qnb.sample_inputs(7, 3, rng=rng)
    direct = np.mean((X @ W.T) ** 2, axis=1)
    assert_allclose(qnb.labels(X, qnb.gram(W)), direct, rtol=1e-12)


def test_fixed_seeds_are_reproducible():
    assert_array_equal(qnb.sample_inputs(5, 3, rng=42), qnb.sample_inputs(5, 3, rng=42))
    g = np.random.default_rng(1)
    assert qnb.as_rng(g) is g
    a, b = qnb.sample_inputs(2, 2, rng=g), qnb.sample_inputs(2, 2, rng=g)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: qnb.sample_inputs(0, 3), ValueError, "n must be >= 1"),
        (lambda: qnb.sample_inputs(2.5, 3), TypeError, "n must be an integer"),
        (lambda: qnb.gaussian_teacher(3, 0), ValueError, "m_star must be >= 1"),
        (lambda: qnb.orthonormal_teacher(True, 1), TypeError, "d must be an integer"),
        (lambda: qnb.as_rng("seed"), TypeError, "rng must be None"),
        (lambda: qnb.as_rng(-1), ValueError, "rng must be a non-negative seed"),
        (lambda: qnb.gram(np.ones(3)), ValueError, "W must be 2-dimensional"),
        (lambda: qnb.labels(np.ones((2, 3)), np.eye(2)), ValueError, r"A must have shape \(3, 3\)"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- instances ------------------------------------------------------------------

def test_teachers_table():
    assert qnb.TEACHERS == {"gaussian": qnb.gaussian_teacher, "orthonormal": qnb.orthonormal_teacher}


@pytest.mark.parametrize("teacher", ["gaussian", "orthonormal"])
def test_draw_instance_is_the_documented_stream(teacher):
    A_star, X, y, W0 = qnb.draw_instance(5, 2, 9, rng=4, teacher=teacher, width=3)
    rng = np.random.default_rng(4)
    assert_allclose(A_star, qnb.gram(qnb.TEACHERS[teacher](5, 2, rng)))
    assert_array_equal(X, rng.standard_normal((9, 5)))
    assert_array_equal(W0, rng.standard_normal((3, 5)))
    assert_allclose(y, qnb.labels(X, A_star))
    # Drawing no start leaves the data unchanged, and the generator where the start would begin.
    gen = np.random.default_rng(4)
    A_same, X_same, _, none = qnb.draw_instance(5, 2, 9, rng=gen, teacher=teacher)
    assert none is None and np.array_equal(X_same, X) and np.array_equal(A_same, A_star)
    assert_array_equal(gen.standard_normal((3, 5)), W0)


def test_nested_data_extend_each_other_and_match_the_rng():
    A_star, X, y, rng = qnb.nested_instance_data(3, 2, 4, 1)
    again, X2, _, _ = qnb.draw_instance(4, 1, 10, rng=qnb.instance_rng(3, 2))
    assert X.shape == (10, 4) and np.array_equal(X, X2) and np.array_equal(A_star, again)
    A_one, X_one, _, _ = qnb.instance_data(3, 10, 2, 4, 1)
    assert not np.array_equal(X_one, X)  # key (n, trial) against key (trial,)
    assert_array_equal(qnb.instance_rng(3, 2).standard_normal(3),
                       np.random.default_rng(np.random.SeedSequence(3).spawn(3)[2]).standard_normal(3))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"d": 0}, ValueError, "d must be >= 1"),
        ({"n": 2.5}, TypeError, "n must be an integer"),
        ({"teacher": "uniform"}, ValueError, "teacher must be one of"),
        ({"width": 0}, ValueError, "width must be >= 1"),
        ({"rng": -1}, ValueError, "rng must be a non-negative seed"),
    ],
)
def test_draw_instance_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        qnb.draw_instance(**({"d": 3, "m_star": 1, "n": 4} | kwargs))


def test_instance_rng_argument_errors():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        qnb.instance_rng(-1, 2)
    with pytest.raises(TypeError, match="key entry must be a non-negative integer"):
        qnb.instance_rng(1, 2.0)
