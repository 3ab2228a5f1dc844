"""Flows against closed-form solutions, against each other, and their status reports."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import qnb
from qnb.flows import STATUS_DIVERGED, STATUS_MAX_STEPS, STATUS_SUCCESS


# --- closed forms -------------------------------------------------------------

def diagonal_data_solution(A0, a_star, t):
    """Exact solution of flow (5) when the inputs are the basis vectors, x_k = e_k.

    Then grad E_n = diag(A_kk - a*_k) / n, the diagonal entries solve the
    logistic equations a' = -(2/n) a (a - a*), and the whole matrix is the
    congruence A(t) = D A0 D with D = diag(sqrt(a(t) / a(0))).
    """
    a0 = np.diag(A0)
    c = 2.0 / a0.size
    t = np.asarray(t)[:, None]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        logistic = a_star / (1 + (a_star / a0 - 1) * np.exp(-c * a_star * t))
    a = np.where(a_star > 0, logistic, a0 / (1 + c * a0 * t))
    D = np.sqrt(a / a0)
    return D[:, :, None] * A0[None] * D[:, None, :]


@pytest.fixture
def diagonal_problem():
    rng = np.random.default_rng(2)
    d = 5
    a_star = np.array([1.0, 0.5, 0.0, 0.0, 0.0])
    M = rng.standard_normal((d, d))
    A0 = M @ M.T / d + 0.1 * np.eye(d)
    return A0, np.eye(d), a_star.copy(), a_star


@pytest.mark.parametrize("method", ["LSODA", "BDF", "Radau"])
def test_empirical_flow_long_times_closed_form(diagonal_problem, method):
    A0, X, y, a_star = diagonal_problem
    t = np.array([0.0, 1.0, 10.0, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7])
    res = qnb.empirical_flow(A0, X, y, t, method=method)
    assert res.success and res.status == STATUS_SUCCESS == 0
    exact = diagonal_data_solution(A0, a_star, t)
    # Entries decaying like 1/t must still be right to 1e-6 relative at t = 1e7.
    assert np.max(np.abs(res.A - exact) / np.abs(exact)) < 1e-6


def test_gd_converges_to_the_flow_at_first_order(diagonal_problem):
    A0, X, y, a_star = diagonal_problem
    t = np.array([0.0, 2.0, 5.0])
    exact = diagonal_data_solution(A0, a_star, t)
    errors = []
    for step in (0.04, 0.02, 0.01):
        res = qnb.empirical_flow(A0, X, y, t, method="gd", step=step)
        assert res.success and res.nsteps == round(5.0 / step)
        errors.append(np.max(np.abs(res.A[-1] - exact[-1])))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert_allclose(ratios, 2.0, rtol=0.05)


def test_population_flow_logistic_closed_form():
    """A* = a I and A(0) = c I: every eigenvalue solves l' = (2d + 4)(a - l) l."""
    d, a, c = 4, 1.5, 0.2
    t = np.linspace(0, 2, 9)
    res = qnb.population_flow(c * np.eye(d), a * np.eye(d), t)
    k = (2 * d + 4) * a
    lam = a / (1 + (a / c - 1) * np.exp(-k * t))
    assert_allclose(res.A, lam[:, None, None] * np.eye(d), rtol=1e-7, atol=1e-12)
    # sqrt(E) is Lipschitz in A, so it inherits the accuracy of A near the target.
    exact_loss = d * (lam - a) ** 2 + 0.5 * (d * (lam - a)) ** 2
    assert_allclose(np.sqrt(res.loss), np.sqrt(exact_loss), rtol=1e-6, atol=1e-7)


def test_population_flow_zero_teacher_algebraic_decay():
    """A* = 0: l' = -(2d + 4) l^2, so l = c / (1 + (2d + 4) c t), to t = 1e6."""
    d, c = 3, 1.0
    t = np.array([0.0, 1.0, 1e2, 1e4, 1e6])
    res = qnb.population_flow(c * np.eye(d), np.zeros((d, d)), t)
    lam = c / (1 + (2 * d + 4) * c * t)
    assert_allclose(np.diagonal(res.A, axis1=1, axis2=2), np.repeat(lam[:, None], d, 1), rtol=1e-6)


# --- Lemmas 2.1 and 2.2: the weight flows close on A --------------------------

