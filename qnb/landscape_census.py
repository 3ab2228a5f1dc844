"""A census of where gradient descent ends on quadratic networks with fixed output weights.

The network is ``f(x) = sum_j v_j (w_j . x)^2 = x^T W^T diag(v) W x`` with
``k`` hidden units and output weights ``v`` fixed at ``-1`` on ``negatives``
units and ``+1`` on the others (:func:`output_weights`). Theorem 2.1 of
Soltanolkotabi, Javanmard and Lee (seed 003) says that once ``v`` has at
least ``d`` entries of each sign, the training loss has no spurious local
minimum and every saddle has a direction of negative curvature, whatever the
data. This module counts, over many data sets and starts, where gradient
descent actually stops, with the theorem's conditions holding and failing.

One *run* is a pair ``(instance, start)``. Instance ``i`` draws, from
:func:`qnb.instance_rng` ``(seed, i)``, Gaussian inputs and labels of one of
three kinds (:func:`census_instance`); start ``s`` of it draws the hidden
weights from ``instance_rng(seed, i, s)``. A run is gradient descent
(:func:`qnb.gradient_descent`) to a loose relative gradient tolerance,
Newton-type polishing (:func:`qnb.polish_stationary_point`) and the
second-order report of :meth:`qnb.NetworkLoss.stationarity` at the end point.

The value a limit is compared with is the least loss over the functions the
network can represent, where that is a convex problem
(:func:`network_global_minimum`):

* at least ``d`` units of each sign: ``W^T diag(v) W`` ranges over all
  symmetric matrices, and the minimum is linear least squares in the
  ``d (d + 1) / 2`` entries of ``M``;
* all ``k >= d`` units of one sign: the network ranges over the PSD (or NSD)
  cone, and the minimum is a conic least-squares problem, solved with
  Clarabel and certified by a dual point (the gap is reported);
* any other pattern: no convex description is used here, and the instance's
  best certified run is the reference, which is only an upper bound on the
  minimum.

A limit is *spurious* when it is a certified local minimum (as
:meth:`qnb.NetworkLoss.stationarity` decides: stationary, Hessian PSD, null
space no larger than the symmetry fibre's tangent space; or zero loss, a
global minimum whatever its Hessian) whose relative loss exceeds the
reference by more than :data:`SPURIOUS_RTOL`.

Runs go through the package's sweep engine (:mod:`qnb._sweep`): any
executor, a checkpoint file per run, and every failure of one run recorded as
its status.
"""

from __future__ import annotations

import math

import clarabel
import numpy as np
from scipy import sparse

from ._sweep import STATUS_ALL_SUCCEEDED, STATUS_SOME_FAILED, check_root_seed, run_sweep
from ._sweep import STATUS_RAISED, STATUS_TIMED_OUT, STATUS_WORKER_LOST  # noqa: F401  (statuses here too)
from ._symmetric import SymmetricCoordinates
from ._validation import as_data, check_choice, check_int, check_positive, check_seed
from .data import instance_rng
from .result import Result
from .two_layer import (
    STATUS_DIVERGED as DESCENT_DIVERGED,
    NetworkLoss,
    gradient_descent,
    polish_stationary_point,
)

LANDSCAPE_CENSUS_SEED = 40_700_000
"""Default root seed of :func:`landscape_census` (and the seed of the book's stored census)."""

LABELS = ("planted", "indefinite", "random")
"""Label kinds of :func:`census_instance`."""

PLANTED_RANK = 3
"""Rows of the Gaussian ``W*`` of a planted teacher ``M* = W*^T W*`` (rank 3 of ``d``)."""

# -- tolerances, named once --------------------------------------------------------------------

TARGET_EIG_RTOL = 1e-9
"""An eigenvalue of a target ``M*`` counts as negative below ``-TARGET_EIG_RTOL`` times the
largest modulus: the zero eigenvalues of a planted ``W*^T W*`` of rank 3 come out of ``eigvalsh``
at ~1e-16 of either sign (their sign differs between processors), while a symmetric Gaussian
``6 x 6`` matrix has an eigenvalue that small with a probability of order 1e-8 (its eigenvalue
density near zero is of order one)."""

DESCENT_RTOL = 1e-5
"""Gradient descent stops at ``||grad L|| <= DESCENT_RTOL * gradient_scale(theta0)``. It only
has to bring the point near its limit, where Levenberg-Marquardt converges quadratically; the
verdict is the polished point's, at ``qnb.two_layer.GTOL = 1e-9``. A tighter value costs steps
(descent converges linearly, slowly at degenerate limits) for a polish that needs none."""

