"""Losses and gradients against finite differences and the Gaussian moment identity."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb


def random_symmetric(d, rng):
    M = rng.standard_normal((d, d))
    return (M + M.T) / 2


@pytest.fixture
def instance():
    rng = np.random.default_rng(11)
    d, n = 5, 17
    A_star = qnb.gram(qnb.gaussian_teacher(d, 2, rng=rng))
    X = qnb.sample_inputs(n, d, rng=rng)
    A = qnb.gram(rng.standard_normal((7, d)))
    return A, A_star, X, qnb.labels(X, A_star), rng


def test_empirical_loss_matches_definition(instance):
    A, A_star, X, y, _ = instance
    expected = np.mean([(x @ (A - A_star) @ x) ** 2 for x in X]) / 2
    assert_allclose(qnb.empirical_loss(A, X, y), expected, rtol=1e-12)
    assert qnb.empirical_loss(A_star, X, y) == pytest.approx(0.0, abs=1e-20)


def test_empirical_loss_is_twice_the_weight_loss(instance):
    """E_n(A) = 2 L_n(w), with L_n of eq. (2) written in the weights."""
    _, A_star, X, y, rng = instance
    W = rng.standard_normal((6, X.shape[1]))
    L_n = 0.25 * np.mean((y - np.mean((X @ W.T) ** 2, axis=1)) ** 2)
    assert_allclose(qnb.empirical_loss(qnb.gram(W), X, y), 2 * L_n, rtol=1e-12)


@pytest.mark.parametrize("which", ["empirical", "population"])
def test_gradient_matches_central_differences(instance, which):
    A, A_star, X, y, rng = instance
    if which == "empirical":
        loss, grad = (lambda B: qnb.empirical_loss(B, X, y)), qnb.empirical_gradient(A, X, y)
    else:
        loss, grad = (lambda B: qnb.population_loss(B, A_star)), qnb.population_gradient(A, A_star)
    for _ in range(5):
        H = random_symmetric(A.shape[0], rng)
        eps = 1e-4
        # Both losses are quadratic, so the central difference is exact up to round-off.
        fd = (loss(A + eps * H) - loss(A - eps * H)) / (2 * eps)
        assert_allclose(fd, np.sum(grad * H), rtol=1e-8)


def isserlis_second_moment(M):
    """E[(x^T M x)^2] for x ~ N(0, I), by summing Isserlis' pairings term by term."""
    d = M.shape[0]
    total = 0.0
    for i, j, k, l in itertools.product(range(d), repeat=4):
        pairings = (i == j) * (k == l) + (i == k) * (j == l) + (i == l) * (j == k)
        total += M[i, j] * M[k, l] * pairings
    return total


def test_population_loss_is_the_gaussian_average_exactly(instance):
    A, A_star, _, _, _ = instance
    # E[E_n] = E[(x^T (A - A*) x)^2] / 2 for one Gaussian sample.
    assert_allclose(qnb.population_loss(A, A_star),
                    isserlis_second_moment(A - A_star) / 2, rtol=1e-12)


def test_population_loss_is_the_monte_carlo_limit(instance):
    A, A_star, _, _, rng = instance
    n = 400_000
    X = qnb.sample_inputs(n, A.shape[0], rng=rng)
    samples = np.sum((X @ (A - A_star)) * X, axis=1) ** 2 / 2
    standard_error = samples.std() / np.sqrt(n)
    assert abs(samples.mean() - qnb.population_loss(A, A_star)) < 5 * standard_error


def test_population_gradient_closed_form():
    A_star = np.diag([2.0, 0.0, 0.0])
    G = qnb.population_gradient(np.eye(3), A_star)
    # 2 (I - A*) + tr(I - A*) I = diag(-2, 2, 2) + 1 * I
    assert_allclose(G, np.diag([-1.0, 3.0, 3.0]))


def test_bad_arguments_name_the_argument(instance):
    A, A_star, X, y, _ = instance
    with pytest.raises(ValueError, match="A must be symmetric"):
        qnb.empirical_loss(A + np.triu(np.ones_like(A)), X, y)
    with pytest.raises(ValueError, match="y must have one label per row"):
        qnb.empirical_loss(A, X, y[:-1])
    with pytest.raises(ValueError, match=r"A must have shape \(5, 5\)"):
        qnb.empirical_gradient(np.eye(4), X, y)
    with pytest.raises(ValueError, match="X contains NaN"):
        qnb.empirical_loss(A, np.where(X > 1, np.nan, X), y)
    with pytest.raises(TypeError, match="X must be a numeric array"):
        qnb.empirical_loss(A, "not data", y)
    with pytest.raises(ValueError, match="A_star must be square"):
        qnb.population_loss(A, np.ones((5, 4)))
    with pytest.raises(ValueError, match="A must have shape"):
        qnb.population_gradient(np.eye(3), A_star)


# --- the loss objects -------------------------------------------------------------

def loss_objects(instance):
    A, A_star, X, y, rng = instance
    return {"empirical": qnb.EmpiricalLoss(X, y), "population": qnb.PopulationLoss(A_star)}


