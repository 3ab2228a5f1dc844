"""Statistical-dimension predictions of the recovery thresholds of a low-rank PSD teacher.

A rank-``r`` positive semidefinite teacher ``A*`` (``d x d``) is measured by
``n`` quadratic measurements ``y_k = x_k^T A* x_k = <x_k x_k^T, A*>`` with
standard Gaussian ``x_k``. Two questions have sharp thresholds in ``n``:

* **PhaseLift**: trace minimisation over the PSD matrices that fit the data
  returns ``A*``;
* **uniqueness**: ``A*`` is the only PSD matrix that fits the data (the
  question :func:`qnb.is_unique_minimizer` decides for one data set).

Both fail exactly when the null space of the measurement map meets a convex
cone ``C`` nontrivially: the descent cone ``D`` of ``f = trace + indicator(PSD)``
at ``A*`` for PhaseLift, the tangent cone ``T`` of the PSD cone at ``A*`` for
uniqueness. For a uniformly random subspace of codimension ``m`` that happens
with a probability jumping from about 0 to about 1 at ``m = delta(C)``, the
statistical dimension ``delta(C) = E dist^2(G, C°)`` (``C°`` the polar cone,
``G`` standard Gaussian); Amelunxen, Lotz, McCoy and Tropp, "Living on the
edge" (2014). This module computes these predictions at finite ``d`` by Monte
Carlo.

Notation. ``Sym(d)`` carries the Frobenius inner product. A standard Gaussian
``G`` in ``Sym(d)`` has ``<G, H> ~ N(0, ||H||_F^2)``: diagonal entries
``N(0, 1)``, off-diagonal entries ``N(0, 1/2)``, ``G = (B + B^T) / 2`` with
``B`` iid ``N(0, 1)``. In an eigenbasis ``[U1, U0]`` of ``A*`` (``U1`` its
range, ``U0`` its null space, ``s = d - r``) ``G`` has blocks ``G11``
(``r x r``), ``G12`` (``r x s``) and ``G22`` (``s x s``); the statistics below
do not depend on the basis, so it is the standard one.

The cones. ``T = {H : U0^T H U0 PSD}`` and ``D = T ∩ {tr H <= 0}``; their
polars (normal cones) are ``N_T = {-U0 P U0^T : P PSD}`` and
``N_D = N_T + R_+ I = {tau I - U0 P U0^T : tau >= 0, P PSD}``. For fixed
``tau`` the best ``P`` is the projection of ``tau I_s - G22`` onto the PSD
cone, which leaves the positive part of ``G22 - tau I_s``; so

    ``dist^2(G, N_D) = 2 ||G12||^2 + min_{tau >= 0} [ ||G11 - tau I_r||^2
    + sum_i (lambda_i(G22) - tau)_+^2 ]``,

and ``dist^2(G, N_T)`` is the same bracket at ``tau = 0``. The bracket is a
convex piecewise quadratic in ``tau`` with breakpoints at the eigenvalues of
``G22``; :func:`tau_minimizer` solves it exactly. ``E 2 ||G12||^2 = r s``, so
only the bracket needs Monte Carlo; its ``G22`` eigenvalues are drawn from
the Dumitriu–Edelman tridiagonal model (``beta = 1``), whose cost is
``O(s^2)`` instead of the ``O(s^3)`` of a dense matrix. ``delta(T)`` needs no
Monte Carlo: ``E sum_i lambda_i(G22)_+^2 = E ||G22||^2 / 2``, so
``delta(T) = r (r + 1) / 2 + r s + s (s + 1) / 4``, the ``d^2 / 4`` of
centred measurements (ellipsoid fitting).

The mean of the measurements. ``x x^T`` is not centred: ``E x x^T = I`` and
``Var <x x^T, H> = 2 ||H||_F^2``. Assuming universality, the measurements act
like ``M_k = I + sqrt(2) W_k`` with ``W_k`` iid standard Gaussian. Their span
is ``span{Mbar} + span{M_k - Mbar}`` with ``Mbar = I + sqrt(2) Wbar``,
``Wbar ~ W' / sqrt(n)`` (``W'`` standard Gaussian), and the ``n - 1``
deviations span a uniformly random ``(n - 1)``-dimensional subspace independent
of ``Mbar``. The null space of the measurements is thus ``L ∩ h^perp`` with
``L`` uniformly random of codimension ``n - 1`` and ``h = I + sqrt(2 / n) W'``
(a multiple of ``Mbar``), and the prediction is
``n - 1 = delta(C ∩ h^perp) = E dist^2(G, C° + R h)``, averaged over ``h``
too (the polar of an intersection is the sum of the polars). With ``h``
depending on ``n``, the threshold is the fixed point
``n = 1 + delta(C ∩ h_n^perp)``, which :func:`predicted_threshold` iterates.

For ``h = I`` exactly (``Wbar`` ignored) the two cones give the same value:
``N_D + R I = N_T + R I = {sigma I - U0 P U0^T : sigma in R}``, because the
free multiple of ``I`` absorbs the constraint ``tau >= 0``, the only
difference between ``N_D`` and ``N_T``. The predictions of PhaseLift and of
uniqueness therefore differ only through ``Wbar``. (The uniqueness value is
continuous at ``h = I``; the PhaseLift value is not, because ``I`` lies in
``N_D``: as ``h = I + eps W' -> I``, coefficients ``gamma`` of order
``-1/eps`` keep ``gamma eps W'`` finite while ``tau = -gamma`` absorbs
``gamma I``.)

References: Chandrasekaran, Recht, Parrilo and Willsky (2012) and Amelunxen
et al. (2014) give ``delta(D) / (r d) -> 3`` for centred measurements; Abbasi,
Salehi and Hassibi (NeurIPS 2019) give ``3 r d`` rank-one measurements for
trace minimisation. Neither limit is assumed here; the finite-``d`` values are
measured.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.linalg import eigvalsh_tridiagonal
from scipy.optimize import minimize_scalar

from ._validation import as_symmetric, check_choice, check_int, check_positive, check_seed
from .data import instance_rng
from .result import Result

PROBLEMS = ("phaselift", "uniqueness")

STATUS_SUCCESS = 0
STATUS_NOT_CONVERGED = 1
STATUS_MINIMIZER_FAILED = 2

MESSAGES = {
    STATUS_SUCCESS: "estimated",
    STATUS_NOT_CONVERGED: ("fixed point not converged: 1 + delta(n) - n = {residual:.3g} at the last "
                           "point, more than the Monte Carlo standard error {stderr:.3g}; raise iterations"),
    STATUS_MINIMIZER_FAILED: "the scalar minimisation over gamma failed for {failed} of {total} draws",
}

#: Tolerance on each squared distance of :func:`normal_cone_distance` when ``h`` is given.
DISTANCE_TOL = 1e-8


# --- argument checks --------------------------------------------------------------------

def _check_sizes(d, r):
    d = check_int(d, "d", minimum=2)
    r = check_int(r, "r", minimum=1)
    if r >= d:
        raise ValueError(
            f"r must be < d, got r = {r} and d = {d}: at full rank the descent cone is the "
            f"half-space {{tr H <= 0}} (statistical dimension d(d+1)/2 - 1/2) and the tangent "
            f"cone is all of Sym(d), so there is nothing to estimate")
    return d, r


def _seed(rng):
    """The seed used, as a non-negative int: drawn when ``rng`` is None or a Generator.

    The same rule as the sweeps' root seed, so ``rng=res.seed`` repeats a call.
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63))
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"rng must be None, a non-negative integer or a numpy Generator, "
                        f"got {type(rng).__name__}")
    return check_seed(rng, "rng")


