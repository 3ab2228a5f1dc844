"""The string method on the empirical loss: minimum energy paths from student to teacher.

Section 6 of Sarao Mannelli et al. connects the student start ``A(0)`` and the
teacher ``A*`` by a string, a chain of matrices (images) with fixed
endpoints, and alternates two moves (E, Ren and Vanden-Eijnden 2002, 2007):

1. **evolve**: every interior image follows the descent dynamics (5),
   ``dA/dt = -(A G(A) + G(A) A)`` with ``G = grad E_n``, which keeps it
   positive semidefinite;
2. **reparametrize**: the images are moved back along the polyline they form
   so that they sit at equal Frobenius arclength.

A string that no longer changes is made of flow lines of (5) and of pieces of
the zero-loss set, where (5) does not move: from ``A(0)`` it follows the
gradient-descent trajectory to its limit ``A_inf`` and, when ``A_inf != A*``,
continues at zero training loss to ``A*``. Arclength replaces the time of the
flow, so the infinite time GD needs to reach ``A_inf`` is a finite piece of
string, and the part beyond it (the flat stretch) is visible at all.

Two evolution schemes are offered. ``'fixed'`` is the plain method: one
gradient-descent step ``A <- (I - eta G) A (I - eta G)`` of the same size
for every image. ``'implicit'`` (the default) gives each image its own time
``tau_i = kappa * spacing / |F(A_i)|``, so every image moves about ``kappa``
image spacings along its flow line whatever its speed, and covers that time
with a few steps of a second-order L-stable Rosenbrock method (ROS2), whose
Jacobian of (5) is exact because ``E_n`` is quadratic. Images near the
zero-loss set, where the flow creeps (the approach to a rank-deficient
minimizer is algebraic in time), then take the large times they need in a
single iteration instead of thousands of small steps. All images advance
together: the linear algebra is batched over the string.
"""

from __future__ import annotations

import numpy as np

from ._symmetric import SymmetricCoordinates, congruence_step, descent_velocity, outside_psd_cone, project_psd
from ._validation import as_array, as_data, as_matrix_stack, as_psd, check_choice, check_int, check_positive, symmetry_tolerance
from .losses import EmpiricalLoss, PopulationLoss
from .result import Result

SCHEMES = ("implicit", "fixed")

_ROS2_GAMMA = 1.0 + 1.0 / np.sqrt(2.0)
_MAX_RETRIES = 12  # quarterings of a step that would leave the PSD cone
# An image whose speed is below this fraction of the fastest is at rest (zero loss to
# round-off): its force is noise, so it gets no time.
_REST_RTOL = 1e-14

STATUS_CONVERGED = 0
STATUS_MAX_ITER = 1
STATUS_NONFINITE = 2
STATUS_STALLED = 3

MESSAGES = {
    STATUS_CONVERGED: "the string stopped moving: largest net image move below tol times the evolution move",
    STATUS_MAX_ITER: "max_iter reached before the string stopped moving",
    STATUS_NONFINITE: "an image, its force or its loss became non-finite; reduce step (scheme='fixed') or kappa, "
                      "or rescale the data",
    STATUS_STALLED: "the evolution moved no image although some are not at rest (the move is below "
                    "round-off); increase step (scheme='fixed') or kappa",
}


# --------------------------------------------------------------------------
# Geometry of a string: arclength and reparametrization
# --------------------------------------------------------------------------

def _segment_lengths(images):
    diff = np.diff(images, axis=0)
    return np.sqrt(np.sum(diff * diff, axis=(1, 2)))


def _arclength(images):
    return np.concatenate(([0.0], np.cumsum(_segment_lengths(images))))