def test_loss_objects_are_what_the_functions_return(instance):
    A, A_star, X, y, _ = instance
    losses = loss_objects(instance)
    assert losses["empirical"].value(A) == qnb.empirical_loss(A, X, y)
    assert_allclose(losses["empirical"].gradient(A), qnb.empirical_gradient(A, X, y), rtol=0, atol=0)
    assert losses["population"].value(A) == qnb.population_loss(A, A_star)
    assert_allclose(losses["population"].gradient(A), qnb.population_gradient(A, A_star), rtol=0, atol=0)
    assert isinstance(losses["empirical"].value(A), float)
    assert (losses["empirical"].n, losses["empirical"].d, losses["population"].d) == (17, 5, 5)


@pytest.mark.parametrize("which", ["empirical", "population"])
def test_loss_objects_against_finite_differences(instance, which):
    """Both losses are quadratic: central differences of the value and of the gradient are exact
    up to round-off, and the second-order expansion is an identity."""
    A, _, _, _, rng = instance
    loss = loss_objects(instance)[which]
    eps = 1e-4
    for _ in range(5):
        H = random_symmetric(A.shape[0], rng)
        fd_value = (loss.value(A + eps * H) - loss.value(A - eps * H)) / (2 * eps)
        assert_allclose(fd_value, np.sum(loss.gradient(A) * H), rtol=1e-8)
        fd_gradient = (loss.gradient(A + eps * H) - loss.gradient(A - eps * H)) / (2 * eps)
        dG = loss.hessian_action(H)
        assert_allclose(fd_gradient, dG, rtol=1e-7, atol=1e-7 * np.abs(dG).max())
        expansion = loss.value(A) + np.sum(loss.gradient(A) * H) + 0.5 * np.sum(H * dG)
        assert_allclose(loss.value(A + H), expansion, rtol=1e-10)


@pytest.mark.parametrize("which", ["empirical", "population"])
def test_loss_objects_answer_for_each_matrix_of_a_stack(instance, which):
    A, _, _, _, rng = instance
    loss = loss_objects(instance)[which]
    d = A.shape[0]
    stack = np.array([[qnb.gram(rng.standard_normal((3, d))) for _ in range(3)] for _ in range(2)])
    values, gradients, actions = loss.value(stack), loss.gradient(stack), loss.hessian_action(stack)
    assert values.shape == (2, 3) and gradients.shape == actions.shape == (2, 3, d, d)
    for i, j in np.ndindex(2, 3):
        assert_allclose(values[i, j], loss.value(stack[i, j]), rtol=1e-14)
        assert_allclose(gradients[i, j], loss.gradient(stack[i, j]), rtol=1e-14, atol=1e-14)
        assert_allclose(actions[i, j], loss.hessian_action(stack[i, j]), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("which", ["empirical", "population"])
def test_hessian_norm_is_the_largest_eigenvalue_of_the_hessian(instance, which):
    A, _, _, _, _ = instance
    loss = loss_objects(instance)[which]
    d = A.shape[0]
    # An orthonormal basis of the symmetric matrices (Frobenius product): E_aa, (E_ab + E_ba)/sqrt(2).
    basis = []
    for a, b in zip(*np.triu_indices(d)):
        E = np.zeros((d, d))
        E[a, b] = E[b, a] = 1.0 if a == b else 1 / np.sqrt(2)
        basis.append(E)
    basis = np.array(basis)
    hessian = np.einsum("pij,qij->pq", basis, loss.hessian_action(basis))
    assert_allclose(hessian, hessian.T, atol=1e-12 * np.abs(hessian).max())
    assert_allclose(loss.hessian_norm(), np.linalg.eigvalsh(hessian)[-1], rtol=1e-12)


def test_population_loss_object_closed_forms():
    loss = qnb.PopulationLoss(np.zeros((3, 3)))
    assert loss.value(np.eye(3)) == 7.5
    assert_allclose(loss.hessian_action(np.eye(3)), 5 * np.eye(3))  # 2 I + tr(I) I
    assert loss.hessian_norm() == 5.0


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda X, y, A_star: qnb.EmpiricalLoss(X, y[:-1]), ValueError, "y must have one label per row"),
        (lambda X, y, A_star: qnb.EmpiricalLoss("data", y), TypeError, "X must be a numeric array"),
        (lambda X, y, A_star: qnb.EmpiricalLoss(X[:, :, None], y), ValueError, "X must be 2-dimensional"),
        (lambda X, y, A_star: qnb.PopulationLoss(np.ones((5, 4))), ValueError, "A_star must be square"),
        (lambda X, y, A_star: qnb.PopulationLoss(np.triu(np.ones((3, 3)))), ValueError,
         "A_star must be symmetric"),
        (lambda X, y, A_star: qnb.EmpiricalLoss(X, y).value(np.eye(4)), ValueError,
         r"A must have shape \(5, 5\) or \(\.\.\., 5, 5\)"),
        (lambda X, y, A_star: qnb.EmpiricalLoss(X, y).gradient("A"), TypeError, "A must be a numeric array"),
        (lambda X, y, A_star: qnb.EmpiricalLoss(X, y).hessian_action(np.ones(5)), ValueError, "H must have shape"),
        (lambda X, y, A_star: qnb.PopulationLoss(A_star).gradient(np.ones((2, 4, 4))), ValueError,
         "A must have shape"),
        (lambda X, y, A_star: qnb.PopulationLoss(A_star).hessian_action([[1.0]]), ValueError, "H must have shape"),
    ],
)
def test_loss_objects_check_their_arguments(instance, call, error, message):
    _, A_star, X, y, _ = instance
    with pytest.raises(error, match=message):
        call(X, y, A_star)