# --- the exact minimisation over tau ------------------------------------------------------

def tau_minimizer(trace, r, mu, lower=0.0):
    """Minimise ``r tau^2 - 2 trace tau + sum_i (mu_i - tau)_+^2`` over ``tau >= lower``.

    This is ``||G11 - tau I_r||^2 + sum_i (lambda_i(G22) - tau)_+^2`` up to the
    constant ``||G11||^2``, with ``trace = tr G11`` and ``mu`` the eigenvalues
    of ``G22``. The function is convex and piecewise quadratic with
    breakpoints at the ``mu_i``; its derivative is ``2 g(tau)`` with
    ``g(tau) = r tau - trace - sum_i (mu_i - tau)_+``, strictly increasing.
    With ``mu`` sorted in decreasing order, ``g(mu_j) > 0`` exactly for the
    ``k`` eigenvalues above the minimiser, where
    ``tau* = (trace + mu_1 + ... + mu_k) / (r + k)``; the constrained
    minimiser is ``max(tau*, lower)``. Exact, no iteration.

    Parameters
    ----------
    trace : float or array_like, shape (m,)
        ``tr G11`` of each of ``m`` problems.
    r : int
        The weight of ``tau^2`` (the size of ``G11``), ``>= 1``.
    mu : array_like, shape (s,) or (m, s)
        The breakpoints of each problem, in any order (``s`` may be 0).
    lower : float or array_like, shape (m,)
        Lower bound on ``tau``; ``-inf`` for none.

    Returns
    -------
    float or ndarray, shape (m,)
        The minimising ``tau``.

    Examples
    --------
    With no breakpoint above it the minimiser of ``tau^2 - 2 tau`` is 1; a
    breakpoint at 3 pulls it to ``(1 + 3) / 2``:

    >>> float(tau_minimizer(1.0, 1, [-1.0])), float(tau_minimizer(1.0, 1, [3.0]))
    (1.0, 2.0)
    >>> float(tau_minimizer(-1.0, 1, [-2.0]))
    0.0
    """
    r = check_int(r, "r", minimum=1)
    trace = np.asarray(trace, dtype=float)
    mu = np.asarray(mu, dtype=float)
    scalar = trace.ndim == 0 and mu.ndim <= 1
    trace = np.atleast_1d(trace)
    mu = np.atleast_2d(mu) if mu.ndim == 1 else mu
    if mu.ndim != 2:
        raise ValueError(f"mu must be 1- or 2-dimensional, got shape {mu.shape}")
    mu = -np.sort(-mu, axis=1)
    j = np.arange(1, mu.shape[1] + 1)
    partial = np.cumsum(mu, axis=1)
    before = partial - mu  # mu_1 + ... + mu_{j-1}
    g = r * mu - trace[:, None] - (before - (j - 1) * mu)
    k = np.count_nonzero(g > 0, axis=1)
    top = np.concatenate([np.zeros((mu.shape[0], 1)), partial], axis=1)
    tau = (trace + np.take_along_axis(top, k[:, None], axis=1)[:, 0]) / (r + k)
    tau = np.maximum(tau, lower)
    return float(tau[0]) if scalar else tau