STEP_FACTOR = 0.2
"""Default step ``STEP_FACTOR / (rms(y) * mean ||x||^2)``. The Hessian of the loss scales like
``||M|| * ||x||^4 ~ rms(y) * ||x||^2`` once the network fits labels of size ``rms(y)``. At
``d = 6`` it needs about half the steps of 0.1; about one run in ten of the stored census
needed a halving (``DESCENT_HALVINGS``), which is cheaper than starting every run smaller."""

DESCENT_HALVINGS = 4
"""A run whose descent diverges (the loss rises above its start) is restarted from its start with
half the step; a run whose polished end point is not stationary (descent oscillating near a
sharp limit, seen with random labels at n < 21; or stopped near a saddle it was passing slowly)
goes on from where descent stopped, with half the step and a ten times tighter tolerance. At
most this many times; the step used and the total steps are recorded."""

SPURIOUS_RTOL = 1e-6
"""A certified minimum is spurious when its loss exceeds the reference (global or best known)
by more than ``SPURIOUS_RTOL * L(0)``, ``L(0) = mean(y^2) / 2``. At a point that passes the
stationarity test (``||g|| <= GTOL * scale``, ``GTOL = 1e-9``) the loss is within about
``||g||^2 / (2 mu) <~ 4 GTOL^2 / EIG_RTOL ~ 4e-11`` (relative) of the stationary value, ``mu``
the smallest nonzero Hessian eigenvalue (at least ``EIG_RTOL = 1e-7`` of the largest); the
conic reference is certified to ``GLOBAL_GAP_RTOL = 1e-8``. In the stored census the runs at
their reference are within 3e-11 of it and the spurious minima are 6.5e-5 to 0.24 above it, so
1e-6 sits orders of magnitude from both."""

GLOBAL_GAP_RTOL = 1e-8
"""A conic least-squares minimum is accepted when its duality gap is at most
``GLOBAL_GAP_RTOL * L(0)``. The gap is evaluated from the data (a primal point exactly in the
cone and a feasible dual point), not taken from the solver; Clarabel is asked for 1e-10 and,
after the face refinement, gaps of 1e-13 to 1e-9 are seen at ``d = 6``. A reference certified
to 1e-8 is still a hundred times tighter than ``SPURIOUS_RTOL``."""

FACE_RTOL = 1e-6
"""Eigenvalues of the conic solution above ``FACE_RTOL`` times the largest span the face on which
the least squares is solved again (a second primal candidate; the certificate does not depend
on this cut, only how tight it is). Clarabel's zero eigenvalues ended between 1e-12 and 1e-8 of
the largest in the instances examined."""

# -- statuses ----------------------------------------------------------------------------------

# Status of one run (``instance_status``); and the sweep engine's (qnb._sweep.ENGINE_MESSAGES),
# recomputed on a rerun: STATUS_RAISED = -200, STATUS_TIMED_OUT = -201, STATUS_WORKER_LOST = -202.
STATUS_STATIONARY = 0
STATUS_NOT_STATIONARY = 1
STATUS_DIVERGED = 2
RUN_MESSAGES = {
    STATUS_STATIONARY: "the polished limit is stationary ({kind})",
    STATUS_NOT_STATIONARY: "the polished limit is not stationary: relative gradient {gradient:.3g} "
                           "(descent: {descent})",
    STATUS_DIVERGED: "gradient descent diverged at every step down to {step:.3g}",
}

# How the reference value of an instance was obtained (``global_kind``).
GLOBAL_SYMMETRIC = 0
GLOBAL_CONE = 1
GLOBAL_BEST_KNOWN = 2
GLOBAL_UNKNOWN = 3
GLOBAL_MESSAGES = {
    GLOBAL_SYMMETRIC: "least squares over all symmetric matrices (>= d units of each sign): the global minimum",
    GLOBAL_CONE: "least squares over the PSD or NSD cone (all units of one sign, k >= d), certified: the global "
                 "minimum",
    GLOBAL_BEST_KNOWN: "the best certified minimum among the instance's runs: an upper bound, not known to be "
                       "the global minimum",
    GLOBAL_UNKNOWN: "no reference: no certified run, or the conic solve was not certified",
}

# Status of a census (``status``).
MESSAGES = {
    STATUS_ALL_SUCCEEDED: "all {total} runs ended at a verified stationary point",
    STATUS_SOME_FAILED: "{failed} of {total} runs did not end at a verified stationary point: {details}",
}