def _reparametrize(images):
    s = _arclength(images)
    n_images = images.shape[0]
    if s[-1] == 0.0:
        return images.copy()
    target = np.linspace(0.0, s[-1], n_images)
    # Linear, not a cubic spline: a spline overshoots at the corner where the flow line
    # meets the zero-loss set (and leaves the PSD cone near rank-deficient images), and the
    # string then never settles. The chords' bias, carried along the string by the
    # evolution, is a few per cent of a spacing at 100 images (tests/test_strings.py).
    # Segment j of the polyline holds arclengths [s[j], s[j + 1]].
    j = np.clip(np.searchsorted(s, target, side="right") - 1, 0, n_images - 2)
    seg = s[j + 1] - s[j]
    w = np.divide(target - s[j], seg, out=np.zeros_like(target), where=seg > 0)
    w = np.clip(w, 0.0, 1.0)[:, None, None]
    new = (1.0 - w) * images[j] + w * images[j + 1]
    # Exact endpoints: the interpolation weights there are 0 and 1 only up to round-off.
    new[0], new[-1] = images[0], images[-1]
    return new


def _as_images(images, name="images", minimum=2):
    arr = as_array(images, name, 3)
    if arr.shape[1] != arr.shape[2]:
        raise ValueError(f"{name} must have shape (n_images, d, d), got {arr.shape}")
    if arr.shape[0] < minimum:
        raise ValueError(f"{name} must hold at least {minimum} images, got {arr.shape[0]}")
    return arr


def reparametrize(images):
    """Move the images of a string to equal Frobenius arclength along it.

    The images are read as the vertices of a polyline in matrix space; the
    new images are the points of that polyline at arclengths
    ``k L / (N - 1)``, ``k = 0 .. N - 1`` (``L`` its length), found by linear
    interpolation between neighbouring vertices. The endpoints are kept
    exactly, and convex combinations of positive semidefinite matrices are
    positive semidefinite, so a PSD string stays PSD.

    Parameters
    ----------
    images : array_like, shape (N, d, d)
        The string, from one endpoint to the other, ``N >= 2``.

    Returns
    -------
    ndarray, shape (N, d, d)

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([0.0, 0.1, 0.2, 1.0])[:, None, None] * np.eye(2)
    >>> np.round(reparametrize(s)[:, 0, 0], 6)
    array([0.      , 0.333333, 0.666667, 1.      ])
    """
    return _reparametrize(_as_images(images))


def string_arclength(images):
    """Cumulative Frobenius arclength ``s_k`` of a string's polyline, ``s_0 = 0``.

    Parameters
    ----------
    images : array_like, shape (N, d, d)

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> string_arclength(np.array([0.0, 3.0, 4.0])[:, None, None] * np.ones((1, 1, 1)))
    array([0., 3., 4.])
    """
    return _arclength(_as_images(images))


def distance_to_path(images, path):
    """Frobenius distance from each image to the polyline through ``path``.

    Used to compare a converged string with a gradient-descent trajectory
    sampled densely in time: each image is projected on every segment of
    the trajectory's polyline and the nearest point is kept.

    Parameters
    ----------
    images : array_like, shape (N, d, d)
        Any number of matrices, ``N >= 1``.
    path : array_like, shape (M, d, d)
        Vertices of the polyline, ``M >= 2``.

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> path = np.array([0.0, 1.0])[:, None, None] * np.eye(2)
    >>> np.round(distance_to_path(np.array([0.5 * np.eye(2), np.diag([0.5, 1.5])]), path), 4)
    array([0.    , 0.7071])
    """
    images = _as_images(images, minimum=1)
    path = _as_images(path, "path")
    if path.shape[1:] != images.shape[1:]:
        raise ValueError(f"path must hold {images.shape[1:]} matrices like images, got {path.shape[1:]}")
    P = path.reshape(path.shape[0], -1)
    start, seg = P[:-1], np.diff(P, axis=0)
    seg2 = np.sum(seg * seg, axis=1)
    out = np.empty(images.shape[0])
    for i, a in enumerate(images.reshape(images.shape[0], -1)):
        t = np.divide(np.sum((a - start) * seg, axis=1), seg2,
                      out=np.zeros_like(seg2), where=seg2 > 0)
        nearest = start + np.clip(t, 0.0, 1.0)[:, None] * seg
        out[i] = float(np.sqrt(np.min(np.sum((nearest - a) ** 2, axis=1))))
    return out