def _bracket_value(norm11, trace, r, mu, tau):
    """``||G11 - tau I||^2 + sum (mu - tau)_+^2`` from ``||G11||^2``, ``tr G11`` and ``mu``."""
    tau = np.asarray(tau, dtype=float)
    excess = np.maximum(np.asarray(mu) - tau[..., None], 0.0)
    return norm11 - 2 * tau * trace + r * tau**2 + np.sum(excess**2, axis=-1)


# --- one squared distance -----------------------------------------------------------------

class _Blocks:
    """The block data of ``X`` that the distance to ``N_D`` or ``N_T`` needs."""

    def __init__(self, X, r):
        self.norm11 = float(np.sum(X[:r, :r] ** 2))
        self.trace = float(np.trace(X[:r, :r]))
        self.cross = float(2 * np.sum(X[:r, r:] ** 2))
        self.X22 = X[r:, r:]


def _centred_distance(X, r, problem, lower=0.0):
    """``dist^2(X, N_D)`` (``tau >= lower``) or ``dist^2(X, N_T)`` for ``X`` in the eigenbasis."""
    b = _Blocks(X, r)
    mu = np.linalg.eigvalsh(b.X22)
    if problem == "phaselift":
        tau = tau_minimizer(b.trace, r, mu, lower)
    else:
        tau = 0.0
    return b.cross + float(_bracket_value(b.norm11, b.trace, r, mu, tau))