@pytest.mark.parametrize("d, m, m_star, n", [(4, 6, 1, 10), (5, 3, 2, 12), (3, 3, 4, 8)])
def test_weight_flow_induces_the_matrix_flow(d, m, m_star, n):
    rng = np.random.default_rng(d * 100 + m)
    A_star = qnb.gram(qnb.gaussian_teacher(d, m_star, rng=rng))
    X = qnb.sample_inputs(n, d, rng=rng)
    y = qnb.labels(X, A_star)
    W0 = rng.standard_normal((m, d))
    t = np.linspace(0, 3, 7)
    weights = qnb.weight_flow(W0, X, y, t, A_star=A_star)
    matrix = qnb.empirical_flow(qnb.gram(W0), X, y, t, A_star=A_star, rtol=1e-11)
    assert weights.success and matrix.success
    assert weights.W.shape == (t.size, m, d)
    assert_allclose(weights.A, matrix.A, rtol=1e-7, atol=1e-9)
    assert_allclose(weights.loss, matrix.loss, rtol=1e-6, atol=1e-12)
    assert_allclose(weights.population_loss, matrix.population_loss, rtol=1e-6, atol=1e-12)


def test_population_weight_flow_induces_the_population_matrix_flow():
    rng = np.random.default_rng(7)
    d, m = 4, 6
    A_star = qnb.gram(qnb.orthonormal_teacher(d, 2, rng=rng))
    W0 = rng.standard_normal((m, d))
    t = np.linspace(0, 2, 5)
    weights = qnb.population_weight_flow(W0, A_star, t)
    matrix = qnb.population_flow(qnb.gram(W0), A_star, t, rtol=1e-11)
    assert_allclose(weights.A, matrix.A, rtol=1e-7, atol=1e-9)
    assert_allclose(weights.loss, matrix.loss, rtol=1e-6)


def test_discrete_step_is_exactly_gradient_descent_on_the_weights():
    rng = np.random.default_rng(8)
    d, m, n = 4, 5, 9
    X = qnb.sample_inputs(n, d, rng=rng)
    y = qnb.labels(X, qnb.gram(qnb.gaussian_teacher(d, 1, rng=rng)))
    W0 = rng.standard_normal((m, d)) / 2
    t = np.array([0.0, 0.3, 1.0])
    weights = qnb.weight_flow(W0, X, y, t, method="gd", step=1e-3)
    matrix = qnb.empirical_flow(qnb.gram(W0), X, y, t, method="gd", step=1e-3)
    assert weights.nsteps == matrix.nsteps == 1000
    assert_allclose(weights.A, matrix.A, rtol=1e-10, atol=1e-13)


def test_gd_step_keeps_psd_and_rank():
    rng = np.random.default_rng(9)
    W = rng.standard_normal((2, 5))
    A = qnb.gram(W)
    G = rng.standard_normal((5, 5))
    G = G + G.T
    B = qnb.gd_step(A, G, 0.7)  # a large step: I - 0.7 G is indefinite
    assert np.linalg.eigvalsh(B)[0] > -1e-12
    assert np.linalg.matrix_rank(B, tol=1e-10) == 2
    assert_allclose(B, qnb.gram(W @ (np.eye(5) - 0.7 * G)), atol=1e-12)


@pytest.mark.parametrize("method", ["LSODA", "BDF", "gd"])
def test_rank_deficient_start_keeps_its_rank_along_the_flow(method):
    rng = np.random.default_rng(10)
    d, n = 4, 12
    X = qnb.sample_inputs(n, d, rng=rng)
    y = qnb.labels(X, qnb.gram(qnb.gaussian_teacher(d, 3, rng=rng)))
    A0 = qnb.gram(rng.standard_normal((2, d)))
    t = [0.0, 1.0, 10.0] + ([1e4] if method != "gd" else [])
    res = qnb.empirical_flow(A0, X, y, t, method=method, step=1e-3)
    assert res.success
    for A in res.A:
        lam = np.linalg.eigvalsh(A)
        assert lam[0] > -1e-12 and lam[1] < 1e-9 * lam[-1] and lam[2] > 1e-3
    # A rank-2 student cannot fit a rank-3 teacher on generic data: it stalls.
    assert res.loss[-1] > 1e-2


