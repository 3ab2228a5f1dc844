"""Every public function of qnb driven with bad inputs: a clear error or a failure status, never garbage.

Each case calls one public function with one bad input and expects either an
argument error (``ValueError`` or ``TypeError``) whose message names the
argument, or a result with ``success is False`` and a message that says why.
What each case protects against is in its id. No case may hang: every call
runs under a time limit, so a regression to a hang fails here instead of
stalling the suite, and none may crash with another exception (the
``AttributeError`` of an integrator without output, the ``MemoryError`` of a
tiny gradient-descent step) or succeed on garbage (all-NaN states, a string
that never moved, an infinite loss).

The sweeps (``recovery_probability``, ``recovery_threshold``,
``string_profiles``, ``gd_loss_curves``) and ``is_unique_minimizer`` get
argument-level cases only: their solvers' own failures are tested in their
test files.
"""

import contextlib
import re
import signal
import warnings

import numpy as np
import pytest

import qnb

TIME_LIMIT = 20.0  # seconds per call: every case takes well under one; a hang takes forever
FAILURE = "failure status"


class Hang(Exception):
    """Raised by the time limit inside a call that did not return."""


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt the block after ``seconds`` with :class:`Hang` (where SIGALRM exists)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def interrupt(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- one small valid instance; each case spoils one argument --------------------------------

D, N = 3, 8
X = qnb.sample_inputs(N, D, rng=0)
A_STAR = qnb.gram(qnb.gaussian_teacher(D, 1, rng=1))
Y = qnb.labels(X, A_STAR)
I3 = np.eye(D)
T = [0.0, 1.0]
NOT_SYMMETRIC = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
NOT_PSD = np.diag([1.0, -1.0, 1.0])
HUGE = 1e150 * I3          # LSODA looped at t = 0 from here (> 170 s); Radau and BDF crashed
HUGE_Y = np.full(N, 1e300)  # the loss overflows; the string counted its zero move as converged
WITH_NAN = np.where(I3 == 1, np.nan, 0.0)
COMPLEX = I3 + 0j           # was cast to its real part with only a warning


def case(function, call, expect, match, why):
    """A case: ``call()`` must raise ``expect`` matching ``match``, or return a failure status
    (``expect=FAILURE``) whose message matches ``match``; ``why`` names what it protects against."""
    return pytest.param(function, call, expect, match, id=f"{function}-{why}")


CASES = [
    # --- data ---------------------------------------------------------------------------
    case("gram", lambda: qnb.gram(COMPLEX), TypeError, "W must be real", "complex input"),
    case("gram", lambda: qnb.gram(np.ones(3)), ValueError, "W must be 2-dimensional", "wrong shape"),
    case("gram", lambda: qnb.gram(WITH_NAN), ValueError, "W contains NaN", "NaN"),
    case("gram", lambda: qnb.gram("W"), TypeError, "W must be a numeric array", "wrong type"),
    case("gaussian_teacher", lambda: qnb.gaussian_teacher(0, 1), ValueError, "d must be >= 1", "d < 1"),
    case("gaussian_teacher", lambda: qnb.gaussian_teacher(3, 1.5), TypeError, "m_star must be an integer",
         "non-integer size"),
    case("gaussian_teacher", lambda: qnb.gaussian_teacher(3, 1, rng=-1), ValueError, "rng", "negative seed"),
    case("orthonormal_teacher", lambda: qnb.orthonormal_teacher(3, -1), ValueError, "m_star must be >= 1",
         "negative size"),
    case("orthonormal_teacher", lambda: qnb.orthonormal_teacher(3 + 0j, 1), TypeError, "d must be an integer",
         "complex size"),
    case("sample_inputs", lambda: qnb.sample_inputs(0, 3), ValueError, "n must be >= 1", "n < 1"),
    case("sample_inputs", lambda: qnb.sample_inputs(4, 3, rng="seed"), TypeError, "rng", "wrong rng type"),
    case("sample_inputs", lambda: qnb.sample_inputs(4, 3, inputs="cauchy"), ValueError, "inputs must be one of",
         "unknown input distribution"),
    case("input_moments", lambda: qnb.input_moments("cauchy"), ValueError, "inputs must be one of",
         "unknown input distribution"),
    case("input_moments", lambda: qnb.input_moments(3), TypeError, "inputs must be a string", "not a name"),
    case("labels", lambda: qnb.labels(X + 0j, I3), TypeError, "X must be real", "complex input"),
    case("labels", lambda: qnb.labels(X, NOT_SYMMETRIC), ValueError, "A must be symmetric", "non-symmetric A"),
    case("labels", lambda: qnb.labels(X, np.eye(2)), ValueError, r"A must have shape \(3, 3\)", "wrong shape"),
    case("instance_rng", lambda: qnb.instance_rng(-1), ValueError, "seed must be a non-negative", "negative seed"),
    case("instance_rng", lambda: qnb.instance_rng(0, 1.5), TypeError, "key entry must be", "non-integer key"),
    case("draw_instance", lambda: qnb.draw_instance(3, 1, 0), ValueError, "n must be >= 1", "n < 1"),
    case("draw_instance", lambda: qnb.draw_instance(3, 1, 4, teacher="wishart"), ValueError,
         "teacher must be one of", "unknown teacher"),
    case("draw_instance", lambda: qnb.draw_instance(3, 1, 4, width=0), ValueError, "width must be >= 1",
         "width < 1"),
    case("instance_data", lambda: qnb.instance_data(0, 4, -1, 3, 1), ValueError, "trial must be",
         "negative trial"),
    case("instance_data", lambda: qnb.instance_data(0, 0, 0, 3, 1), ValueError, "n must be", "n < 1"),
    case("nested_instance_data", lambda: qnb.nested_instance_data(0, -1, 3, 1), ValueError, "trial must be",
         "negative trial"),
    case("nested_instance_data", lambda: qnb.nested_instance_data(0, 0, 0, 1), ValueError, "d must be >= 1",
         "d < 1"),
    case("as_rng", lambda: qnb.as_rng(1.5), TypeError, "rng must be", "wrong type"),
    case("as_rng", lambda: qnb.as_rng(-1), ValueError, "rng must be a non-negative", "negative seed"),
    # --- losses ---------------------------------------------------------------------------
    case("EmpiricalLoss", lambda: qnb.EmpiricalLoss(X + 1j, Y), TypeError, "X must be real", "complex input"),
    case("EmpiricalLoss", lambda: qnb.EmpiricalLoss(X, Y[:-1]), ValueError, "y must have one label per row",
         "mismatched lengths"),
    case("EmpiricalLoss", lambda: qnb.EmpiricalLoss(X, np.full(N, np.inf)), ValueError, "y contains NaN or inf",
         "infinite labels"),
    case("EmpiricalLoss", lambda: qnb.EmpiricalLoss(X, Y).value(COMPLEX), TypeError, "A must be real",
         "complex matrix in value"),
    case("EmpiricalLoss", lambda: qnb.EmpiricalLoss(X, Y).gradient(np.eye(2)), ValueError,
         r"A must have shape \(3, 3\)", "wrong shape in gradient"),
    case("PopulationLoss", lambda: qnb.PopulationLoss(NOT_SYMMETRIC), ValueError, "A_star must be symmetric",
         "non-symmetric teacher"),
    case("PopulationLoss", lambda: qnb.PopulationLoss(A_STAR).hessian_action(COMPLEX), TypeError,
         "H must be real", "complex direction"),
    case("empirical_loss", lambda: qnb.empirical_loss(COMPLEX, X, Y), TypeError, "A must be real",
         "complex input"),
    case("empirical_loss", lambda: qnb.empirical_loss(np.eye(2), X, Y), ValueError, r"A must have shape",
         "wrong shape"),
    case("empirical_gradient", lambda: qnb.empirical_gradient(WITH_NAN, X, Y), ValueError, "A contains NaN",
         "NaN"),
    case("population_loss", lambda: qnb.population_loss(I3, np.full((3, 3), np.inf)), ValueError,
         "A_star contains NaN or inf", "infinite teacher"),
    case("population_gradient", lambda: qnb.population_gradient(COMPLEX, A_STAR), TypeError, "A must be real",
         "complex input"),
    case("population_risk", lambda: qnb.population_risk(I3, NOT_SYMMETRIC), ValueError,
         "B_star must be symmetric", "non-symmetric teacher"),
    case("population_risk", lambda: qnb.population_risk(np.stack([I3, NOT_SYMMETRIC]), I3), ValueError,
         "B must be symmetric", "non-symmetric matrix in a stack"),
    case("population_risk", lambda: qnb.population_risk(np.eye(2), I3), ValueError, r"B must have shape",
         "wrong shape"),
    case("population_risk", lambda: qnb.population_risk(I3, I3, inputs="cauchy"), ValueError,
         "inputs must be one of", "unknown input distribution"),
    case("population_risk_gradient", lambda: qnb.population_risk_gradient(WITH_NAN, I3), ValueError,
         "B contains NaN", "NaN"),
    case("population_risk_gradient", lambda: qnb.population_risk_gradient(COMPLEX, I3), TypeError,
         "B must be real", "complex input"),
    # --- energy barrier -------------------------------------------------------------------
    case("rank_deficient_barrier", lambda: qnb.rank_deficient_barrier(A_STAR), ValueError,
         "B_star must be positive definite", "rank-deficient teacher"),
    case("rank_deficient_barrier", lambda: qnb.rank_deficient_barrier(np.eye(1)), ValueError,
         "B_star must be at least 2 x 2", "d < 2"),
    case("rank_deficient_barrier", lambda: qnb.rank_deficient_barrier(NOT_SYMMETRIC), ValueError,
         "B_star must be symmetric", "non-symmetric teacher"),
    case("rank_deficient_barrier", lambda: qnb.rank_deficient_barrier(I3, "cauchy"), ValueError,
         "inputs must be one of", "unknown input distribution"),
    case("rank_deficient_barrier", lambda: qnb.rank_deficient_barrier(I3, restarts=0), ValueError,
         "restarts must be >= 1", "no restart"),
    case("rank_deficient_barrier", lambda: qnb.rank_deficient_barrier(I3, "uniform", method="closed_form"),
         ValueError, "closed_form", "no closed form for uniform inputs"),
    case("empirical_rank_deficient_barrier", lambda: qnb.empirical_rank_deficient_barrier(X, Y[:-1]), ValueError,
         "y must have one label per row", "mismatched lengths"),
    case("empirical_rank_deficient_barrier", lambda: qnb.empirical_rank_deficient_barrier(X[:, :1], Y), ValueError,
         "X must have at least 2 columns", "d < 2"),
    case("empirical_rank_deficient_barrier", lambda: qnb.empirical_rank_deficient_barrier(X, Y, restarts=1.5),
         TypeError, "restarts must be an integer", "non-integer restarts"),
    case("barrier_lower_bound", lambda: qnb.barrier_lower_bound(NOT_PSD), ValueError,
         "B_star must be positive definite", "indefinite teacher"),
    case("barrier_lower_bound", lambda: qnb.barrier_lower_bound(COMPLEX), TypeError, "B_star must be real",
         "complex teacher"),
    # --- flows ----------------------------------------------------------------------------
    case("empirical_flow", lambda: qnb.empirical_flow(HUGE, X, Y, T), FAILURE, "",
         "huge start hung LSODA at t=0"),
    case("empirical_flow", lambda: qnb.empirical_flow(HUGE, X, Y, T, method="BDF"), FAILURE, "",
         "huge start crashed BDF"),
    case("empirical_flow", lambda: qnb.empirical_flow(1e100 * I3, X, Y, [1.0], method="Radau"), FAILURE, "",
         "huge start crashed Radau before the first output"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, HUGE_Y, T), FAILURE, "",
         "huge labels hung LSODA"),
    case("empirical_flow", lambda: qnb.empirical_flow(np.zeros((3, 3)), X, Y, T), ValueError, "A0 .*zero",
         "zero start, a fixed point the flow cannot leave"),
    case("empirical_flow", lambda: qnb.empirical_flow(1e-320 * I3, X, Y, T), ValueError, "A0 .*zero",
         "start zero to round-off"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, Y, T, method="gd", step=1e-9), FAILURE,
         "max_steps.*step", "tiny gd step built a list of 1e9 steps (MemoryError)"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, Y, T, method="gd", step=0.5), FAILURE,
         "diverged", "diverging gd step counted a success before overflow"),
    case("empirical_flow", lambda: qnb.empirical_flow(COMPLEX, X, Y, T), TypeError, "A0 must be real",
         "complex start"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, Y, np.array([0.0, 1.0]) + 0j), TypeError,
         "t_eval must be real", "complex times"),
    case("empirical_flow", lambda: qnb.empirical_flow(NOT_PSD, X, Y, T), ValueError,
         "A0 must be positive semidefinite", "non-PSD start"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, Y, []), ValueError, "t_eval must not be empty",
         "no output time"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, Y, T, rtol=0.0), ValueError, "rtol must be",
         "tol <= 0"),
    case("empirical_flow", lambda: qnb.empirical_flow(I3, X, Y, T, method="gd", step=0.1, max_steps=0),
         ValueError, "max_steps must be >= 1", "max_steps < 1"),
    case("weight_flow", lambda: qnb.weight_flow(1e75 * I3, X, Y, T), FAILURE, "",
         "huge start crashed (AttributeError) before the first output"),
    case("weight_flow", lambda: qnb.weight_flow(1e160 * I3, X, Y, T), FAILURE, "finite at t=0",
         "start whose A overflows hung DOP853"),
    case("weight_flow", lambda: qnb.weight_flow(np.zeros((2, 3)), X, Y, T), ValueError, "W0 .*zero",
         "zero start, a fixed point the flow cannot leave"),
    case("weight_flow", lambda: qnb.weight_flow(I3, X, Y, T, method="gd", step=1e-9), FAILURE,
         "max_steps.*step", "tiny gd step (MemoryError)"),
    case("weight_flow", lambda: qnb.weight_flow(3 * I3, X, Y, T, method="gd", step=0.5), FAILURE, "diverged",
         "diverging gd step counted a success"),
    case("weight_flow", lambda: qnb.weight_flow(np.ones((2, 2)), X, Y, T), ValueError, "W0 must have d = 3",
         "wrong width"),
    case("weight_flow", lambda: qnb.weight_flow(I3 + 0j, X, Y, T), TypeError, "W0 must be real",
         "complex start"),
    case("flow_with_fallback", lambda: qnb.flow_with_fallback(HUGE, X, Y, T), FAILURE, "LSODA failed, BDF",
         "huge start hung LSODA, then BDF"),
    case("flow_with_fallback", lambda: qnb.flow_with_fallback(I3, X, Y, T, method="BDF"), TypeError, "method",
         "method passed"),
    case("gd_step", lambda: qnb.gd_step(NOT_PSD, I3, 0.1), ValueError, "A must be positive semidefinite",
         "non-PSD A"),
    case("gd_step", lambda: qnb.gd_step(I3, I3, 0.0), ValueError, "step must be finite and > 0", "step <= 0"),
    case("gd_step", lambda: qnb.gd_step(I3, COMPLEX, 0.1), TypeError, "G must be real", "complex gradient"),
    case("MatrixFlow", lambda: qnb.MatrixFlow(I3), TypeError, "loss must be a loss object", "not a loss"),
    case("WeightFlow", lambda: qnb.WeightFlow(qnb.PopulationLoss(A_STAR), 0), ValueError, "m must be >= 1",
         "m < 1"),
    case("WeightFlow", lambda: qnb.WeightFlow(qnb.PopulationLoss(A_STAR), 1.5), TypeError,
         "m must be an integer", "non-integer width"),
    # --- population -------------------------------------------------------------------------
    case("population_flow", lambda: qnb.population_flow(HUGE, A_STAR, T), FAILURE, "",
         "huge start hung LSODA at t=0"),
    case("population_flow", lambda: qnb.population_flow(np.zeros((3, 3)), A_STAR, T), ValueError, "A0 .*zero",
         "zero start"),
    case("population_flow", lambda: qnb.population_flow(I3, NOT_PSD, T), ValueError,
         "A_star must be positive semidefinite", "non-PSD teacher"),
    case("population_flow", lambda: qnb.population_flow(I3, A_STAR, T, method="gd", step=1.0), FAILURE,
         "diverged", "diverging gd step counted a success"),
    case("population_weight_flow", lambda: qnb.population_weight_flow(1e160 * I3, A_STAR, T), FAILURE,
         "finite at t=0", "start whose A overflows hung DOP853"),
    case("population_weight_flow", lambda: qnb.population_weight_flow(np.zeros((1, 3)), A_STAR, T), ValueError,
         "W0 .*zero", "zero start"),
    case("population_weight_flow", lambda: qnb.population_weight_flow(I3, A_STAR + 0j, T), TypeError,
         "A_star must be real", "complex teacher"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1e300, 0.0], T), FAILURE, "",
         "huge eigenvalue hung LSODA"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, 0.0], T, lam0=[1e300, 1.0]), FAILURE, "",
         "huge start hung LSODA"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1e150, 1e-300], T), FAILURE, "",
         "huge and tiny eigenvalues hung LSODA"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, 0.0], T, multiplicity=[1, 1e300]), ValueError,
         "multiplicity", "huge multiplicity hung LSODA"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, 0.0], T, multiplicity=[1e300, 1]), ValueError,
         "multiplicity", "huge multiplicity crashed (AttributeError)"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, 0.0], T, multiplicity=[1, 0.5]), ValueError,
         "multiplicity must hold positive integers", "fractional multiplicity"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, 0.0], T, lam0=[0.0, 0.0]), ValueError,
         "lam0 .*zero", "zero start"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0 + 1j, 0.0], T), TypeError, "lam_star must be real",
         "complex eigenvalues"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, -1.0], T), ValueError,
         "lam_star must be non-negative", "negative eigenvalue"),
    case("eigenvalue_flow", lambda: qnb.eigenvalue_flow([1.0, np.nan], T), ValueError, "lam_star contains NaN",
         "NaN"),
    case("teacher_spectrum", lambda: qnb.teacher_spectrum(A_STAR + 0j), TypeError, "A_star must be real",
         "complex teacher"),
    case("teacher_spectrum", lambda: qnb.teacher_spectrum(A_STAR, rank_tol=0.0), ValueError, "rank_tol must be",
         "tol <= 0"),
    case("decay_rates", lambda: qnb.decay_rates([1.0, 0.0]), ValueError, "full-rank", "singular teacher"),
    case("decay_rates", lambda: qnb.decay_rates([[1.0]]), ValueError, "lam_star must be 1-dimensional",
         "wrong shape"),
    case("jump_time", lambda: qnb.jump_time(0, 1), ValueError, "d must be >= 1", "d < 1"),
    case("late_eigenvalue", lambda: qnb.late_eigenvalue(-1.0, 4, 1), ValueError, "t must be finite",
         "negative time"),
    case("late_loss", lambda: qnb.late_loss(1.0, 4, 4), ValueError, "m_star < d", "full-rank teacher"),
    case("paper_late_loss", lambda: qnb.paper_late_loss(1.0 + 1j), TypeError, "t must be real", "complex time"),
    case("paper_orthonormal_loss", lambda: qnb.paper_orthonormal_loss(1.0, 0, 1), ValueError,
         "d must be >= 1", "d < 1"),
    case("paper_exponential_loss", lambda: qnb.paper_exponential_loss(np.nan, 4), ValueError,
         "t must be finite", "NaN time"),
    case("short_time_eigenvalue", lambda: qnb.short_time_eigenvalue([0.0, 1j], 4), TypeError, "t must be real",
         "complex time"),
    # --- strings --------------------------------------------------------------------------
    case("string_method", lambda: qnb.string_method(I3, A_STAR, X, Y, 5, scheme="fixed", step=1e-300), FAILURE,
         "", "zero move counted as converged (untouched straight line)"),
    case("string_method", lambda: qnb.string_method(I3, A_STAR, X, HUGE_Y, 5), FAILURE, "",
         "infinite loss counted as converged"),
    case("string_method", lambda: qnb.string_method(I3, A_STAR, X, HUGE_Y, 5, scheme="fixed"), FAILURE, "",
         "infinite loss counted as converged (fixed scheme)"),
    case("string_method", lambda: qnb.string_method(COMPLEX, A_STAR, X, Y, 5), TypeError, "A_start must be real",
         "complex endpoint"),
    case("string_method", lambda: qnb.string_method(NOT_PSD, A_STAR, X, Y, 5), ValueError,
         "A_start must be positive semidefinite", "non-PSD endpoint"),
    case("string_method", lambda: qnb.string_method(I3, A_STAR, X, Y, 2), ValueError, "n_images must be >= 3",
         "too few images"),
    case("string_method", lambda: qnb.string_method(I3, A_STAR, X, Y, 5, tol=0.0), ValueError, "tol must be",
         "tol <= 0"),
    case("string_method", lambda: qnb.string_method(I3, A_STAR, X, Y, 5, initial=np.ones((4, 3, 3))), ValueError,
         "initial must have shape", "wrong initial shape"),
    case("StringDynamics", lambda: qnb.StringDynamics(qnb.PopulationLoss(A_STAR)), TypeError,
         "loss must be an EmpiricalLoss", "wrong loss"),
    case("StringDynamics", lambda: qnb.StringDynamics(qnb.EmpiricalLoss(X, Y)).jacobian(COMPLEX[None]), TypeError,
         "must be real", "complex images"),
    case("reparametrize", lambda: qnb.reparametrize(COMPLEX[None].repeat(3, 0)), TypeError, "images must be real",
         "complex images"),
    case("reparametrize", lambda: qnb.reparametrize(I3[None]), ValueError, "images must hold at least 2",
         "one image"),
    case("string_arclength", lambda: qnb.string_arclength(WITH_NAN[None].repeat(3, 0)), ValueError,
         "images contains NaN", "NaN"),
    case("distance_to_path", lambda: qnb.distance_to_path(I3[None], I3[None]), ValueError,
         "path must hold at least 2", "one-point path"),
    case("distance_to_path", lambda: qnb.distance_to_path(I3[None], np.ones((2, 2, 2))), ValueError,
         "path must hold", "mismatched shapes"),
    case("flat_stretch", lambda: qnb.flat_stretch([1.0, 0.0], [0.0, 1.0], rel_tol=0.0), ValueError,
         "rel_tol must be", "tol <= 0"),
    case("flat_stretch", lambda: qnb.flat_stretch([1.0, np.nan], [0.0, 1.0]), ValueError,
         "train_loss contains NaN", "NaN"),
    case("flat_stretch", lambda: qnb.flat_stretch([1.0, 1j], [0.0, 1.0]), TypeError, "train_loss must be real",
         "complex input"),
    # --- uniqueness (argument level) --------------------------------------------------------
    case("is_unique_minimizer", lambda: qnb.is_unique_minimizer(X + 0j, A_STAR), TypeError, "X must be real",
         "complex input"),
    case("is_unique_minimizer", lambda: qnb.is_unique_minimizer(X, NOT_PSD), ValueError,
         "A_star must be positive semidefinite", "non-PSD teacher"),
    case("is_unique_minimizer", lambda: qnb.is_unique_minimizer(X[:, :2], A_STAR), ValueError, "A_star must have",
         "mismatched shapes"),
    case("is_unique_minimizer", lambda: qnb.is_unique_minimizer(X, A_STAR, rank_tol=-1.0), ValueError,
         "rank_tol must be", "tol <= 0"),
    case("critical_samples", lambda: qnb.critical_samples(0, 1), ValueError, "d must be >= 1", "d < 1"),
    case("critical_samples", lambda: qnb.critical_samples(3, 1.5), TypeError, "m_star must be an integer",
         "non-integer size"),
    case("span_condition", lambda: qnb.span_condition(WITH_NAN), ValueError, "X contains NaN", "NaN"),
    case("span_condition", lambda: qnb.span_condition(X, rtol=0.0), ValueError, "rtol must be", "tol <= 0"),
    case("certify_uniqueness", lambda: qnb.certify_uniqueness(WITH_NAN, A_STAR), ValueError, "X contains NaN", "NaN"),
    case("certify_uniqueness", lambda: qnb.certify_uniqueness(X, NOT_PSD), ValueError,
         "A_star must be positive semidefinite", "non-PSD teacher"),
    case("certify_uniqueness", lambda: qnb.certify_uniqueness(X, A_STAR, tol=0.0), ValueError, "tol must be",
         "tol <= 0"),
    case("certify_uniqueness", lambda: qnb.certify_uniqueness(X, A_STAR, max_newton=0), ValueError,
         "max_newton must be >= 1", "no Newton step"),
    case("certify_phaselift", lambda: qnb.certify_phaselift(X[:, :2], A_STAR), ValueError, "A_star must have",
         "mismatched shapes"),
    case("certify_phaselift", lambda: qnb.certify_phaselift(X, A_STAR, rank_tol=-1.0), ValueError,
         "rank_tol must be", "tol <= 0"),
    case("statistical_dimension", lambda: qnb.statistical_dimension(1, 1), ValueError, "d must be >= 2", "d < 2"),
    case("statistical_dimension", lambda: qnb.statistical_dimension(4, 4), ValueError, "r must be < d",
         "full rank"),
    case("statistical_dimension", lambda: qnb.statistical_dimension(4, 1, samples=1), ValueError,
         "samples must be >= 2", "one sample"),
    case("predicted_threshold", lambda: qnb.predicted_threshold(4, 1, problem="lasso"), ValueError,
         "problem must be one of", "unknown problem"),
    case("predicted_threshold", lambda: qnb.predicted_threshold(4, 1, iterations=0), ValueError,
         "iterations must be >= 1", "no iteration"),
    case("normal_cone_distance", lambda: qnb.normal_cone_distance(WITH_NAN, 1), ValueError,
         "G contains NaN", "NaN"),
    case("normal_cone_distance", lambda: qnb.normal_cone_distance(np.eye(3), 1, h=np.eye(3)), ValueError,
         "h or -h lies in the normal cone", "minimum at infinity"),
    # --- stationary points of the weight-space risk ------------------------------------------
    case("WeightRisk", lambda: qnb.WeightRisk(X + 1j, Y), TypeError, "X must be real", "complex input"),
    case("WeightRisk", lambda: qnb.WeightRisk(X, Y[:-1]), ValueError, "y must have one label per row",
         "mismatched lengths"),
    case("WeightRisk", lambda: qnb.WeightRisk(X, Y).hessian(np.ones((2, 2))), ValueError,
         "W must have d = 3 columns", "wrong width in hessian"),
    case("WeightRisk", lambda: qnb.WeightRisk(X, Y).gradient(WITH_NAN), ValueError, "W contains NaN",
         "NaN weights"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 3, max_nfev=1), FAILURE, "none of the",
         "no start converged counted a success"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 0), ValueError, "m must be >= 1", "m < 1"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 2, starts=1.5), TypeError,
         "starts must be an integer", "non-integer starts"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 2, gtol=0.0), ValueError, "gtol must be",
         "tol <= 0"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 2, scales=[1.0, -1.0]), ValueError,
         "scales must be positive", "negative scale"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 2, scales="large"), TypeError,
         "scales must be a numeric array", "scales as a str"),
    case("stationary_points", lambda: qnb.stationary_points(X, Y, 2, B_star=NOT_PSD), ValueError,
         "B_star must be positive semidefinite", "non-PSD teacher"),
    case("orbit_dimension", lambda: qnb.orbit_dimension(2, 3), ValueError, "rank must be <= m", "rank > m"),
    case("orbit_dimension", lambda: qnb.orbit_dimension(0, 0), ValueError, "m must be >= 1", "m < 1"),
    # --- sweeps (argument level) --------------------------------------------------------------
    case("recovery_probability", lambda: qnb.recovery_probability(0, 1, [4], 1, executor="serial"), ValueError,
         "d must be >= 1", "d < 1"),
    case("recovery_probability", lambda: qnb.recovery_probability(3, 1, [4 + 0j], 1, executor="serial"),
         TypeError, "n_values", "complex sample size"),
    case("recovery_probability", lambda: qnb.recovery_probability(3, 1, [[4]], 1, executor="serial"), TypeError,
         "n_values must be a 1-D", "wrong shape"),
    case("recovery_probability", lambda: qnb.recovery_probability(3, 1, [4], -1, executor="serial"), ValueError,
         "trials must be >= 1", "negative size"),
    case("recovery_probability", lambda: qnb.recovery_probability(3, 1, [4], 1, method="flow",
                                                                   flow_time=np.nan, executor="serial"),
         ValueError, "flow_time must be finite", "NaN time"),
    case("recovery_threshold", lambda: qnb.recovery_threshold(3, 0, 1, executor="serial"), ValueError,
         "m_star must be >= 1", "m_star < 1"),
    case("recovery_threshold", lambda: qnb.recovery_threshold(3, 1, 1, recovery_tol=0.0, executor="serial"),
         ValueError, "recovery_tol must be", "tol <= 0"),
    case("recovery_threshold", lambda: qnb.recovery_threshold(3, 1, 1, rng=1.5, executor="serial"), TypeError,
         "rng", "wrong rng type"),
    case("recovery_bracket", lambda: qnb.recovery_bracket(0, 1), ValueError, "d must be >= 1", "d < 1"),
    case("gd_loss_curves", lambda: qnb.gd_loss_curves(3, 1, 6, 1, [0.0, 1j]), TypeError, "t_eval must be real",
         "complex times"),
    case("gd_loss_curves", lambda: qnb.gd_loss_curves(3, 1, 6, 1, [1.0, 0.0]), ValueError,
         "t_eval must be strictly increasing", "decreasing times"),
    case("gd_loss_curves", lambda: qnb.gd_loss_curves(3, 1, 6, 0, T), ValueError, "n_runs must be >= 1",
         "n_runs < 1"),
    case("string_profiles", lambda: qnb.string_profiles(3, [4], 1, n_images=2, executor="serial"), ValueError,
         "n_images must be >= 3", "too few images"),
    case("string_profiles", lambda: qnb.string_profiles(3, [-4], 1, executor="serial"), ValueError,
         "n_values entry must be >= 1", "negative sample size"),
    case("string_profile_instance", lambda: qnb.string_profile_instance(3, 4, -1), ValueError,
         "trial must be >= 0", "negative trial"),
    case("string_profiles_seed", lambda: qnb.string_profiles_seed(0), ValueError, "d must be >= 1", "d < 1"),
    case("fetch_stored_data", lambda: qnb.fetch_stored_data(names=["other.npz"]), ValueError,
         "names: 'other.npz' is not a stored data file", "unknown file"),
    case("fetch_stored_data", lambda: qnb.fetch_stored_data(names="string_profiles.npz"), TypeError,
         "names must be a list", "one name as a str"),
    case("fetch_stored_data", lambda: qnb.fetch_stored_data(source="https://example.org/a/b"), ValueError,
         "source must be a GitHub repository URL", "not a GitHub URL"),
    case("fetch_stored_data", lambda: qnb.fetch_stored_data(dest=None), TypeError, "dest must be",
         "no folder"),
    case("log_mean", lambda: qnb.log_mean([[1.0, -1.0]]), ValueError, "curves must be non-negative",
         "negative loss"),
    case("curves_agree", lambda: qnb.curves_agree(np.ones((1, 2)), np.ones((1, 3))), ValueError,
         "stored and fresh must have the same shape", "mismatched shapes"),
    case("curves_agree", lambda: qnb.curves_agree(np.ones((1, 2)), np.ones((1, 2)), rtol=0.0), ValueError,
         "rtol must be", "tol <= 0"),
]