# Per-run fields of a record (and of book/data/landscape_census.npz).
RUN_FIELDS = ("relative_loss", "relative_gradient", "relative_min_eigenvalue", "negative", "null",
              "symmetry_dimension", "stationary", "certified_minimum", "zero_loss", "descent_steps",
              "descent_status", "step")
_NAN_FIELDS = ("relative_loss", "relative_gradient", "relative_min_eigenvalue", "step")
_INT_FIELDS = ("negative", "null", "symmetry_dimension", "descent_steps", "descent_status")
_BOOL_FIELDS = ("stationary", "certified_minimum", "zero_loss")


# -- instances ---------------------------------------------------------------------------------

def output_weights(k, negatives):
    """The fixed output weights: ``-1`` on the first ``negatives`` units, ``+1`` on the other ``k - negatives``.

    Examples
    --------
    >>> output_weights(4, 1)
    array([-1.,  1.,  1.,  1.])
    """
    k = check_int(k, "k")
    negatives = check_int(negatives, "negatives", minimum=0)
    if negatives > k:
        raise ValueError(f"negatives must be at most k = {k}, got {negatives}")
    return np.concatenate([-np.ones(negatives), np.ones(k - negatives)])


def negative_eigenvalues(M):
    """Eigenvalues of the symmetric ``M`` below ``-TARGET_EIG_RTOL`` times the largest modulus.

    Examples
    --------
    >>> negative_eigenvalues(np.diag([2.0, -1.0, -1e-15]))
    1
    """
    lam = np.linalg.eigvalsh(M)
    return int(np.sum(lam < -TARGET_EIG_RTOL * max(float(np.max(np.abs(lam))), 1e-300)))


def _target(rng, d, labels, min_target_negatives):
    """``M*`` of unit Frobenius norm (``None`` for random labels), drawn after the inputs."""
    if labels == "planted":
        W_star = rng.standard_normal((PLANTED_RANK, d))
        M = W_star.T @ W_star
    elif labels == "indefinite":
        # Redraw until M* has the negative eigenvalues asked for (rejection: the law of the
        # symmetric Gaussian matrix conditioned on its inertia).
        for _ in range(1000):
            G = rng.standard_normal((d, d))
            M = 0.5 * (G + G.T)
            if negative_eigenvalues(M) >= min_target_negatives:
                break
        else:  # pragma: no cover - probability below 1e-100 for the sizes allowed
            raise RuntimeError(f"no target with {min_target_negatives} negative eigenvalues in 1000 draws")
    else:
        return None
    return M / np.linalg.norm(M)


def census_instance(d, n, labels, instance, rng=LANDSCAPE_CENSUS_SEED, min_target_negatives=0):
    """Inputs, labels and target of instance ``instance`` of :func:`landscape_census`.

    From :func:`qnb.instance_rng` ``(rng, instance)``: the inputs ``X``
    (``n x d``, standard Gaussian), then the target, normalised to
    ``||M*||_F = 1``:

    * ``'planted'``: ``M* = W*^T W*`` with ``W*`` a Gaussian ``PLANTED_RANK x d``
      matrix (PSD, rank 3), ``y_i = x_i^T M* x_i``;
    * ``'indefinite'``: ``M* = (G + G^T) / 2`` with ``G`` a Gaussian ``d x d``
      matrix (eigenvalues of both signs), ``y_i = x_i^T M* x_i``; redrawn
      until ``M*`` has at least ``min_target_negatives`` negative eigenvalues;
    * ``'random'``: ``y_i`` i.i.d. ``N(0, 2)``, the variance of ``x^T M x``
      for a traceless ``M`` of unit Frobenius norm; ``M*`` is ``None``.

    Parameters
    ----------
    d, n : int
        Input dimension and number of samples.
    labels : {'planted', 'indefinite', 'random'}
    instance : int
        Index of the instance (non-negative).
    rng : int
        The census's root seed.
    min_target_negatives : int
        For ``'indefinite'``: the least number of negative eigenvalues of ``M*``.

    Returns
    -------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    M_star : ndarray, shape (d, d), or None

    Examples
    --------
    >>> import numpy as np
    >>> X, y, M = census_instance(4, 10, "indefinite", 0, rng=1, min_target_negatives=2)
    >>> X.shape, negative_eigenvalues(M) >= 2
    ((10, 4), True)
    """
    d, n = check_int(d, "d"), check_int(n, "n")
    labels = check_choice(labels, "labels", LABELS)
    instance = check_int(instance, "instance", minimum=0)
    min_target_negatives = check_int(min_target_negatives, "min_target_negatives", minimum=0)
    if min_target_negatives > d:
        raise ValueError(f"min_target_negatives must be at most d = {d}, got {min_target_negatives}")
    if min_target_negatives and labels != "indefinite":
        raise ValueError(f"min_target_negatives applies to labels='indefinite' only, not {labels!r}")
    rng = instance_rng(check_seed(rng, "rng"), instance)
    X = rng.standard_normal((n, d))
    M = _target(rng, d, labels, min_target_negatives)
    y = math.sqrt(2.0) * rng.standard_normal(n) if M is None else np.einsum("ia,ab,ib->i", X, M, X)
    return X, y, M