def test_rank_deficient_matrix_flow_matches_its_weights():
    rng = np.random.default_rng(12)
    d, m, n = 5, 2, 14
    X = qnb.sample_inputs(n, d, rng=rng)
    y = qnb.labels(X, qnb.gram(qnb.gaussian_teacher(d, 1, rng=rng)))
    W0 = rng.standard_normal((m, d))
    t = np.linspace(0.0, 5.0, 6)
    matrix = qnb.empirical_flow(qnb.gram(W0), X, y, t, rtol=1e-11)
    assert matrix.representation == "factor of rank 2"
    weights = qnb.weight_flow(W0, X, y, t)
    assert_allclose(matrix.A, weights.A, rtol=1e-7, atol=1e-9)


# --- status reports and argument checks -----------------------------------------

def test_divergent_gd_is_reported_not_raised(diagonal_problem):
    A0, X, y, _ = diagonal_problem
    res = qnb.empirical_flow(A0, X * 30, y, [0.0, 1.0, 20.0], method="gd", step=1.0)
    assert not res.success and res.status == STATUS_DIVERGED == 2
    assert "diverged" in res.message
    assert np.isnan(res.A[-1]).all() and np.isnan(res.loss[-1])


@pytest.mark.parametrize("method", ["LSODA", "BDF", "RK45", "gd"])
def test_single_output_at_time_zero_is_the_start(diagonal_problem, method):
    """t_eval = [0.0]: no step is taken and the start is returned (solve_ivp gave no output: AttributeError)."""
    A0, X, y, _ = diagonal_problem
    res = qnb.empirical_flow(A0, X, y, [0.0], method=method, step=0.1)
    assert res.success and res.status == STATUS_SUCCESS
    assert_allclose(res.A[0], A0, rtol=1e-14)


def test_gd_step_count_is_checked_before_stepping(diagonal_problem):
    """step = 1e-9 to t = 1 needs 1e9 steps: reported at once (it built a list of 1e9 steps: MemoryError)."""
    A0, X, y, _ = diagonal_problem
    res = qnb.empirical_flow(A0, X, y, [0.0, 1.0], method="gd", step=1e-9)
    assert not res.success and res.status == STATUS_MAX_STEPS and res.nsteps == 0
    assert "step=1e-09" in res.message and "max_steps=10000000" in res.message
    assert np.isfinite(res.A[0]).all() and np.isnan(res.A[1]).all()


def test_gd_loss_rise_is_divergence_before_overflow(diagonal_problem):
    """A step too large for descent: four steps take the loss from 38 to 2e62, still finite (counted a success)."""
    A0, X, y, _ = diagonal_problem
    res = qnb.empirical_flow(A0, X * 3, y, [0.0, 0.4], method="gd", step=0.1)
    assert not res.success and res.status == STATUS_DIVERGED and "the loss rose" in res.message
    stable = qnb.empirical_flow(A0, X * 3, y, [0.0, 0.4], method="gd", step=0.01)
    assert stable.success and stable.loss[1] < stable.loss[0]


def test_zero_starts_are_refused():
    """A = 0 and W = 0 are fixed points of (5) and (3): refused as arguments, not solved to all-NaN or to 0."""
    X = qnb.sample_inputs(6, 3, rng=0)
    y = qnb.labels(X, np.eye(3))
    for A0 in (np.zeros((3, 3)), 1e-320 * np.eye(3)):
        with pytest.raises(ValueError, match="A0 is zero"):
            qnb.empirical_flow(A0, X, y, [0.0, 1.0])
    with pytest.raises(ValueError, match="W0 is zero"):
        qnb.weight_flow(np.zeros((2, 3)), X, y, [0.0, 1.0])
    tiny = qnb.empirical_flow(1e-300 * np.eye(3), X, y, [0.0, 1.0])  # small, not zero: it runs
    assert tiny.success