# Complex input to the two curve helpers of qnb/loss_curves.py (cast to its real part with
# only a warning before they used the shared checks).
CASES += [
    pytest.param("log_mean", lambda: qnb.log_mean([[1.0, 1j]]), TypeError, "curves must be real",
                 id="log_mean-complex input"),
    pytest.param("curves_agree", lambda: qnb.curves_agree(np.ones((1, 2)) + 0j, np.ones((1, 2))), TypeError,
                 "stored must be real", id="curves_agree-complex input"),
]

# The chapter widgets' helper (the full table of its argument checks is in
# tests/test_figure_explorer.py).
CASES += [
    pytest.param("explore", lambda: qnb.explore(42, {}, {}, "x"), TypeError, "function must be callable",
                 id="explore-not callable"),
]


# The two-layer network of qnb/two_layer.py: one loss with fixed output weights of both signs
# and one with trained ones; each case spoils one argument.
V_MIXED = np.array([1.0, -1.0, 1.0, -1.0])
NET = qnb.NetworkLoss(X, Y, v=V_MIXED)
NET_TRAINED = qnb.NetworkLoss(X, Y, "softplus", k=2, beta=2.0)
THETA = NET.random_start(rng=0)
CASES += [
    case("Activation", lambda: qnb.Activation("relu"), ValueError, "activation must be one of", "unknown name"),
    case("Activation", lambda: qnb.Activation(3), TypeError, "activation must be a string", "not a name"),
    case("Activation", lambda: qnb.Activation("quadratic", beta=2.0), ValueError, "beta is a parameter of",
         "beta given for quadratic"),
    case("Activation", lambda: qnb.Activation("sigmoid", beta=0.0), ValueError, "beta must be", "beta = 0"),
    case("Activation", lambda: qnb.Activation("softplus", beta=1j), TypeError, "beta must be a real",
         "complex beta"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, "tanh", v=V_MIXED), ValueError, "activation must be one of",
         "unknown activation"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, None, v=V_MIXED), TypeError, "activation must be a name",
         "activation not a name"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, v=V_MIXED, beta=2.0), ValueError, "beta is a parameter of",
         "beta given for quadratic"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, qnb.Activation("softplus"), v=V_MIXED, beta=2.0), ValueError,
         "beta must be None when activation is an Activation", "beta twice"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, v=np.ones((2, 2))), ValueError, "v must be 1-dimensional",
         "v wrong shape"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, v=[1.0, np.nan]), ValueError, "v contains NaN",
         "NaN output weight"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, v=V_MIXED, k=3), ValueError, r"k = 3 does not match len\(v\)",
         "k and v disagree"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y), ValueError, "k .* is required when v is trained",
         "k missing with trained v"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, k=0), ValueError, "k must be >= 1", "k < 1"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y, k=2.5), TypeError, "k must be an integer", "non-integer k"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X + 1j, Y, v=V_MIXED), TypeError, "X must be real",
         "complex input"),
    case("NetworkLoss", lambda: qnb.NetworkLoss(X, Y[:-1], v=V_MIXED), ValueError, "y must have one label per row",
         "mismatched lengths"),
    case("NetworkLoss", lambda: NET.value(THETA[:-1]), ValueError, r"theta must have shape \(12,\)",
         "theta wrong length"),
    case("NetworkLoss", lambda: NET.gradient(THETA + 0j), TypeError, "theta must be real", "complex theta"),
    case("NetworkLoss", lambda: NET.hessian(THETA.reshape(4, 3)), ValueError, r"theta must have shape \(12,\)",
         "theta as a matrix"),
    case("NetworkLoss", lambda: NET_TRAINED.jacobian(THETA), ValueError, r"theta must have shape \(8,\)",
         "theta of the fixed-v loss for the trained one"),
    case("NetworkLoss", lambda: NET.predict(THETA, X[:, :2]), ValueError, "X must have d = 3 columns",
         "new inputs of the wrong width"),
    case("NetworkLoss", lambda: NET.stationarity(np.full(NET.size, np.nan)), ValueError, "theta contains NaN",
         "NaN theta in the report"),
    case("NetworkLoss", lambda: NET.join(np.ones((3, 3))), ValueError, r"W must have shape \(4, 3\)",
         "W wrong shape"),
    case("NetworkLoss", lambda: NET.join(np.ones((4, 3)), v=np.ones(4)), ValueError, "v is fixed",
         "v given for fixed v"),
    case("NetworkLoss", lambda: NET_TRAINED.join(np.ones((2, 3))), ValueError, "v is trained", "v missing"),
    case("NetworkLoss", lambda: NET_TRAINED.join(np.ones((2, 3)), v=np.ones(3)), ValueError,
         "v must have length k = 2", "v wrong length"),
    case("NetworkLoss", lambda: NET.random_start(scale=-1.0), ValueError, "scale must be", "negative scale"),
    case("gradient_descent", lambda: qnb.gradient_descent("loss", THETA, 0.1), TypeError,
         "loss must be a NetworkLoss", "not a loss"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA, -0.1), ValueError, "step must be",
         "negative step"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA[:-1], 0.1), ValueError,
         r"theta0 must have shape \(12,\)", "theta0 wrong length"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA + 1j, 0.1), TypeError, "theta0 must be real",
         "complex theta0"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA, 0.1, gtol=0.0), ValueError, "gtol must be",
         "tol <= 0"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA, 0.1, max_steps=0), ValueError,
         "max_steps must be >= 1", "no step"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA, 0.1, record_every=1.5), TypeError,
         "record_every must be an integer", "non-integer record_every"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA, 50.0), FAILURE, "diverged",
         "too large a step counted a success"),
    case("gradient_descent", lambda: qnb.gradient_descent(NET, THETA, 1e-6, gtol=1e-12, max_steps=3), FAILURE,
         "max_steps=3 reached", "max_steps counted a success"),
    case("network_flow", lambda: qnb.network_flow(NET, np.full(NET.size, np.nan), T), ValueError,
         "theta0 contains NaN", "NaN start"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA + 1j, T), TypeError, "theta0 must be real",
         "complex start"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, T, method="euler"), ValueError,
         "method must be one of", "unknown method"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, T, method="gd"), ValueError, "step is required",
         "gd without step"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, [1.0, 0.0]), ValueError,
         "t_eval must be strictly increasing", "decreasing times"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, T, method="gd", step=-1.0), ValueError,
         "step must be", "negative step"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, [0.0, 50.0], method="gd", step=5.0), FAILURE,
         "diverged", "too large a step counted a success"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, T, method="gd", step=0.01, stop_rtol=1e-20),
         ValueError, "stop_rtol applies to the integrators", "stop with fixed steps"),
    case("network_flow", lambda: qnb.network_flow(NET, THETA, T, stop_rtol=0.0), ValueError,
         "stop_rtol must be finite and > 0", "stop_rtol zero"),
    case("polish_stationary_point", lambda: qnb.polish_stationary_point(NET, THETA[:3]), ValueError,
         r"theta0 must have shape \(12,\)", "theta0 wrong length"),
    case("polish_stationary_point", lambda: qnb.polish_stationary_point(NET, np.full(NET.size, np.inf)),
         ValueError, "theta0 contains NaN or infinite", "infinite start"),
    case("polish_stationary_point", lambda: qnb.polish_stationary_point(NET, THETA, max_nfev=0), ValueError,
         "max_nfev must be >= 1", "no evaluation"),
    case("polish_stationary_point", lambda: qnb.polish_stationary_point(X, THETA), TypeError,
         "loss must be a NetworkLoss", "not a loss"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 0.1, 0.0), ValueError,
         "epsilon must be", "epsilon zero"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, np.nan, 1e-3),
         ValueError, "step must be", "NaN step"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 0.1, 1e-3,
                                                                               curvature_tol=-1.0),
         ValueError, "curvature_tol must be", "negative curvature_tol"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 0.1, 1e-3, radius=0.0),
         ValueError, "radius must be", "radius zero"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 0.1, 1e-3,
                                                                               escape_steps=0),
         ValueError, "escape_steps must be >= 1", "no escape step"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 0.1, 1e-3, rng=-1),
         ValueError, "rng must be a non-negative", "negative seed"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA[:-1], 0.1, 1e-3),
         ValueError, r"theta0 must have shape \(12,\)", "theta0 wrong length"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 50.0, 1e-3), FAILURE,
         "diverged", "too large a step counted a success"),
    case("perturbed_gradient_descent", lambda: qnb.perturbed_gradient_descent(NET, THETA, 0.01, 1e-12,
                                                                               max_steps=3),
         FAILURE, "max_steps=3 reached", "max_steps counted a success"),
]