class _GammaProblem:
    """``F(gamma) = dist^2(G - gamma h, N)`` for one ``(G, h)``: convex in ``gamma``.

    The blocks of ``G - gamma h`` are affine in ``gamma``; the scalar parts
    are expanded once, and each evaluation costs one dense ``eigvalsh`` of the
    ``s x s`` block.
    """

    def __init__(self, G, h, r, problem):
        self.r, self.problem = r, problem
        G11, h11 = G[:r, :r], h[:r, :r]
        self.n11 = (np.sum(G11**2), -2 * np.sum(G11 * h11), np.sum(h11**2))
        self.t11 = (np.trace(G11), -np.trace(h11))
        G12, h12 = G[:r, r:], h[:r, r:]
        self.n12 = (2 * np.sum(G12**2), -4 * np.sum(G12 * h12), 2 * np.sum(h12**2))
        self.G22, self.h22 = G[r:, r:], h[r:, r:]
        self.evaluations = 0

    def __call__(self, gamma):
        self.evaluations += 1
        norm11 = self.n11[0] + gamma * (self.n11[1] + gamma * self.n11[2])
        trace = self.t11[0] + gamma * self.t11[1]
        cross = self.n12[0] + gamma * (self.n12[1] + gamma * self.n12[2])
        mu = np.linalg.eigvalsh(self.G22 - gamma * self.h22)
        tau = tau_minimizer(trace, self.r, mu) if self.problem == "phaselift" else 0.0
        return float(cross + _bracket_value(norm11, trace, self.r, mu, tau))


def _distance_with_mean(G, h, r, problem, tol=DISTANCE_TOL):
    """``min_gamma dist^2(G - gamma h, N)`` and whether the scalar minimiser converged.

    Bracket: ``dist(., N)`` is 1-Lipschitz and ``N`` is a cone, so
    ``dist(G - gamma h, N) >= |gamma| c - ||G||`` with ``c = dist(-h, N)`` for
    ``gamma > 0`` and ``c = dist(h, N)`` for ``gamma < 0``. A minimiser has
    ``F(gamma) <= F(0)``, hence ``|gamma| <= (||G|| + sqrt F(0)) / c``.
    Tolerance: the gradient of a squared distance to a convex set is
    2-Lipschitz, so ``F'' <= 2 ||h||^2`` and an argument within
    ``xatol = sqrt(tol) / ||h||`` of the minimiser gives a value within
    ``tol`` of the minimum.
    """
    F = _GammaProblem(G, h, r, problem)
    F0 = F(0.0)
    reach = np.linalg.norm(G) + np.sqrt(F0)
    c_plus = np.sqrt(_centred_distance(-h, r, problem))
    c_minus = np.sqrt(_centred_distance(h, r, problem))
    if min(c_plus, c_minus) <= 1e-12 * np.linalg.norm(h):
        raise ValueError("h or -h lies in the normal cone (e.g. h = I for 'phaselift'): the "
                         "minimum over gamma may be at infinity; perturb h")
    hi, lo = reach / c_plus, -reach / c_minus
    xatol = np.sqrt(tol) / np.linalg.norm(h)
    opt = minimize_scalar(F, bounds=(lo, hi), method="bounded", options={"xatol": xatol, "maxiter": 500})
    value = min(float(opt.fun), F0)
    return value, bool(opt.success), float(opt.x), F.evaluations + 2