# --------------------------------------------------------------------------
# The descent dynamics (5) on a stack of images
# --------------------------------------------------------------------------

class StringDynamics:
    """Force ``F(A) = -(A G + G A)`` of (5), its Jacobian and the two evolution steps, for many images at once.

    ``G(A) = grad E_n(A)``. Every method takes a stack of images ``S`` of
    shape ``(N, d, d)``; Jacobians act on the ``d (d + 1) / 2`` upper-triangle
    coordinates (``vech``), like those of :class:`qnb.MatrixFlow`, but are
    built for all images together by gathers and one small product per image.

    Parameters
    ----------
    loss : EmpiricalLoss
        The loss whose descent dynamics the images follow.

    Examples
    --------
    With the two unit vectors as inputs, ``G(A) = diag(A_11 - y_1, A_22 - y_2) / 2``:

    >>> import numpy as np
    >>> from qnb import EmpiricalLoss
    >>> dynamics = StringDynamics(EmpiricalLoss(np.eye(2), np.array([1.0, 2.0])))
    >>> S = np.stack([np.eye(2), np.diag([3.0, 0.5])])
    >>> F, G = dynamics.force(S)
    >>> F[1] + 0.0
    array([[-6.  ,  0.  ],
           [ 0.  ,  0.75]])
    >>> dynamics.jacobian(S).shape
    (2, 3, 3)
    """

    def __init__(self, loss):
        if not isinstance(loss, EmpiricalLoss):
            raise TypeError(f"loss must be an EmpiricalLoss, got {type(loss).__name__}")
        self.loss = loss
        self.coordinates = SymmetricCoordinates(loss.d)
        X, n = loss.X, loss.n
        r, c = self.coordinates.rows, self.coordinates.cols
        # dG[E_b] = (1/n) sum_k q_kb x_k x_k^T, q_kb = x_k^T E_b x_k: independent of A (E_n is quadratic).
        self._q_scaled = self.coordinates.quadratic_forms(X) / n
        self._xt_rows, self._xt_cols = X.T[r][None], X.T[c][None]
        self._work = {}
        self._g_terms = self._gradient_terms()

    def _gradient_terms(self):
        """Flat indices and weights for the G-part ``E_b G + G E_b`` of the Jacobian.

        ``(E_b G + G E_b)[r_a, c_a] = G[r_a, r_b] [c_b = c_a] + G[r_a, c_b] [r_b = c_a]
        + [r_a = r_b] G[c_b, c_a] + [r_a = c_b] G[r_b, c_a]``, the second and
        fourth terms only when ``r_b != c_b``. Kept per term: flat indices into
        ``G`` and the positions in the ``(p, p)`` Jacobian where its indicator is 1.
        """
        d, p = self.coordinates.d, self.coordinates.size
        r, c = self.coordinates.rows, self.coordinates.cols
        ra, ca, rb, cb = r[:, None], c[:, None], r[None, :], c[None, :]
        off = (rb != cb).astype(float)
        index = (ra * d + rb, ra * d + cb, cb * d + ca, rb * d + ca)
        weight = ((cb == ca) * 1.0, (rb == ca) * off, (ra == rb) * 1.0, (ra == cb) * off)
        return [(np.broadcast_to(i, (p, p))[w != 0], w[w != 0], np.flatnonzero(w.ravel()))
                for i, w in zip(index, weight)]

    def force(self, S):
        """``F(A_i) = -(A_i G_i + G_i A_i)`` for every image, and the gradients ``G_i``."""
        G = self.loss.gradient(S)
        return descent_velocity(S, G), G

    def jacobian(self, S):
        """``J[i, a, b]``: derivative of coordinate ``a`` of ``F(A_i)`` along the coordinate direction ``E_b``.

        ``dF[E] = -(E G + G E + A dG[E] + dG[E] A)``. Returns a new array of
        shape ``(N, p, p)``.
        """
        S = as_matrix_stack(S, "S", self.coordinates.d)
        return self._jacobian(S, self.loss.gradient(S)).copy()

    def _jacobian(self, S, G):
        """:meth:`jacobian` written into a work buffer that the next call overwrites.

        With ``E_b = e_rb e_cb^T + e_cb e_rb^T`` (one term when ``r_b = c_b``) and
        ``dG[E_b] = (1/n) sum_k q_kb x_k x_k^T`` both parts are gathers and one
        small matrix product per image, not ``d(d+1)/2`` matrix products.
        """
        N, d = S.shape[0], S.shape[1]
        p = self.coordinates.size
        # Work buffers are kept between calls: allocating these ~1 MB arrays afresh
        # at every step costs more (page faults) than the arithmetic.
        if N not in self._work:
            self._work[N] = (np.empty((N, p * p)), np.empty((N, p, self.loss.n)), np.empty((N, p, p)))
        part, out, jac = self._work[N]
        part.fill(0.0)
        Gf = G.reshape(N, d * d)
        for idx, w, where in self._g_terms:
            part[:, where] += Gf[:, idx] * w
        # Coordinate a of A x_k x_k^T + x_k x_k^T A, for every image and sample.
        Y = S @ self.loss.X.T
        np.multiply(Y[:, self.coordinates.rows, :], self._xt_cols, out=out)
        out += self._xt_rows * Y[:, self.coordinates.cols, :]
        np.matmul(out, self._q_scaled, out=jac)
        jac += part.reshape(N, p, p)
        np.negative(jac, out=jac)
        return jac

    def implicit_step(self, S, h):
        """One Rosenbrock step of size ``h[i]`` per image (see ``_implicit_step``), kept positive semidefinite.

        The exact flow never leaves the PSD cone, but a long linearized step
        next to a rank-deficient image can. Such images retry with a quarter
        of the step (up to ``_MAX_RETRIES`` times) rather than being clipped:
        clipping moves them off their flow line, and that noise stops the
        string from settling. What round-off leaves is projected away.

        Returns
        -------
        images : ndarray, shape (N, d, d)
        clipped : float
            The largest negative eigenvalue the projection removed.
        """
        new = self._implicit_step(S, h)
        w = np.linalg.eigvalsh(new)
        h = h.copy()
        for _ in range(_MAX_RETRIES):
            bad = outside_psd_cone(w)
            if not bad.any():
                break
            h[bad] *= 0.25
            new[bad] = self._implicit_step(S[bad], h[bad])
            w[bad] = np.linalg.eigvalsh(new[bad])
        return project_psd(new, w)

    def _implicit_step(self, S, h):
        """Two-stage Rosenbrock step (ROS2: second order, L-stable) of size ``h_i`` for image ``i``.

        ``(I - g h J) k1 = F(A)``, ``(I - g h J) k2 = F(A + h k1) - 2 k1``,
        ``A + h (3 k1 + k2) / 2``, ``g = 1 + 1/sqrt(2)``: one Jacobian and one
        matrix inverse per image serve both stages.
        """
        vech, unvech = self.coordinates.vech, self.coordinates.unvech
        F, G = self.force(S)
        lhs = self._jacobian(S, G)  # I - g h J, built in the Jacobian's work buffer
        lhs *= -_ROS2_GAMMA * h[:, None, None]
        lhs += np.eye(self.coordinates.size)
        try:
            inv = np.linalg.inv(lhs)
        except np.linalg.LinAlgError:
            inv = np.linalg.pinv(lhs)
        k1 = (inv @ vech(F)[..., None])[..., 0]
        mid = unvech(vech(S) + h[:, None] * k1)
        F_mid, _ = self.force(mid)
        k2 = (inv @ (vech(F_mid) - 2.0 * k1)[..., None])[..., 0]
        return unvech(vech(S) + h[:, None] * (1.5 * k1 + 0.5 * k2))

    def fixed_step(self, S, step):
        """One gradient-descent step on the weights, ``A <- (I - step G) A (I - step G)``, per image."""
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported as STATUS_NONFINITE
            return congruence_step(S, self.loss.gradient(S), step)