# -- the reference value -----------------------------------------------------------------------

def _features(X, coords):
    """``Phi`` with ``Phi @ svec(M) = (x_i^T M x_i)_i`` (``svec``: Frobenius-orthonormal coordinates)."""
    return coords.svec(np.einsum("ia,ib->iab", X, X))


def _symmetric_minimum(Phi, y):
    """Least squares over all symmetric matrices: the value, and a bound on its error.

    The error bound is the value minus the minimum, ``||P r||^2 / (2n)`` with ``P`` the
    projection on the range of ``Phi`` (zero in exact arithmetic at the solution).
    """
    n = y.size
    m, *_ = np.linalg.lstsq(Phi, y, rcond=None)
    r = Phi @ m - y
    Q, _ = np.linalg.qr(Phi)
    return float(r @ r) / (2 * n), float(np.sum((Q.T @ r) ** 2)) / (2 * n)


def _clarabel_order(d):
    """Index of each ``SymmetricCoordinates`` entry in Clarabel's PSD triangle (upper, column by column)."""
    rows, cols = np.triu_indices(d)
    return np.lexsort((rows, cols))


def _cone_minimum(X, y, coords):
    """Least squares over the PSD cone, by Clarabel, with a dual certificate.

    Two primal candidates, each exactly in the cone: Clarabel's point with its
    negative eigenvalues clipped, and the least squares on the face spanned by
    its clearly nonzero eigenvectors (clipped again). Each residual gives a
    dual point (:func:`_dual_value`). Returns the least candidate value and
    its distance to the largest dual value, a bound on its error; ``inf``
    when the solver returned no point.
    """
    n = y.size
    order = _clarabel_order(coords.d)
    Phi = _features(X, coords)[:, order]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    # 1e-10: tighter requests end 'AlmostSolved' at an earlier iterate on some instances.
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-10
    p = coords.size
    solver = clarabel.DefaultSolver(sparse.csc_matrix(np.triu(Phi.T @ Phi / n)), -Phi.T @ y / n,
                                    sparse.csc_matrix(-np.eye(p)), np.zeros(p),
                                    [clarabel.PSDTriangleConeT(coords.d)], settings)
    x = np.asarray(solver.solve().x, dtype=float)
    if x.shape != (p,) or not np.all(np.isfinite(x)):
        return math.inf, math.inf
    s = np.empty(p)
    s[order] = x
    lam, U = np.linalg.eigh(coords.smat(s))
    candidates = [_clip(lam, U), _face_fit(X, y, U[:, lam > FACE_RTOL * max(lam[-1], 1e-300)])]
    values, duals = [], []
    for M in candidates:
        r = np.einsum("ia,ab,ib->i", X, M, X) - y
        values.append(float(r @ r) / (2 * n))
        duals.append(_dual_value(X, y, r / n))
    best = min(values)
    return best, best - max(duals)


def _clip(lam, U):
    """``U diag(max(lam, 0)) U^T``: exactly in the PSD cone."""
    return (U * np.clip(lam, 0.0, None)) @ U.T


def _face_fit(X, y, U):
    """Least squares over ``U C U^T``, ``C`` symmetric, clipped to the cone (``U``: orthonormal columns)."""
    if U.shape[1] == 0:
        return np.zeros((X.shape[1], X.shape[1]))
    face = SymmetricCoordinates(U.shape[1])
    c, *_ = np.linalg.lstsq(_features(X @ U, face), y, rcond=None)
    lam, V = np.linalg.eigh(face.smat(c))
    return U @ _clip(lam, V) @ U.T