def test_max_steps_is_reported(diagonal_problem):
    A0, X, y, _ = diagonal_problem
    res = qnb.empirical_flow(A0, X, y, [0.0, 1.0, 100.0], method="gd", step=0.01, max_steps=500)
    assert not res.success and res.status == STATUS_MAX_STEPS == 1
    assert "max_steps" in res.message
    assert np.isfinite(res.A[1]).all() and np.isnan(res.A[2]).all()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"A0": -np.eye(3)}, ValueError, "A0 must be positive semidefinite"),
        ({"A0": np.eye(2)}, ValueError, r"A0 must have shape \(3, 3\)"),
        ({"t_eval": [0.0, 2.0, 1.0]}, ValueError, "t_eval must be strictly increasing"),
        ({"t_eval": [-1.0, 1.0]}, ValueError, "t_eval must be non-negative"),
        ({"t_eval": [0.0, np.nan]}, ValueError, "t_eval contains NaN"),
        ({"method": "Euler"}, ValueError, "method must be one of"),
        ({"method": 3}, TypeError, "method must be a string"),
        ({"method": "gd"}, ValueError, "step is required"),
        ({"method": "gd", "step": -0.1}, ValueError, "step must be finite and > 0"),
        ({"rtol": 0.0}, ValueError, "rtol must be finite and > 0"),
        ({"atol": "small"}, TypeError, "atol must be a real number"),
        ({"A_star": np.ones((3, 3)) - 2 * np.eye(3)}, ValueError, "A_star must be positive semidefinite"),
    ],
)
def test_empirical_flow_rejects_bad_arguments(kwargs, error, message):
    X = qnb.sample_inputs(6, 3, rng=0)
    args = {"A0": np.eye(3), "X": X, "y": qnb.labels(X, np.eye(3)), "t_eval": [0.0, 1.0]}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        qnb.empirical_flow(**args)


def test_weight_flows_reject_bad_arguments():
    X = qnb.sample_inputs(6, 3, rng=0)
    y = qnb.labels(X, np.eye(3))
    with pytest.raises(ValueError, match="W0 must have d = 3 columns"):
        qnb.weight_flow(np.ones((4, 2)), X, y, [0.0, 1.0])
    with pytest.raises(ValueError, match="W0 must be 2-dimensional"):
        qnb.population_weight_flow(np.ones(3), np.eye(3), [0.0, 1.0])
    with pytest.raises(ValueError, match="A_star must be symmetric"):
        qnb.population_flow(np.eye(2), np.array([[1.0, 1.0], [0.0, 1.0]]), [1.0])
    with pytest.raises(ValueError, match="G must be symmetric"):
        qnb.gd_step(np.eye(2), np.array([[1.0, 1.0], [0.0, 1.0]]), 0.1)


@pytest.mark.parametrize("kind", ["empirical", "population"])
@pytest.mark.parametrize("state", ["matrix", "factor"])
def test_analytic_jacobians_match_finite_differences(kind, state):
    rng = np.random.default_rng(13)
    d, n, m = 4, 9, 3
    X = qnb.sample_inputs(n, d, rng=rng)
    A_star = qnb.gram(qnb.gaussian_teacher(d, 2, rng=rng))
    loss = qnb.EmpiricalLoss(X, qnb.labels(X, A_star)) if kind == "empirical" else qnb.PopulationLoss(A_star)
    W = rng.standard_normal((m, d))
    if state == "matrix":
        flow = qnb.MatrixFlow(loss)
        z = (qnb.gram(W) + np.eye(d))[np.triu_indices(d)]  # the state is vech(A), row by row
    else:
        flow = qnb.WeightFlow(loss, m)
        z = W.ravel()
    J = flow.jac(0.0, z)
    eps = 1e-6
    fd = np.array([(flow.rhs(0.0, z + eps * e) - flow.rhs(0.0, z - eps * e)) / (2 * eps)
                   for e in np.eye(z.size)]).T
    assert_allclose(J, fd, rtol=1e-6, atol=1e-6 * np.abs(J).max())


def test_matrix_flow_right_hand_side_is_eq_5():
    rng = np.random.default_rng(14)
    d = 3
    X = qnb.sample_inputs(7, d, rng=rng)
    y = qnb.labels(X, qnb.gram(qnb.gaussian_teacher(d, 1, rng=rng)))
    A = qnb.gram(rng.standard_normal((d, d)))
    G = qnb.empirical_gradient(A, X, y)
    rows, cols = np.triu_indices(d)
    flow = qnb.MatrixFlow(qnb.EmpiricalLoss(X, y))
    assert_allclose(flow.rhs(0.0, A[rows, cols]), -(A @ G + G @ A)[rows, cols], rtol=1e-13, atol=1e-14)



def test_vector_fields_check_their_arguments():
    with pytest.raises(TypeError, match="loss must be a loss object"):
        qnb.MatrixFlow(np.eye(3))
    with pytest.raises(TypeError, match="loss must be a loss object"):
        qnb.WeightFlow("E_n", 2)
    with pytest.raises(ValueError, match="m must be >= 1"):
        qnb.WeightFlow(qnb.PopulationLoss(np.eye(3)), 0)