def _default_step(S, dyn):
    """Plain descent step: stable, and short enough that no image moves more than one spacing.

    Explicit descent on (5) is stable for ``step * 2 lambda_max(A) ||H|| < 2``
    (``H`` the Hessian of ``E_n``); a longer move than one spacing lets the
    linear reparametrization cut the string's bends by whole chords.
    """
    lam_max = float(np.max(np.linalg.eigvalsh(S)[:, -1]))
    stable = 0.5 / (dyn.loss.hessian_norm() * max(lam_max, 1e-300))
    speeds, spacing = _speeds_and_spacing(dyn, S)
    speed = float(speeds.max())
    return float(min(stable, spacing / speed)) if speed > 0 else stable


def _speeds_and_spacing(dyn, S):
    """``|F(A_i)|_F`` for every image, and the mean distance between neighbouring images."""
    F, _ = dyn.force(S)
    return np.sqrt(np.sum(F * F, axis=(1, 2))), _arclength(S)[-1] / (S.shape[0] - 1)


# --------------------------------------------------------------------------
# The solver
# --------------------------------------------------------------------------

def _initial_string(A_start, A_end, n_images, initial):
    if initial is None:
        lam = np.linspace(0.0, 1.0, n_images)[:, None, None]
        return (1.0 - lam) * A_start + lam * A_end
    S = _as_images(initial, "initial")
    d = A_start.shape[0]
    if S.shape != (n_images, d, d):
        raise ValueError(f"initial must have shape ({n_images}, {d}, {d}), got {S.shape}")
    for k, A in enumerate(S):
        as_psd(A, f"initial[{k}]")
    S = 0.5 * (S + np.swapaxes(S, 1, 2))
    for k, A in ((0, A_start), (-1, A_end)):
        gap = float(np.max(np.abs(S[k] - A)))
        if gap > symmetry_tolerance(A):
            raise ValueError(f"initial[{k}] must equal the endpoint; max difference {gap:.3g}")
    S[0], S[-1] = A_start, A_end
    return S