def normal_cone_distance(G, r, problem="phaselift", h=None):
    """Squared distance from ``G`` to the normal cone of a recovery problem, plus ``R h``.

    ``A*`` is taken diagonal with its range on the first ``r`` coordinates,
    so ``G`` is given in an eigenbasis of ``A*``.

    Parameters
    ----------
    G : array_like, shape (d, d)
        Symmetric matrix.
    r : int
        Rank of the teacher, ``1 <= r < d``.
    problem : {'phaselift', 'uniqueness'}
        ``'phaselift'``: the normal cone ``N_D = {tau I - U0 P U0^T : tau >= 0,
        P PSD}`` of the descent cone of trace minimisation; ``'uniqueness'``:
        the normal cone ``N_T = {-U0 P U0^T : P PSD}`` of the tangent cone of
        the PSD cone.
    h : array_like, shape (d, d), optional
        When given, the distance is to ``N + R h`` (the polar of the cone
        intersected with ``h^perp``), a convex function of the coefficient
        ``gamma`` of ``h`` minimised by bounded Brent search to within
        ``DISTANCE_TOL`` (bracket and tolerance derived in the source). Each
        evaluation costs one dense ``eigvalsh`` of an ``s x s`` block, about
        20-40 of them per call.

    Returns
    -------
    float

    Examples
    --------
    ``I`` lies in ``N_D``, and ``-I`` is at distance ``sqrt(r)`` from it
    (the ``I_s`` part is absorbed by ``P``):

    >>> import numpy as np
    >>> normal_cone_distance(np.eye(3), 1), normal_cone_distance(-np.eye(3), 1)
    (0.0, 1.0)
    >>> round(normal_cone_distance(np.diag([1.0, 2.0, -1.0]), 1, 'uniqueness'), 12)
    5.0
    >>> round(normal_cone_distance(np.diag([1.0, 2.0, -1.0]), 1, 'uniqueness', h=np.eye(3)), 6)
    0.5

    (there ``gamma = 3/2`` leaves ``diag(-1/2, 1/2, -5/2)``, at squared
    distance ``1/4 + 1/4`` from ``N_T``). ``h`` and ``-h`` must not lie in the normal cone,
    where the minimum over ``gamma`` may be at infinity; a ``ValueError``
    says so.
    """
    G = as_symmetric(G, "G")
    d = G.shape[0]
    d, r = _check_sizes(d, r)
    problem = check_choice(problem, "problem", PROBLEMS)
    if h is None:
        return _centred_distance(G, r, problem)
    h = as_symmetric(h, "h", d)
    if not np.any(h):
        raise ValueError("h must not be zero")
    return _distance_with_mean(G, h, r, problem)[0]


# --- sampling -----------------------------------------------------------------------------

def gaussian_symmetric(d, rng):
    """A standard Gaussian in ``Sym(d)``: ``(B + B^T) / 2`` with ``B`` iid ``N(0, 1)``."""
    B = rng.standard_normal((d, d))
    return 0.5 * (B + B.T)


def goe_eigenvalues(s, samples, rng):
    """Eigenvalues of ``samples`` standard Gaussians in ``Sym(s)`` by the tridiagonal model.

    Dumitriu and Edelman (2002), ``beta = 1``: the standard Gaussian of
    ``Sym(s)`` is orthogonally similar to the tridiagonal matrix with diagonal
    ``N(0, 1)`` and off-diagonal ``chi_{s-1}, chi_{s-2}, ..., chi_1`` divided by
    ``sqrt(2)``, all independent (Householder tridiagonalisation: the first
    column below the diagonal has ``s - 1`` entries ``N(0, 1/2)``, whose norm
    is ``chi_{s-1} / sqrt(2)``, and the rest is again such a matrix).
    ``O(s^2)`` per draw (LAPACK ``sterf``).

    Returns
    -------
    ndarray, shape (samples, s)
        Ascending eigenvalues, one draw per row.

    Examples
    --------
    >>> lam = goe_eigenvalues(4, 3, np.random.default_rng(0))
    >>> lam.shape, bool(np.all(np.diff(lam, axis=1) >= 0))
    ((3, 4), True)
    """
    diagonal = rng.standard_normal((samples, s))
    if s == 1:
        return diagonal
    off = np.sqrt(rng.chisquare(np.arange(s - 1, 0, -1), size=(samples, s - 1)) / 2)
    return np.array([eigvalsh_tridiagonal(a, b, lapack_driver="sterf") for a, b in zip(diagonal, off)])