def _dual_value(X, y, u):
    """A lower bound on the PSD least squares from dual weights ``u`` (made feasible by a shift).

    The dual of ``min (1/2n) ||A(M) - y||^2`` over PSD ``M`` is
    ``max -(n/2) ||u||^2 - u.y`` over ``u`` with ``sum_i u_i x_i x_i^T`` PSD. If the
    matrix of ``u = r / n`` has a negative eigenvalue ``-e``, adding ``t / n`` to every
    weight, ``t = e / lambda_min(X^T X / n)``, makes it PSD.
    """
    n = y.size
    Z = np.einsum("i,ia,ib->ab", u, X, X)
    e = max(0.0, -float(np.linalg.eigvalsh(Z)[0]))
    if e > 0:
        s = float(np.linalg.eigvalsh(X.T @ X / n)[0])
        if s <= 0:
            return -math.inf
        u = u + (e / s) * (1 + 1e-12) / n  # the factor covers the round-off of the two eigenvalues
    return -0.5 * n * float(u @ u) - float(u @ y)


def network_global_minimum(X, y, k, negatives):
    """The least training loss of a quadratic network with fixed output weights, where it is convex.

    The network ``x^T W^T diag(v) W x`` with ``v`` from :func:`output_weights`
    ``(k, negatives)`` represents exactly the symmetric matrices with at most
    ``k - negatives`` positive and at most ``negatives`` negative eigenvalues.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    k, negatives : int
        Hidden units and how many of them have ``v_j = -1``.

    Returns
    -------
    Result
        ``loss`` (``(1/2n) sum_i (x_i^T M x_i - y_i)^2`` at the minimiser),
        ``relative_loss`` (divided by ``L(0) = mean(y^2) / 2``), ``gap`` (a
        bound on ``loss`` minus the minimum, relative to ``L(0)``), ``kind``
        (:data:`GLOBAL_SYMMETRIC`, :data:`GLOBAL_CONE`, or
        :data:`GLOBAL_BEST_KNOWN` when no convex description applies, with
        NaN values), ``success`` (a certified minimum), ``status`` (0, or 1
        not certified, 2 not convex here) and ``message``.

    Notes
    -----
    With at least ``d`` units of each sign every symmetric ``M`` is reached,
    and the minimum is linear least squares. With all ``k >= d`` units of one
    sign the set is the PSD (or NSD: flip ``y``) cone; the dual of the conic
    problem is ``max -(n/2)||u||^2 - u.y`` over weights ``u`` with
    ``sum_i u_i x_i x_i^T`` PSD, and ``u = r / n`` (the residual of the
    primal point) is dual feasible at the optimum, with gap ``<G, M>``; its
    dual value is a certified lower bound (after a shift that removes
    round-off negativity), so ``gap`` bounds the error of ``loss``.

    Examples
    --------
    >>> import numpy as np
    >>> X, y, _ = census_instance(3, 20, "indefinite", 0, rng=2)
    >>> float(network_global_minimum(X, y, 6, 3).relative_loss) < 1e-20
    True
    >>> cone = network_global_minimum(X, y, 6, 0)
    >>> bool(cone.success), bool(cone.relative_loss > 0.01), bool(cone.gap < 1e-9)
    (True, True, True)
    """
    X, y = as_data(X, y)
    n, d = X.shape
    v = output_weights(k, negatives)
    k, negatives = v.size, int(np.sum(v < 0))
    positives = k - negatives
    reference = float(y @ y) / (2 * n)
    coords = SymmetricCoordinates(d)
    if positives >= d and negatives >= d:
        kind = GLOBAL_SYMMETRIC
        loss, gap = _symmetric_minimum(_features(X, coords), y)
    elif k >= d and (negatives == 0 or positives == 0):
        kind = GLOBAL_CONE
        if n < d or np.linalg.matrix_rank(X) < d:
            loss, gap = math.inf, math.inf  # the dual shift needs X^T X positive definite
        else:
            loss, gap = _cone_minimum(X, y if negatives == 0 else -y, coords)
    else:
        return Result(success=False, status=2, message=GLOBAL_MESSAGES[GLOBAL_BEST_KNOWN], loss=math.nan,
                      relative_loss=math.nan, gap=math.nan, kind=GLOBAL_BEST_KNOWN)
    scale = reference if reference > 0 else 1.0
    relative, gap = loss / scale, gap / scale
    ok = bool(math.isfinite(loss) and gap <= GLOBAL_GAP_RTOL)
    message = GLOBAL_MESSAGES[kind] if ok else f"not certified: relative gap {gap:.3g} > {GLOBAL_GAP_RTOL:g}"
    return Result(success=ok, status=0 if ok else 1, message=message, loss=loss, relative_loss=relative,
                  gap=gap, kind=kind)


# -- one run -----------------------------------------------------------------------------------