def _evolve(dyn, S, scheme, kappa, substeps, step):
    """Images after one evolution move (endpoints untouched) and the largest clipped eigenvalue."""
    clipped = 0.0
    if scheme == "fixed":
        new = dyn.fixed_step(S, step)
    else:
        speed, spacing = _speeds_and_spacing(dyn, S)
        moving = speed > _REST_RTOL * max(float(speed.max()), 1e-300)
        tau = np.where(moving, kappa * spacing / np.where(moving, speed, 1.0), 0.0)
        new = S
        for _ in range(substeps):
            new, c = dyn.implicit_step(new, tau / substeps)
            clipped = max(clipped, c)
    new = new.copy()
    new[0], new[-1] = S[0], S[-1]
    return new, clipped


def string_method(A_start, A_end, X, y, n_images=100, *, A_star=None, scheme="implicit", kappa=1.0,
                  substeps=4, step=None, tol=1e-5, max_iter=2000, initial=None):
    """Minimum energy path of the empirical loss ``E_n`` between two PSD matrices.

    Starting from ``initial`` (default: the straight segment), the string is
    updated by an evolution move of every interior image under the descent
    dynamics (5) followed by :func:`reparametrize`, until an iteration moves
    no image by more than ``tol`` times the largest move of the evolution
    step: the evolution is then (to ``tol``) undone by the reparametrization,
    i.e. it only slides images along the string.

    Parameters
    ----------
    A_start, A_end : array_like, shape (d, d)
        Fixed endpoints, positive semidefinite: the student start ``A(0)``
        and, in the book, the teacher ``A*``.
    X : array_like, shape (n, d)
        Inputs.
    y : array_like, shape (n,)
        Labels.
    n_images : int, optional
        Number of images including both endpoints, at least 3.
    A_star : array_like, shape (d, d), optional
        Teacher; when given the result carries the population loss (9).
    scheme : {'implicit', 'fixed'}, optional
        Evolution move (module docstring): per-image times covered by
        Rosenbrock steps, or one plain descent step ``step``.
    kappa : float, optional
        ``'implicit'``: how many image spacings an image travels along its
        flow line per iteration (first-order estimate ``tau_i |F(A_i)|``).
    substeps : int, optional
        ``'implicit'``: Rosenbrock (ROS2) steps per evolution move. Fewer
        steps land farther off the flow line when ``tau`` is large, and the
        string then settles more slowly or not at all; with four it settled
        on all 120 instances of Fig. 4.
    step : float, optional
        ``'fixed'``: the descent step; by default, on the initial string, the
        smaller of ``0.5 / (lambda_max(H) max_i lambda_max(A_i))`` (``H`` the
        Hessian of ``E_n``; stability) and ``spacing / max_i |F(A_i)|`` (no
        image moves more than one spacing).
    tol : float, optional
        Convergence threshold on the history value (see ``history``). The
        value is relative to the step taken, so with ``scheme='fixed'`` and
        its small steps it is met while the images that creep towards the
        zero-loss set are still far from their place: judge such strings by
        their distance to a converged one (``benchmarks/bench_string_method.py``).
    max_iter : int, optional
        Cap on the number of iterations.
    initial : array_like, shape (n_images, d, d), optional
        Starting string; its first and last images must equal the endpoints.

    Returns
    -------
    Result
        ``images`` (n_images, d, d); ``arclength`` (n_images,), cumulative
        Frobenius arclength; ``train_loss`` ``E_n`` per image;
        ``population_loss`` ``E`` per image (only with ``A_star``); ``nit``;
        ``history`` (nit,), per iteration the largest net move of an image
        divided by the largest move of the evolution step (0 for a string at
        rest, NaN for one that did not move otherwise); ``max_clip``, the
        largest negative eigenvalue the PSD projection removed (``'implicit'``;
        the exact flow never produces one); ``scheme``, ``step`` (``'fixed'``)
        or ``kappa`` and ``substeps``; ``tol``; ``success``, ``status``
        (``STATUS_CONVERGED = 0``, ``STATUS_MAX_ITER = 1`` ``max_iter``
        reached, ``STATUS_NONFINITE = 2`` an image, its force or its loss
        not finite, ``STATUS_STALLED = 3`` the evolution moved no image
        although some were not at rest, e.g. a ``step`` so small that the
        move is below round-off) and ``message`` (from ``MESSAGES``). A
        string whose interior images are all at rest (no force) has
        converged; one that stopped moving for any other reason has not.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(2)                       # measures the two diagonal entries
    >>> A_star = np.diag([1.0, 2.0])
    >>> res = string_method(np.diag([3.0, 0.5]), A_star, X, np.diag(A_star), n_images=11)
    >>> res.success, res.images.shape
    (True, (11, 2, 2))
    >>> bool(np.allclose(res.images[[0, -1]], [np.diag([3.0, 0.5]), A_star]))
    True
    """
    loss = EmpiricalLoss(X, y)
    A_start = as_psd(A_start, "A_start", loss.d)
    A_end = as_psd(A_end, "A_end", loss.d)
    n_images = check_int(n_images, "n_images", minimum=3)
    population = None if A_star is None else PopulationLoss(as_psd(A_star, "A_star", loss.d))
    scheme = check_choice(scheme, "scheme", SCHEMES)
    kappa = check_positive(kappa, "kappa")
    substeps = check_int(substeps, "substeps")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter")
    S = _initial_string(A_start, A_end, n_images, initial)
    dyn = StringDynamics(loss)
    if step is not None:
        step = check_positive(step, "step")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported as STATUS_NONFINITE
        if step is None and scheme == "fixed":
            step = _default_step(S, dyn)
        S, history, max_clip, status = _relax(dyn, S, scheme, kappa, substeps, step, tol, max_iter)
        train_loss = loss.value(S)
    if status == STATUS_CONVERGED and not np.all(np.isfinite(train_loss)):
        status = STATUS_NONFINITE

    res = Result(success=status == STATUS_CONVERGED, status=status, message=MESSAGES[status], images=S,
                 arclength=_arclength(S), train_loss=train_loss)
    if population is not None:
        res["population_loss"] = population.value(S)
    res.update(nit=len(history), history=np.asarray(history), max_clip=max_clip, scheme=scheme, tol=tol)
    if scheme == "fixed":
        res["step"] = step
    else:
        res.update(kappa=kappa, substeps=substeps)
    return res