# --- the centred statistical dimension ------------------------------------------------------

def statistical_dimension(d, r, samples=2000, rng=None):
    """Monte Carlo statistical dimension of the descent cone of PhaseLift at a rank-``r`` point.

    ``delta(D) = r s + E min_{tau >= 0} [ ||G11 - tau I_r||^2 + sum_i
    (lambda_i(G22) - tau)_+^2 ]`` (module docstring): the exact ``r s`` from
    the off-diagonal blocks plus a Monte Carlo mean over ``samples`` draws of
    ``G11`` (dense, ``r x r``) and of the eigenvalues of ``G22`` (tridiagonal
    model, :func:`goe_eigenvalues`), each minimised exactly over ``tau`` by
    :func:`tau_minimizer`. This is the predicted PhaseLift threshold of
    *centred* Gaussian measurements; :func:`predicted_threshold` adds the mean
    of ``x x^T``.

    Cost: dominated by the ``samples`` tridiagonal eigenvalue problems of
    size ``s = d - r``; with the default 2000 samples, about 0.2 s at
    ``d = 64``, 8 s at ``d = 512`` and 30 s at ``d = 1024`` (one core).

    Parameters
    ----------
    d : int
        Matrix size, ``>= 2``.
    r : int
        Rank of the teacher, ``1 <= r < d``; ``r = d`` is refused (the descent
        cone is then the half-space ``{tr H <= 0}``, with statistical
        dimension ``d (d + 1) / 2 - 1/2``).
    samples : int
        Monte Carlo draws, ``>= 2``.
    rng : None, int or numpy.random.Generator
        Seed. ``None`` draws fresh entropy and a Generator draws a seed from
        its stream; the seed used is returned, and ``rng=res.seed`` repeats
        the call.

    Returns
    -------
    Result
        ``delta`` (estimate of ``delta(D)``), ``stderr`` (its Monte Carlo
        standard error), ``tau_mean`` (mean minimising ``tau``),
        ``samples``, ``seed``, ``d``, ``r``, ``success``, ``status``,
        ``message``.

    Examples
    --------
    ``delta(D) / (r d)`` grows towards the asymptotic 3 as ``d`` grows:

    >>> [round(statistical_dimension(d, 1, samples=200, rng=0).delta / d, 1) for d in (8, 32, 128)]
    [1.5, 2.0, 2.4]
    """
    d, r = _check_sizes(d, r)
    samples = check_int(samples, "samples", minimum=2)
    seed = _seed(rng)
    gen = np.random.default_rng(seed)
    s = d - r
    G11 = np.array([gaussian_symmetric(r, gen) for _ in range(samples)])
    mu = goe_eigenvalues(s, samples, gen)
    norm11 = np.sum(G11**2, axis=(1, 2))
    trace = np.trace(G11, axis1=1, axis2=2)
    tau = tau_minimizer(trace, r, mu)
    values = _bracket_value(norm11, trace, r, mu, tau)
    return Result(delta=r * s + float(np.mean(values)),
                  stderr=float(np.std(values, ddof=1) / np.sqrt(samples)),
                  tau_mean=float(np.mean(tau)), samples=samples, seed=seed, d=d, r=r,
                  success=True, status=STATUS_SUCCESS, message=MESSAGES[STATUS_SUCCESS])


# --- the threshold with the measurements' mean -------------------------------------------------