# The local analysis near a planted network (its full table of statuses is in
# tests/test_local_convergence.py).
_PLANTED = qnb.NetworkLoss(np.eye(2), [1.0, 1.0], "erf", k=1)
CASES += [
    pytest.param("gauss_newton_rate", lambda: qnb.gauss_newton_rate("x", [1.0]), TypeError,
                 "loss must be a NetworkLoss", id="gauss_newton_rate-not a loss"),
    pytest.param("loss_decay_rate", lambda: qnb.loss_decay_rate([0.0, 1.0], [1.0, -1.0]), ValueError,
                 "values must be positive", id="loss_decay_rate-negative loss"),
    pytest.param("convergence_radius",
                 lambda: qnb.convergence_radius(_PLANTED, np.ones(3), np.zeros(3), 1.0, 1.0), ValueError,
                 "direction must be nonzero", id="convergence_radius-zero direction"),
]


# The recomputed phase transitions of seed 003 (their statuses and outcomes are tested in
# tests/test_global_convergence.py).
CASES += [
    pytest.param("global_convergence_probability",
                 lambda: qnb.global_convergence_probability("quadratic", 3, 5, 2, 0, 1), ValueError,
                 "instances must be >= 1", id="global_convergence_probability-no instances"),
    pytest.param("run_instance", lambda: qnb.run_instance("relu", 3, 5, 2, 0, 1), ValueError,
                 "activation must be one of", id="run_instance-unknown activation"),
    pytest.param("logistic_fit", lambda: qnb.logistic_fit([1, 2, 3], [0, 2, 1]), ValueError,
                 "outcomes must be 0 or 1", id="logistic_fit-outcome not 0 or 1"),
    pytest.param("random_label_curves", lambda: qnb.random_label_curves(0, 10, [1], 10), ValueError,
                 "d must be >= 1", id="random_label_curves-d zero"),
]