def _relax(dyn, S, scheme, kappa, substeps, step, tol, max_iter):
    """Alternate evolution and reparametrization until the string stops moving.

    Returns the string, the history (net move over evolution move per
    iteration), the largest clipped eigenvalue and the status.
    """
    history, max_clip = [], 0.0
    for _ in range(max_iter):
        evolved, clipped = _evolve(dyn, S, scheme, kappa, substeps, step)
        if not np.all(np.isfinite(evolved)):
            return S, history, max_clip, STATUS_NONFINITE
        max_clip = max(max_clip, clipped)
        moved = float(np.max(np.sqrt(np.sum((evolved - S) ** 2, axis=(1, 2)))))
        if moved == 0.0:
            # Nothing moved: a string at rest has converged, any other did not move for another reason.
            status = _motionless_status(dyn, S)
            history.append(0.0 if status == STATUS_CONVERGED else np.nan)
            return S, history, max_clip, status
        new = _reparametrize(evolved)
        net = float(np.max(np.sqrt(np.sum((new - S) ** 2, axis=(1, 2)))))
        S = new
        history.append(net / moved)
        if history[-1] <= tol:
            return S, history, max_clip, STATUS_CONVERGED
    return S, history, max_clip, STATUS_MAX_ITER


def _motionless_status(dyn, S):
    """Why an evolution move left every image in place.

    A non-finite force (``STATUS_NONFINITE``: the time an image gets is then
    0); every interior image at rest, its speed at most ``_REST_RTOL`` times
    the fastest image's (``STATUS_CONVERGED``: the string is stationary); or
    a move below round-off of the images (``STATUS_STALLED``).
    """
    speed, _ = _speeds_and_spacing(dyn, S)
    if not np.all(np.isfinite(speed)):
        return STATUS_NONFINITE
    if np.all(speed[1:-1] <= _REST_RTOL * speed.max()):
        return STATUS_CONVERGED
    return STATUS_STALLED