def default_step(X, y):
    """``STEP_FACTOR / (rms(y) * mean ||x||^2)``: the first step size tried (see ``STEP_FACTOR``)."""
    X, y = as_data(X, y)
    rms = math.sqrt(float(np.mean(y * y)))
    return STEP_FACTOR / (max(rms, 1e-300) * float(np.mean(np.sum(X * X, axis=1))))


def _blank(task):
    """Fields of a run without a result: NaN, -1 and False."""
    return ({key: math.nan for key in _NAN_FIELDS} | {key: -1 for key in _INT_FIELDS}
            | {key: False for key in _BOOL_FIELDS})


def _stationary_limit(loss, theta0, step, max_steps):
    """Descent to ``DESCENT_RTOL``, polish, report; the step halved after a failed attempt.

    An attempt fails when the descent diverges (the loss rises above its
    start: the next attempt starts again from ``theta0``) or when the polished
    point is not stationary. Then the next attempt goes on from where the
    descent stopped, with a tolerance ten times tighter: a step slightly too
    large for the curvature near the limit makes descent oscillate there
    without raising the loss (the smaller step settles it), and descent that
    stopped on the slow passage by a saddle, where the polish cannot
    converge, has to go on past it. Returns the last descent, the report at
    its polished point (``None`` after a divergence), the step used and the
    total steps.
    """
    gtol = DESCENT_RTOL * loss.gradient_scale(theta0)
    theta, total = theta0, 0
    for attempt in range(DESCENT_HALVINGS + 1):
        if attempt:
            step /= 2
        descent = gradient_descent(loss, theta, step, gtol=gtol, max_steps=max_steps, record_every=50)
        total += descent.nsteps
        if descent.status == DESCENT_DIVERGED:
            theta, report = theta0, None
            continue
        report = loss.stationarity(polish_stationary_point(loss, descent.theta))
        if report.stationary:
            break
        theta, gtol = descent.theta, gtol / 10
    return descent, report, step, total


def census_run(d, k, negatives, labels, n, instance, start, *, rng=LANDSCAPE_CENSUS_SEED, min_target_negatives=0,
               step=None, max_steps=20_000):
    """Run ``(instance, start)`` of :func:`landscape_census` alone.

    Instance ``instance`` is :func:`census_instance`; the start is
    :meth:`qnb.NetworkLoss.random_start` with :func:`qnb.instance_rng`
    ``(rng, instance, start)``. Gradient descent with step ``step`` (default
    :func:`default_step`) runs until ``||grad L|| <= DESCENT_RTOL`` times the
    gradient scale at the start (or ``max_steps``), then
    :func:`qnb.polish_stationary_point`, then
    :meth:`qnb.NetworkLoss.stationarity`; a divergence, or a polished point
    that is not stationary, repeats the descent with half the step (at most
    ``DESCENT_HALVINGS`` times): from the start after a divergence, else
    from where the descent stopped and to a ten times tighter tolerance;
    ``descent_steps`` counts all the steps.

    Returns
    -------
    Result
        The fields of one run of :func:`landscape_census` (``relative_loss``,
        ``relative_gradient``, ``relative_min_eigenvalue``, ``negative``,
        ``null``, ``symmetry_dimension``, ``stationary``,
        ``certified_minimum``, ``zero_loss``, ``descent_steps``,
        ``descent_status``, ``step``), ``success`` (a verified stationary
        point), ``status`` (:data:`RUN_MESSAGES`) and ``message``.

    Examples
    --------
    >>> run = census_run(3, 6, 3, "planted", 12, 0, 0, rng=4)
    >>> bool(run.success), bool(run.zero_loss)
    (True, True)
    """
    d, n = check_int(d, "d"), check_int(n, "n")
    v = output_weights(k, negatives)
    task = {"d": d, "k": int(v.size), "negatives": int(np.sum(v < 0)),
            "labels": check_choice(labels, "labels", LABELS), "n": n, "seed": check_seed(rng, "rng"),
            "min_target_negatives": check_int(min_target_negatives, "min_target_negatives", minimum=0),
            "step": None if step is None else check_positive(step, "step"),
            "max_steps": check_int(max_steps, "max_steps"),
            "instance": check_int(instance, "instance", minimum=0), "start": check_int(start, "start", minimum=0)}
    return Result(_run(task))