# The landscape census of Theorem 2.1 (statuses and stored claims in tests/test_landscape_census.py).
CASES += [
    pytest.param("landscape_census", lambda: qnb.landscape_census(6, 12, 13, "planted", 15, 1), ValueError,
                 "negatives must be at most k", id="landscape_census-more negatives than units"),
    pytest.param("census_run", lambda: qnb.census_run(6, 12, 6, "bogus", 15, 0, 0), ValueError,
                 "labels must be one of", id="census_run-unknown labels"),
    pytest.param("census_instance", lambda: qnb.census_instance(6, 15, "planted", -1), ValueError,
                 "instance must be >= 0", id="census_instance-negative instance"),
    pytest.param("network_global_minimum", lambda: qnb.network_global_minimum(np.eye(3), np.ones(3), 4, 5),
                 ValueError, "negatives must be at most k", id="network_global_minimum-more negatives than units"),
]


# Branches of perfect global minima and the flow near them (seed 004; statuses in
# tests/test_perfect_minima.py and tests/test_branch_flow.py).
_X4 = np.array([-0.8, -0.2, 0.3, 0.9])
_TWO = qnb.perfect_branches(2, [1.0], [0.5])
_EXP4 = qnb.teacher_student_loss(_X4, [1.0], [0.5], 2)
_Q1 = np.array([0.5, -1.0, 1.0, 0.0])
CASES += [
    pytest.param("Branch", lambda: qnb.Branch([[0], [0, 1]], [0, None], [1.0], [0.5]), ValueError,
                 "blocks must partition", id="Branch-unit in two blocks"),
    pytest.param("perfect_branches", lambda: qnb.perfect_branches(2, [1.0, 0.0], [0.5, 0.2]), ValueError,
                 "a_star must have no zero entry", id="perfect_branches-zero target unit"),
    pytest.param("perfect_branches", lambda: qnb.perfect_branches(1, [1.0, 2.0], [0.5, 0.2]), ValueError,
                 "m must be at least the target width", id="perfect_branches-student narrower than target"),
    pytest.param("teacher_student_loss", lambda: qnb.teacher_student_loss(np.ones((4, 2)), [1.0], [0.5], 2),
                 ValueError, "x must have d = 1 columns", id="teacher_student_loss-wrong input dimension"),
    pytest.param("function_error", lambda: qnb.function_error(_EXP4, _TWO[0], _Q1, np.ones((3, 2))), ValueError,
                 "must have d = 1 columns", id="function_error-wrong test inputs"),
    pytest.param("branch_hessian", lambda: qnb.branch_hessian(qnb.teacher_student_loss(_X4, [1.0], [0.5], 3),
                                                              _TWO[0], _Q1), ValueError,
                 "loss must have trained output weights and size 4", id="branch_hessian-loss of another width"),
    pytest.param("separation_test", lambda: qnb.separation_test(_EXP4, _TWO[0], _Q1, 0.0), ValueError,
                 "radius must be finite and > 0", id="separation_test-zero radius"),
    pytest.param("separation_test", lambda: qnb.separation_test(_EXP4, _TWO[2], [0.5, 0.5, 1.0, 0.0], 0.1),
                 FAILURE, "meets another branch", id="separation_test-sphere meets another branch"),
    pytest.param("branch_profile", lambda: qnb.branch_profile(_X4, _TWO[0], [1, 2, 5]), ValueError,
                 "n_values must be increasing and at most len", id="branch_profile-more samples than inputs"),
    pytest.param("branch_profile", lambda: qnb.branch_profile(_X4, _TWO[0], [1, 2], theta=[0.4, 0.5, 1.0, 0.0]),
                 ValueError, "theta must be a point of the branch", id="branch_profile-point off the branch"),
    pytest.param("algebraic_decay_exponent", lambda: qnb.algebraic_decay_exponent([1.0, 2.0], [1.0, 0.5], 2.0, 1.0),
                 ValueError, "t_min must be < t_max", id="algebraic_decay_exponent-empty window"),
    pytest.param("algebraic_decay_exponent",
                 lambda: qnb.algebraic_decay_exponent(np.logspace(0, 2, 9), np.logspace(0, -4, 9), 1.0, 100.0),
                 FAILURE, "at least 3 decades", id="algebraic_decay_exponent-two decades counted a fit"),
    pytest.param("approach_direction", lambda: qnb.approach_direction(_TWO[0], np.ones((2, 3)), np.ones(4)),
                 ValueError, "must have length size = 4", id="approach_direction-wrong length"),
    pytest.param("flow_to_limit", lambda: qnb.flow_to_limit(_EXP4, _Q1, [0.0, 1.0], method="gd"), ValueError,
                 "method must be one of", id="flow_to_limit-fixed steps"),
    pytest.param("flow_to_limit", lambda: qnb.flow_to_limit(_EXP4, _Q1[:3], [0.0, 1.0]), ValueError,
                 r"theta0 must have shape \(4,\)", id="flow_to_limit-theta0 wrong length"),
    pytest.param("soft_direction_law", lambda: qnb.soft_direction_law(_EXP4, _TWO[0], _Q1), FAILURE,
                 "misses 0 normal directions", id="soft_direction_law-Morse-Bott point counted a law"),
]


@pytest.mark.parametrize("function, call, expect, match", CASES)
def test_bad_input_gives_an_error_or_a_failure_status(function, call, expect, match):
    with warnings.catch_warnings():
        # A ComplexWarning or an overflow warning is no answer: only the error or status counts.
        warnings.simplefilter("ignore")
        with time_limit(TIME_LIMIT):
            if expect is FAILURE:
                res = call()
            else:
                with pytest.raises(expect, match=match):
                    call()
                return
    assert res.success is False, f"{function} reported success on bad input: {res.message!r}"
    assert res.status != 0 and isinstance(res.message, str) and res.message
    assert re.search(match, res.message), res.message


EXEMPT = {
    # Containers, constants and records, not functions that check arguments.
    "Result", "RecoveryMethod", "RECOVERY_METHODS", "STORED_DATA", "STRING_PROFILES_SEED", "TEACHERS", "INPUTS",
    "OUTCOME_NAMES", "LANDSCAPE_CENSUS_SEED",
    "ACTIVATIONS",
}


def test_every_public_function_has_a_bad_input_case():
    covered = {param.values[0] for param in CASES}
    assert set(qnb.__all__) - EXEMPT - covered == set()