def flat_stretch(train_loss, arclength, rel_tol=1e-8):
    """The run of images at the end of a string whose training loss is zero relative to its maximum.

    An image counts as flat when ``train_loss <= rel_tol * max(train_loss)``;
    the stretch is the longest run of flat images that ends at the last
    image (the teacher, in the book). A string ending at an isolated
    minimizer has a stretch of one image and length 0.

    Parameters
    ----------
    train_loss : array_like, shape (N,)
        Training loss along the string (``string_method(...).train_loss``).
    arclength : array_like, shape (N,)
        Cumulative arclength along the string.
    rel_tol : float, optional
        Relative threshold for "zero" loss.

    Returns
    -------
    Result
        ``start`` (index of the first flat image), ``count`` (number of
        flat images), ``length`` (arclength from ``start`` to the end) and
        ``threshold`` (the absolute loss threshold used).

    Examples
    --------
    >>> r = flat_stretch([4.0, 1.0, 1e-12, 0.0], [0.0, 1.0, 2.0, 3.0])
    >>> r.start, r.count, r.length
    (2, 2, 1.0)
    """
    loss = as_array(train_loss, "train_loss", 1)
    s = as_array(arclength, "arclength", 1)
    if s.shape != loss.shape:
        raise ValueError(f"arclength must have the shape of train_loss {loss.shape}, got {s.shape}")
    rel_tol = check_positive(rel_tol, "rel_tol")
    threshold = rel_tol * float(loss.max())
    above = np.flatnonzero(loss > threshold)
    start = int(above[-1]) + 1 if above.size else 0
    count = loss.size - start
    length = float(s[-1] - s[start]) if count else 0.0
    return Result(success=True, status=0, message="measured", start=start, count=count, length=length,
                  threshold=threshold)
