"""Tests of the string method: reparametrization, a path known in closed form, flat stretches."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb
from qnb.strings import (
    MESSAGES,
    STATUS_CONVERGED,
    STATUS_MAX_ITER,
    STATUS_NONFINITE,
    STATUS_STALLED,
    distance_to_path,
    flat_stretch,
    reparametrize,
    string_arclength,
    string_method,
)


def _random_psd(rng, d):
    W = rng.standard_normal((d, d))
    return W.T @ W / d


# --------------------------------------------------------------------------
# Reparametrization
# --------------------------------------------------------------------------

def test_reparametrize_straight_string_is_equally_spaced():
    rng = np.random.default_rng(0)
    A, B = _random_psd(rng, 3), _random_psd(rng, 3)
    lam = np.sort(np.concatenate(([0.0, 1.0], rng.uniform(size=8))))[:, None, None]
    images = (1 - lam) * A + lam * B
    new = reparametrize(images)
    steps = np.diff(string_arclength(new))
    assert_allclose(steps, steps.mean(), rtol=1e-12)
    assert_allclose(string_arclength(new)[-1], np.linalg.norm(B - A), rtol=1e-12)
    # Endpoints are kept bit for bit.
    assert_array_equal(new[0], A)
    assert_array_equal(new[-1], B)


def test_reparametrize_places_images_at_equal_arclength_on_the_old_polyline():
    rng = np.random.default_rng(1)
    images = np.cumsum(rng.uniform(0.1, 1.0, size=(7, 2, 2)), axis=0)
    images = images + np.swapaxes(images, 1, 2)
    new = reparametrize(images)
    # Every new image lies on the old polyline, at arclength k L / (N - 1) along it.
    assert_allclose(distance_to_path(new, images), 0.0, atol=1e-12)
    s_old = string_arclength(images)
    target = np.linspace(0, s_old[-1], len(images))
    for k, A in enumerate(new):
        j = min(np.searchsorted(s_old, target[k], side="right") - 1, len(images) - 2)
        along = s_old[j] + np.linalg.norm(A - images[j])
        assert_allclose(along, target[k], rtol=1e-12, atol=1e-12)
    assert_array_equal(new[[0, -1]], images[[0, -1]])


def test_reparametrize_keeps_psd_and_is_idempotent_on_an_equally_spaced_line():
    rng = np.random.default_rng(2)
    A, B = _random_psd(rng, 4), np.zeros((4, 4))
    line = np.linspace(0, 1, 6)[:, None, None] * (B - A) + A
    assert_allclose(reparametrize(line), line, atol=1e-14)
    curved = np.stack([_random_psd(rng, 4) for _ in range(9)])
    assert np.linalg.eigvalsh(reparametrize(curved)).min() >= -1e-14


def test_reparametrize_rejects_bad_input():
    with pytest.raises(ValueError, match="images"):
        reparametrize(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        reparametrize(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        reparametrize(np.full((3, 2, 2), np.nan))


# --------------------------------------------------------------------------
# A minimum energy path known in closed form
# --------------------------------------------------------------------------
# With the d unit vectors as inputs, E_n(A) = (1/2d) sum_j (A_jj - a*_j)^2 sees only the
# diagonal. Diagonal matrices stay diagonal under (5), whose diagonal entries then obey
# the logistic equations da_j/dt = -2 a_j (a_j - a*_j) / d.

def _logistic_path(a0, a_star, times):
    a0, a_star = np.asarray(a0)[None], np.asarray(a_star)[None]
    d = a0.shape[1]
    t = np.asarray(times)[:, None]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        pos = a_star * a0 / (a0 + (a_star - a0) * np.exp(-2 * a_star * t / d))
    zero = a0 / (1 + 2 * a0 * t / d)
    diag = np.where(a_star > 0, pos, zero)
    return np.stack([np.diag(v) for v in diag])


TIMES = np.concatenate(([0.0], np.logspace(-4, 9, 20000)))


def test_string_follows_the_closed_form_flow_line_to_a_diagonal_teacher():
    a0, a_star = np.array([3.0, 0.4, 1.5]), np.array([1.0, 2.0, 0.0])
    X = np.eye(3)
    res = string_method(np.diag(a0), np.diag(a_star), X, a_star.copy(), n_images=40, A_star=np.diag(a_star))
    assert res.success, res.message
    assert res.status == STATUS_CONVERGED == 0 and res.nit == len(res.history) and res.history[-1] <= res.tol
    assert res.message == MESSAGES[STATUS_CONVERGED]
    exact = _logistic_path(a0, a_star, TIMES)
    # The string is the flow line, up to the chords of the polyline: a few per cent of the
    # spacing where the line bends hardest (where the third entry creeps to 0), far less elsewhere.
    # The straight initial string is 2 spacings away.
    spacing = res.arclength[-1] / 39
    off = distance_to_path(res.images, exact)
    assert off.max() < 0.1 * spacing
    assert np.median(off) < 0.03 * spacing
    # ... and the flow line is the string: no piece of it is skipped.
    assert distance_to_path(exact[::200], res.images).max() < 0.15 * spacing
    straight = np.linspace(0, 1, 40)[:, None, None] * (np.diag(a_star) - np.diag(a0)) + np.diag(a0)
    assert distance_to_path(straight, exact).max() > 2 * spacing
    steps = np.diff(res.arclength)
    assert steps.max() / steps.min() < 1.05
    assert_array_equal(res.images[0], np.diag(a0))
    assert_array_equal(res.images[-1], np.diag(a_star))
    assert np.linalg.eigvalsh(res.images).min() >= -1e-12
    assert_allclose(res.population_loss, [qnb.population_loss(A, np.diag(a_star)) for A in res.images])
    # The teacher is the only PSD zero of this loss restricted to the path: no flat stretch.
    assert flat_stretch(res.train_loss, res.arclength).count == 1


def test_flat_stretch_appears_when_the_flow_stops_short_of_the_teacher():
    # Rank-one teacher with off-diagonal entries the diagonal inputs cannot see: the flow
    # from a diagonal start ends at diag(w^2) != A*, and the string crosses the zero-loss
    # set {A >= 0 : diag A = w^2} from there to A*.
    w = np.array([1.0, 0.8, 0.5])
    A_star = np.outer(w, w)
    a0 = np.array([2.5, 0.2, 1.2])
    X = np.eye(3)
    res = string_method(np.diag(a0), A_star, X, w**2, n_images=60, A_star=A_star)
    assert res.success, res.message
    flat = flat_stretch(res.train_loss, res.arclength)
    A_inf = np.diag(w**2)
    # Flat images are at zero training loss to 1e-8 of the string's maximum ...
    assert np.all(res.train_loss[flat.start:] <= 1e-8 * res.train_loss.max())
    # ... and they join the flow's limit to the teacher.
    spacing = res.arclength[-1] / 59
    chord = np.linalg.norm(A_star - A_inf)
    assert chord - spacing <= flat.length <= 1.05 * chord
    assert distance_to_path(A_inf[None], res.images[flat.start - 1:])[0] < spacing
    # Before it, the string is the closed-form flow line to diag(w^2).
    exact = _logistic_path(a0, w**2, TIMES)
    assert distance_to_path(res.images[: flat.start - 1], exact).max() < 0.1 * spacing
    # Along the (nearly straight) flat stretch the population loss falls from E(A_inf) to 0.
    E = res.population_loss[flat.start:]
    assert np.all(np.diff(E) < 0) and E[-1] == 0.0
    assert_allclose(E[0], qnb.population_loss(A_inf, A_star), rtol=0.1)


def test_string_on_a_teacher_student_instance_matches_the_gradient_flow():
    A_star, X, y, rng = qnb.instance_data(11, 8, 3, 4, 1)
    A0 = qnb.gram(rng.standard_normal((4, 4)))
    res = string_method(A0, A_star, X, y, n_images=50, A_star=A_star)
    assert res.success, res.message
    flow = qnb.empirical_flow(A0, X, y, np.concatenate(([0.0], np.logspace(-4, 10, 3000))))
    flat = flat_stretch(res.train_loss, res.arclength)
    A_inf = flow.A[-1]
    gap = np.linalg.norm(A_inf - A_star)
    unique = qnb.is_unique_minimizer(X, A_star).unique
    spacing = res.arclength[-1] / 49
    # The string's length at zero loss is the distance the flow stops short of the teacher.
    assert (gap > 2 * spacing) == (not unique)
    assert abs(flat.length - gap) < 2 * spacing
    # Its first part is the flow line.
    assert distance_to_path(res.images[: max(flat.start - 1, 2)], flow.A).max() < 0.02 * spacing * 10


# --------------------------------------------------------------------------
# The Jacobian of the batched dynamics
# --------------------------------------------------------------------------

@pytest.fixture
def string_images():
    """A teacher-student loss and a stack of images of every rank, as in a string near its end."""
    A_star, X, y, rng = qnb.instance_data(5, 9, 0, 4, 1)
    images = np.stack([qnb.gram(rng.standard_normal((k, 4))) for k in (1, 2, 3, 4, 7)] + [A_star])
    return qnb.EmpiricalLoss(X, y), images


def test_string_jacobian_is_the_matrix_flow_jacobian(string_images):
    loss, images = string_images
    J = qnb.StringDynamics(loss).jacobian(images)
    flow = qnb.MatrixFlow(loss)
    rows, cols = np.triu_indices(4)
    assert J.shape == (len(images), rows.size, rows.size)
    for i, A in enumerate(images):
        expected = flow.jac(0.0, A[rows, cols])
        assert_allclose(J[i], expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_string_jacobian_matches_finite_differences_of_the_force(string_images):
    loss, images = string_images
    dynamics = qnb.StringDynamics(loss)
    J = dynamics.jacobian(images)
    rows, cols = np.triu_indices(4)
    eps = 1e-5
    fd = np.empty_like(J)
    for b, (r, c) in enumerate(zip(rows, cols)):
        E = np.zeros((4, 4))
        E[r, c] = E[c, r] = 1.0  # the coordinate direction of vech entry b
        # F is quadratic in A, so the central difference is exact up to round-off.
        F_plus, _ = dynamics.force(images + eps * E)
        F_minus, _ = dynamics.force(images - eps * E)
        fd[:, :, b] = (F_plus - F_minus)[:, rows, cols] / (2 * eps)
    assert_allclose(J, fd, rtol=1e-7, atol=1e-7 * np.abs(J).max())


def test_string_dynamics_needs_the_empirical_loss():
    with pytest.raises(TypeError, match="loss must be an EmpiricalLoss"):
        qnb.StringDynamics(qnb.PopulationLoss(np.eye(2)))


def test_string_jacobian_is_a_new_array_each_call(string_images):
    loss, images = string_images
    dynamics = qnb.StringDynamics(loss)
    first = dynamics.jacobian(images)
    kept = first.copy()
    dynamics.jacobian(2.0 * images)
    assert_array_equal(first, kept)


# --------------------------------------------------------------------------
# Solver options, statuses and argument checks
# --------------------------------------------------------------------------

def test_fixed_step_scheme_reaches_the_same_string_more_slowly():
    a0, a_star = np.array([2.0, 0.5]), np.array([1.0, 1.5])
    X = np.eye(2)
    implicit = string_method(np.diag(a0), np.diag(a_star), X, a_star.copy(), n_images=20)
    fixed = string_method(np.diag(a0), np.diag(a_star), X, a_star.copy(), n_images=20, scheme="fixed",
                          max_iter=20000)
    assert implicit.success and fixed.success
    assert fixed.nit > 3 * implicit.nit
    assert fixed.step > 0 and "kappa" not in fixed
    exact = _logistic_path(a0, a_star, TIMES)
    for res in (implicit, fixed):
        assert distance_to_path(res.images, exact).max() < 0.1 * res.arclength[-1] / 19


def test_iteration_cap_is_reported_not_raised():
    a0, a_star = np.array([2.0, 0.5]), np.array([1.0, 1.5])
    res = string_method(np.diag(a0), np.diag(a_star), np.eye(2), a_star.copy(), n_images=10, max_iter=3)
    assert not res.success
    assert res.status == STATUS_MAX_ITER == 1 and res.nit == 3 and "max_iter" in res.message
    assert "population_loss" not in res


def test_nonfinite_images_are_reported():
    a0, a_star = np.array([2.0, 0.5]), np.array([1.0, 1.5])
    res = string_method(np.diag(a0), np.diag(a_star), np.eye(2), a_star.copy(), n_images=10, scheme="fixed",
                        step=1e6)
    assert res.status == STATUS_NONFINITE == 2 and not res.success and "non-finite" in res.message


def test_string_at_rest_has_converged_but_one_that_cannot_move_has_not():
    """A zero evolution move is convergence only when no image feels a force.

    With the single input e1 the zero-loss set is {A_11 = y}; a straight string inside it
    has G = 0 at every image (exactly), so it is at rest. A string with forces and a step
    far below round-off of its entries is not moved either, but has not converged.
    """
    X, y = np.array([[1.0, 0.0]]), np.array([1.0])
    at_rest = string_method(np.diag([1.0, 0.5]), np.diag([1.0, 2.0]), X, y, n_images=5)
    assert at_rest.success and at_rest.status == STATUS_CONVERGED and at_rest.nit == 1
    assert_array_equal(at_rest.history, [0.0])
    a0, a_star = np.array([2.0, 0.5]), np.array([1.0, 1.5])
    stuck = string_method(np.diag(a0), np.diag(a_star), np.eye(2), a_star.copy(), n_images=5, scheme="fixed",
                          step=1e-300)
    assert not stuck.success and stuck.status == STATUS_STALLED == 3 and "increase step" in stuck.message
    assert np.isnan(stuck.history[-1])


def test_infinite_loss_is_not_convergence():
    """Labels whose square overflows give infinite forces; the string must not count that as at rest."""
    a0, a_star = np.array([2.0, 0.5]), np.array([1.0, 1.5])
    for scheme in ("implicit", "fixed"):
        res = string_method(np.diag(a0), np.diag(a_star), np.eye(2), np.array([1e300, 1e300]), n_images=5,
                            scheme=scheme)
        assert not res.success and res.status == STATUS_NONFINITE


def test_initial_string_is_used_and_checked():
    a0, a_star = np.array([2.0, 0.5]), np.array([1.0, 1.5])
    A0, As, X = np.diag(a0), np.diag(a_star), np.eye(2)
    first = string_method(A0, As, X, a_star.copy(), n_images=15)
    again = string_method(A0, As, X, a_star.copy(), n_images=15, initial=first.images)
    assert again.success and again.nit < first.nit
    bad = first.images.copy()
    bad[0] = bad[0] + 0.1
    with pytest.raises(ValueError, match="initial\\[0\\]"):
        string_method(A0, As, X, a_star.copy(), n_images=15, initial=bad)
    with pytest.raises(ValueError, match="initial must have shape"):
        string_method(A0, As, X, a_star.copy(), n_images=16, initial=first.images)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"A_start": -np.eye(2)}, ValueError, "A_start must be positive semidefinite"),
        ({"A_end": np.ones((3, 3))}, ValueError, "A_end must have shape"),
        ({"n_images": 2}, ValueError, "n_images must be >= 3"),
        ({"n_images": 10.0}, TypeError, "n_images must be an integer"),
        ({"scheme": "rk4"}, ValueError, "scheme must be one of"),
        ({"scheme": 1}, TypeError, "scheme must be a string"),
        ({"kappa": 0.0}, ValueError, "kappa"),
        ({"substeps": 0}, ValueError, "substeps"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"step": np.inf}, ValueError, "step"),
        ({"A_star": np.eye(3)}, ValueError, "A_star"),
        ({"y": np.ones(3)}, ValueError, "y must have one label per row"),
    ],
)
def test_string_method_checks_arguments(kwargs, error, match):
    args = {"A_start": np.eye(2), "A_end": np.diag([1.0, 0.0]), "X": np.eye(2), "y": np.array([1.0, 0.0])}
    args.update({k: v for k, v in kwargs.items() if k in args})
    options = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(error, match=match):
        string_method(args["A_start"], args["A_end"], args["X"], args["y"], **options)


def test_flat_stretch_measures_the_trailing_zero_loss_run():
    r = flat_stretch([5.0, 1.0, 3e-9, 1.0, 4e-8, 0.0, 0.0], np.arange(7.0))
    assert (r.start, r.count, r.length) == (4, 3, 2.0)
    assert_allclose(r.threshold, 5e-8)
    none = flat_stretch([5.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    assert (none.count, none.length) == (0, 0.0)
    with pytest.raises(ValueError, match="arclength must have the shape"):
        flat_stretch([1.0, 0.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="rel_tol"):
        flat_stretch([1.0, 0.0], [0.0, 1.0], rel_tol=0.0)


def test_distance_to_path_checks_shapes():
    with pytest.raises(ValueError, match="path must hold"):
        distance_to_path(np.zeros((2, 2, 2)), np.zeros((3, 3, 3)))