def _draw_pair(seed, k, d):
    """Draw ``k`` of a sweep over draws: ``(G, W')``, the same at every fixed-point iterate."""
    gen = instance_rng(seed, k)
    return gaussian_symmetric(d, gen), gaussian_symmetric(d, gen)




def _mean_distance(seed, samples, d, r, problem, n):
    """Per-draw ``min_gamma dist^2(G - gamma h_n, N)``, the gammas, failures and evaluations."""
    scale = np.sqrt(2.0 / n)
    values, gammas = np.empty(samples), np.empty(samples)
    failed = evaluations = 0
    for k in range(samples):
        G, W = _draw_pair(seed, k, d)
        values[k], ok, gammas[k], count = _distance_with_mean(G, np.eye(d) + scale * W, r, problem)
        failed += not ok
        evaluations += count
    return values, gammas, failed, evaluations


def predicted_threshold(d, r, problem="phaselift", samples=100, rng=None, iterations=6):
    """Predicted recovery threshold of quadratic measurements, with their mean ``I`` included.

    Solves ``n = 1 + delta(C ∩ h_n^perp)`` with ``h_n = I + sqrt(2 / n) W'``
    (module docstring): ``C`` is the descent cone ``D`` of trace
    minimisation (``problem='phaselift'``) or the tangent cone ``T`` of the
    PSD cone (``problem='uniqueness'``), and

    ``delta(C ∩ h^perp) = E min_gamma dist^2(G - gamma h, N_C)``,

    the mean over ``samples`` draws of ``(G, W')``; each minimisation over
    ``gamma`` is a bounded Brent search (see :func:`normal_cone_distance`).
    Every evaluation of ``delta(n)`` reuses the same draws (common random
    numbers), so ``phi(n) = 1 + delta(n) - n`` is one smooth deterministic
    function of ``n`` whose root is sought. The start is the centred
    prediction ``n_0 = delta(D)`` from the same ``G``; the next point is the
    plain step ``n_1 = 1 + delta(n_0)``, and later ones are secant steps on
    ``phi``. The plain iteration alone is not enough: for uniqueness
    ``delta(n)`` falls with ``n`` with a slope close to -1 (a larger ``n``
    shrinks the random part of ``h``), and ``n -> 1 + delta(n)`` oscillates
    about its fixed point and converges slowly. For PhaseLift the constraint
    ``tau >= 0`` rarely binds, the best ``gamma`` is near 0, and the fixed
    point is close to ``delta(D)``. For ``h = I`` exactly the two problems
    would give the same value (module docstring): ``n_PL`` and ``n_u`` differ
    only through the random part of the mean, ``Wbar``. Since uniqueness
    implies that trace minimisation recovers ``A*``, ``n_PL <= n_u``.

    Cost: about 15-20 dense ``eigvalsh`` of size ``s = d - r`` per draw and
    evaluation of ``delta`` (0.4-0.5 s per draw at ``d = 512``). With the
    defaults (100 draws, at most 6 evaluations; PhaseLift stops after 2,
    its fixed point being reached to round-off) on one core: 0.6 s and 2 s
    at ``d = 64``, 2 s and 7 s at ``d = 128``, about 1.5 and 5 minutes at
    ``d = 512`` (PhaseLift and uniqueness).

    Parameters
    ----------
    d : int
        Matrix size, ``>= 2``.
    r : int
        Rank of the teacher, ``1 <= r < d`` (``r = d`` is refused, as in
        :func:`statistical_dimension`).
    problem : {'phaselift', 'uniqueness'}
        Which threshold.
    samples : int
        Monte Carlo draws of ``(G, W')``, ``>= 2``.
    rng : None, int or numpy.random.Generator
        Seed, as in :func:`statistical_dimension`; draw ``k`` uses
        :func:`qnb.instance_rng` ``(seed, k)``.
    iterations : int
        Most evaluations of ``delta(n)``, ``>= 1`` (the points ``n_0, ...,
        n_{iterations-1}``); fewer when ``phi`` vanishes to round-off.

    Returns
    -------
    Result
        ``n`` (the last point evaluated, a float), ``residual``
        (``phi(n) = 1 + delta(n) - n`` there), ``stderr`` (Monte Carlo
        standard error of the fixed point: that of ``delta(n)`` divided by
        ``1 - delta'(n)``, the slope from the last secant, when there is
        one), ``iterates`` (the points evaluated), ``residuals`` (``phi`` at
        each), ``delta_centred`` and ``stderr_centred`` (``delta(D)`` from the
        same ``G``: the PhaseLift prediction without the mean), ``gamma_mean``
        (mean minimising coefficient of ``h`` at ``n``), ``evaluations``
        (distance evaluations in all), ``problem``, ``samples``, ``seed``,
        ``d``, ``r``, ``success``, ``status``, ``message``. ``status`` is
        ``STATUS_SUCCESS`` (0: ``|residual| <= stderr``),
        ``STATUS_NOT_CONVERGED`` (1) or ``STATUS_MINIMIZER_FAILED`` (2: some
        minimisation over ``gamma`` did not converge).

    Examples
    --------
    >>> pl = predicted_threshold(8, 1, samples=20, rng=0)
    >>> u = predicted_threshold(8, 1, 'uniqueness', samples=20, rng=0)
    >>> pl.success, u.success, bool(pl.n < u.n), bool(abs(u.residual) <= u.stderr)
    (True, True, True, True)
    """
    d, r = _check_sizes(d, r)
    problem = check_choice(problem, "problem", PROBLEMS)
    samples = check_int(samples, "samples", minimum=2)
    iterations = check_int(iterations, "iterations", minimum=1)
    seed = _seed(rng)
    centred = np.array([_centred_distance(_draw_pair(seed, k, d)[0], r, "phaselift") for k in range(samples)])
    points, residuals = [float(np.mean(centred))], []
    evaluations, slope = samples, None
    for j in range(iterations):
        if j == 1:
            points.append(points[0] + residuals[0])
        elif j > 1:
            dphi = residuals[-1] - residuals[-2]
            dn = points[-1] - points[-2]
            slope = dphi / dn if dn != 0 else None
            if slope is None or slope >= 0 or not np.isfinite(slope):
                slope = None  # phi should fall with n; if not, take the plain step
                points.append(points[-1] + residuals[-1])
            else:
                points.append(points[-1] - residuals[-1] / slope)
        values, gammas, failed, count = _mean_distance(seed, samples, d, r, problem, points[-1])
        evaluations += count
        residuals.append(1.0 + float(np.mean(values)) - points[-1])
        if abs(residuals[-1]) <= 1e-9 * points[-1]:
            break  # a root to round-off: further points would repeat it
    if len(points) >= 2 and points[-1] != points[-2]:
        slope = (residuals[-1] - residuals[-2]) / (points[-1] - points[-2])
    stderr = float(np.std(values, ddof=1) / np.sqrt(samples))
    if slope is not None and slope < 0:
        stderr /= -slope  # phi' = delta' - 1, and the root moves by the error of delta / (1 - delta')
    if failed:
        status = STATUS_MINIMIZER_FAILED
    elif abs(residuals[-1]) > stderr:
        status = STATUS_NOT_CONVERGED
    else:
        status = STATUS_SUCCESS
    message = MESSAGES[status].format(residual=residuals[-1], stderr=stderr, failed=failed, total=samples)
    return Result(n=points[-1], residual=residuals[-1], stderr=stderr, iterates=np.array(points),
                  residuals=np.array(residuals), delta_centred=points[0],
                  stderr_centred=float(np.std(centred, ddof=1) / np.sqrt(samples)),
                  gamma_mean=float(np.mean(gammas)), evaluations=evaluations, problem=problem,
                  samples=samples, seed=seed, d=d, r=r, success=status == STATUS_SUCCESS,
                  status=status, message=message)