def _run(task):
    """One run (``task``: a plain dict, see :func:`landscape_census`): descent, polish and report."""
    X, y, _ = census_instance(task["d"], task["n"], task["labels"], task["instance"], task["seed"],
                              task["min_target_negatives"])
    loss = NetworkLoss(X, y, "quadratic", v=output_weights(task["k"], task["negatives"]))
    theta0 = loss.random_start(instance_rng(task["seed"], task["instance"], task["start"]))
    step = default_step(X, y) if task["step"] is None else task["step"]
    descent, report, step, total = _stationary_limit(loss, theta0, step, task["max_steps"])
    if report is None:
        return _blank(task) | {"success": False, "status": STATUS_DIVERGED, "step": step,
                               "descent_steps": int(total), "descent_status": int(descent.status),
                               "message": RUN_MESSAGES[STATUS_DIVERGED].format(step=step)}
    lam = report.eigenvalues
    gradient = report.gradient_norm / report.gradient_scale if report.gradient_scale > 0 else math.inf
    status = STATUS_STATIONARY if report.stationary else STATUS_NOT_STATIONARY
    kind = ("certified minimum" if report.certified_minimum
            else f"{report.negative} negative and {report.null} null Hessian eigenvalues")
    return {
        "success": status == STATUS_STATIONARY, "status": status,
        "message": RUN_MESSAGES[status].format(kind=kind, gradient=gradient, descent=descent.message),
        "relative_loss": float(report.relative_loss), "relative_gradient": float(gradient),
        "relative_min_eigenvalue": float(lam[0] / max(float(np.max(np.abs(lam))), 1e-300)),
        "negative": int(report.negative), "null": int(report.null),
        "symmetry_dimension": int(report.symmetry_dimension), "stationary": bool(report.stationary),
        "certified_minimum": bool(report.certified_minimum), "zero_loss": bool(report.zero_loss),
        "descent_steps": int(total), "descent_status": int(descent.status), "step": float(step),
    }


# -- the census --------------------------------------------------------------------------------

def _references(params, instances, records_loss, certified):
    """Per instance: the reference loss (relative), its kind and its gap."""
    kinds = np.empty(instances, dtype=int)
    values, gaps = np.full(instances, np.nan), np.full(instances, np.nan)
    targets = np.full(instances, -1, dtype=int)
    for i in range(instances):
        X, y, M = census_instance(params["d"], params["n"], params["labels"], i, params["seed"],
                                  params["min_target_negatives"])
        if M is not None:
            targets[i] = negative_eigenvalues(M)
        best = network_global_minimum(X, y, params["k"], params["negatives"])
        if best.success:
            kinds[i], values[i], gaps[i] = best.kind, best.relative_loss, best.gap
        elif best.kind == GLOBAL_BEST_KNOWN and np.any(certified[i]):
            kinds[i], values[i] = GLOBAL_BEST_KNOWN, float(np.min(records_loss[i][certified[i]]))
        else:
            kinds[i] = GLOBAL_UNKNOWN
    return values, kinds, gaps, targets


def landscape_census(d, k, negatives, labels, n, runs, *, instances=10, rng=LANDSCAPE_CENSUS_SEED,
                     min_target_negatives=0, executor=None, checkpoint=None, progress=False, step=None,
                     max_steps=20_000, instance_timeout=None):
    """Where gradient descent ends, over ``instances`` data sets and ``runs`` starts each.

    Parameters
    ----------
    d : int
        Input dimension.
    k : int
        Hidden units.
    negatives : int
        Units with output weight ``-1`` (the other ``k - negatives`` have ``+1``).
        Theorem 2.1's condition is ``negatives >= d`` and ``k - negatives >= d``.
    labels : {'planted', 'indefinite', 'random'}
        Label kind (:func:`census_instance`).
    n : int
        Samples per instance.
    runs : int
        Starts per instance.
    instances : int
        Data sets.
    rng : None, int or numpy.random.Generator
        Root seed (default :data:`LANDSCAPE_CENSUS_SEED`). Instance ``i`` is
        :func:`census_instance` ``(d, n, labels, i, seed)``; its start ``s`` is
        ``NetworkLoss.random_start(instance_rng(seed, i, s))``. ``None`` draws
        a seed (printed, so the census can be resumed); the seed used is
        returned as ``seed``.
    min_target_negatives : int
        For ``'indefinite'`` labels: the least number of negative eigenvalues
        of ``M*`` (redrawn until met).
    executor, checkpoint, progress, instance_timeout
        As for :func:`qnb.recovery_probability`: where runs go (default
        ``None``, a process pool), a directory of one file per finished run
        from which an interrupted census resumes, progress lines on
        ``sys.stderr``, and a time limit per run.
    step : float, optional
        First step size of gradient descent; default :func:`default_step` of
        the instance. After a divergence, or an end point that the polish
        cannot make stationary, the step is halved (``DESCENT_HALVINGS``).
    max_steps : int
        Cap on the gradient-descent steps of one run.

    Returns
    -------
    Result
        Per run, arrays of shape ``(instances, runs)``: ``relative_loss``
        (``L / L(0)``), ``relative_gradient`` (``||grad L||`` over its scale,
        see ``qnb.two_layer.GTOL``), ``relative_min_eigenvalue`` (smallest
        Hessian eigenvalue over the largest modulus; round-off sized at a
        degenerate minimum), ``negative`` and ``null`` (Hessian eigenvalue
        counts), ``symmetry_dimension``, ``stationary``,
        ``certified_minimum``, ``zero_loss``, ``descent_steps``,
        ``descent_status``, ``step`` (the step used), ``at_reference``
        (relative loss within :data:`SPURIOUS_RTOL` of the reference) and
        ``spurious`` (a certified minimum above it). Per instance:
        ``reference_loss`` (relative), ``reference_kind``
        (:data:`GLOBAL_MESSAGES`), ``reference_gap`` and ``target_negatives``
        (negative eigenvalues of ``M*``; -1 for random labels). Counts
        ``n_runs``, ``n_stationary``, ``n_certified``, ``n_spurious``,
        ``n_zero_loss``; the summary fields of every sweep
        (``instance_success``, ``instance_status`` with :data:`RUN_MESSAGES`,
        ``instance_seconds``, ``n_failed``, ``n_loaded``, ``success``,
        ``status``, ``message``; the sweep engine's "instance" is a run here,
        so the same three arrays are also ``run_success``, ``run_status`` and
        ``run_seconds``), and the parameters (``step`` under the name
        ``first_step``: ``None`` for the default).

    Examples
    --------
    >>> res = landscape_census(3, 6, 3, "indefinite", 12, 2, instances=2, rng=4, executor="serial")
    >>> res.relative_loss.shape, bool(res.success), int(res.n_spurious), bool(res.zero_loss.all())
    ((2, 2), True, 0, True)
    """
    d, n = check_int(d, "d"), check_int(n, "n")
    v = output_weights(k, negatives)
    runs, instances = check_int(runs, "runs"), check_int(instances, "instances")
    seed = check_root_seed(rng)
    params = {"d": d, "k": int(v.size), "negatives": int(np.sum(v < 0)),
              "labels": check_choice(labels, "labels", LABELS), "n": n, "seed": seed,
              "min_target_negatives": check_int(min_target_negatives, "min_target_negatives", minimum=0),
              "step": None if step is None else check_positive(step, "step"),
              "max_steps": check_int(max_steps, "max_steps")}
    census_instance(d, n, labels, 0, seed, params["min_target_negatives"])  # the instance's own checks, up front
    tasks = [params | {"instance": i, "start": s} for i in range(instances) for s in range(runs)]
    records = run_sweep("landscape_census", _run, tasks, index=("instance", "start"), executor=executor,
                        checkpoint=checkpoint, progress=progress, unit="runs",
                        label=f"landscape_census(d={d}, k={params['k']}, negatives={params['negatives']}, "
                              f"{labels}, n={n})",
                        instance_timeout=instance_timeout, blank=_blank,
                        drawn_seed=seed if rng is None else None)
    shape = (instances, runs)
    fields = {key: records.array(key, shape) for key in RUN_FIELDS}
    fields = {key: fields[key].astype(bool) if key in _BOOL_FIELDS else fields[key] for key in fields}
    summary = records.summary(shape, MESSAGES)
    ok = summary["instance_success"]
    certified = fields["certified_minimum"] & ok
    values, kinds, gaps, targets = _references(params, instances, fields["relative_loss"], certified)
    with np.errstate(invalid="ignore"):
        above = fields["relative_loss"] > values[:, None] + SPURIOUS_RTOL
        at_reference = ok & (fields["relative_loss"] <= values[:, None] + SPURIOUS_RTOL)
    spurious = certified & above
    return Result(summary, run_success=ok, run_status=summary["instance_status"],
                  run_seconds=summary["instance_seconds"], **fields, at_reference=at_reference, spurious=spurious, reference_loss=values,
                  reference_kind=kinds, reference_gap=gaps, target_negatives=targets,
                  n_runs=instances * runs, n_stationary=int(np.sum(ok)), n_certified=int(np.sum(certified)),
                  n_spurious=int(np.sum(spurious)), n_zero_loss=int(np.sum(fields["zero_loss"] & ok)),
                  **{key: params[key] for key in params if key != "step"}, first_step=params["step"],
                  instances=instances, runs=runs)
