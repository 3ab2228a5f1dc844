"""Two-layer networks in their weights: ``f(x) = sum_j v_j sigma(w_j . x)``.

The model of Soltanolkotabi, Javanmard and Lee (seed 003), with ``k`` hidden
units, hidden weights ``W`` (``k x d``, one unit per row) and output weights
``v`` that are either fixed (the loss is a function of ``W`` alone) or
trained with ``W``. Its empirical loss, in the book's normalisation, is

    L(theta) = (1/(2n)) sum_i (f(x_i) - y_i)^2,

the seed's ``(1/2) sum_i (...)^2`` divided by ``n`` (a rescaling of time and
of gradient-descent steps by ``n``, nothing else). The parameter vector
``theta`` is ``W.ravel()`` (row-major) followed, when ``v`` is trained, by
``v``.

With the quadratic activation ``f(x) = x^T W^T diag(v) W x``: for ``v > 0``
this is the book's student (``v_j = 1/m`` gives ``A = W^T W / m``), and once
``v`` has at least ``d`` entries of each sign ``W^T diag(v) W`` ranges over all
symmetric matrices. The other activations (softplus, sigmoid, erf,
exponential) have no such reduction; everything here works in the weights,
with exact first and second derivatives.

What lives here: the activations (:class:`Activation`), the loss with its
gradient, Jacobian and exact Hessian (:class:`NetworkLoss`), the second-order
stationarity report, gradient descent to a stationary point, the gradient
flow on the integrators the matrix flows use, and perturbed gradient
descent. Sweeps over many starts live in ``landscape_census.py`` and ``global_convergence.py``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import least_squares
from scipy.special import erf, expit

from ._integration import WEIGHT_METHODS, fixed_steps, integrate, loss_ceiling, solver_options
from ._validation import as_array, as_data, as_real, as_rng, check_choice, check_int, check_positive
from .result import Result

ACTIVATIONS = ("quadratic", "softplus", "sigmoid", "erf", "exponential")
"""The activations of :class:`Activation`; softplus and sigmoid take a slope ``beta``."""
_SLOPED = ("softplus", "sigmoid")

# Tolerances of the stationarity report, named once; all relative.
GTOL = 1e-9
"""A gradient is zero when ``||grad L|| <= GTOL * ||J||_2 (||r|| + ||y||) / n`` (the size of
``J^T r / n`` without cancellation, ``J`` the Jacobian of the outputs, ``r`` the residuals)."""
EIG_RTOL = 1e-7
"""A Hessian eigenvalue is zero when ``|lambda| <= EIG_RTOL * max |lambda|``; below
``-EIG_RTOL * max |lambda|`` it is negative. A gradient at ``GTOL`` moves the Hessian by
``O(GTOL)`` relative, two orders below."""
ZERO_LOSS_RTOL = 1e-10
"""Zero loss: ``L <= ZERO_LOSS_RTOL * L(0)``, with ``L(0) = mean(y^2) / 2`` the loss of the zero
network. At a certified stationary point of a fit that interpolates, the loss is ``O(GTOL^2)``
relative (times the conditioning); positive losses of non-interpolating fits sit orders above."""
RANK_RTOL = 1e-9
"""Rank of the differential of ``theta -> W^T diag(v) W`` (quadratic activation): singular values
above ``RANK_RTOL`` times the largest."""

STATUS_CONVERGED = 0
STATUS_MAX_STEPS = 1
STATUS_DIVERGED = 2
STATUS_NOT_SECOND_ORDER = 3
DESCENT_MESSAGES = {
    STATUS_CONVERGED: "gradient norm {gnorm:.3g} <= gtol={gtol:.3g} after {nsteps} steps",
    STATUS_MAX_STEPS: "max_steps={nsteps} reached with gradient norm {gnorm:.3g} > gtol={gtol:.3g}",
    STATUS_DIVERGED: "diverged after {nsteps} steps ({reason}); decrease step",
    STATUS_NOT_SECOND_ORDER: "gradient norm {gnorm:.3g} <= epsilon={gtol:.3g}, but the smallest Hessian "
                             "eigenvalue {lam:.3g} < -{ctol:.3g} after {perturbations} perturbations and "
                             "{nsteps} steps",
}
PGD_MESSAGES = {
    STATUS_CONVERGED: "epsilon-second-order stationary after {nsteps} steps and {perturbations} "
                      "perturbations: gradient norm {gnorm:.3g} <= {gtol:.3g}, smallest Hessian "
                      "eigenvalue {lam:.3g} >= -{ctol:.3g}",
    STATUS_MAX_STEPS: DESCENT_MESSAGES[STATUS_MAX_STEPS] + " ({perturbations} perturbations)",
    STATUS_DIVERGED: DESCENT_MESSAGES[STATUS_DIVERGED],
    STATUS_NOT_SECOND_ORDER: DESCENT_MESSAGES[STATUS_NOT_SECOND_ORDER],
}


class Activation:
    """An activation ``sigma`` with its exact first and second derivatives.

    Parameters
    ----------
    name : {'quadratic', 'softplus', 'sigmoid', 'erf', 'exponential'}
        ``z^2``; ``log(1 + e^{beta z}) / beta``; ``1 / (1 + e^{-beta z})``;
        ``erf(z)``; ``e^z``.
    beta : float, optional
        Slope of softplus and sigmoid (default 1); not accepted by the others.

    Examples
    --------
    >>> s = Activation("softplus", beta=2.0)
    >>> float(s(0.0)), float(s.first(0.0)), float(s.second(0.0))
    (0.34657359027997264, 0.5, 0.5)
    """

    def __init__(self, name="quadratic", beta=None):
        self.name = check_choice(name, "activation", ACTIVATIONS)
        if beta is not None and name not in _SLOPED:
            raise ValueError(f"beta is a parameter of {' and '.join(_SLOPED)} only, not of {name!r}")
        self.beta = 1.0 if beta is None else check_positive(beta, "beta")

    def __repr__(self):
        slope = f", beta={self.beta:g}" if self.name in _SLOPED else ""
        return f"Activation({self.name!r}{slope})"

    def __call__(self, z):
        """``sigma(z)``, elementwise."""
        z, b = np.asarray(z, dtype=float), self.beta
        if self.name == "quadratic":
            return z * z
        if self.name == "softplus":
            return np.logaddexp(0.0, b * z) / b  # no overflow for large b z
        if self.name == "sigmoid":
            return expit(b * z)
        if self.name == "erf":
            return erf(z)
        return np.exp(z)

    def first(self, z):
        """``sigma'(z)``, elementwise."""
        z, b = np.asarray(z, dtype=float), self.beta
        if self.name == "quadratic":
            return 2.0 * z
        if self.name == "softplus":
            return expit(b * z)
        if self.name == "sigmoid":
            s = expit(b * z)
            return b * s * (1.0 - s)
        if self.name == "erf":
            return (2.0 / math.sqrt(math.pi)) * np.exp(-z * z)
        return np.exp(z)

    def second(self, z):
        """``sigma''(z)``, elementwise."""
        z, b = np.asarray(z, dtype=float), self.beta
        if self.name == "quadratic":
            return np.full_like(z, 2.0)
        if self.name == "softplus":
            return b * expit(b * z) * expit(-b * z)  # both factors in (0, 1): no cancellation
        if self.name == "sigmoid":
            s = expit(b * z)
            return b * b * s * (1.0 - s) * (1.0 - 2.0 * s)
        if self.name == "erf":
            return (-4.0 / math.sqrt(math.pi)) * z * np.exp(-z * z)
        return np.exp(z)


def as_activation(activation, beta=None):
    """An :class:`Activation` from a name (with ``beta``) or an ``Activation`` (then ``beta`` must be None)."""
    if isinstance(activation, Activation):
        if beta is not None:
            raise ValueError("beta must be None when activation is an Activation (it carries its own)")
        return activation
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a name in {ACTIVATIONS} or an Activation, "
                        f"got {type(activation).__name__}")
    return Activation(activation, beta)


class NetworkLoss:
    """The empirical loss ``L = (1/(2n)) sum_i (sum_j v_j sigma(w_j . x_i) - y_i)^2``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels.
    activation : str or Activation
        One of :data:`ACTIVATIONS` (default ``'quadratic'``).
    v : array_like, shape (k,), optional
        Fixed output weights. Without ``v`` they are trained, and ``k`` is required.
    k : int, optional
        Number of hidden units when ``v`` is trained (or, with ``v``, its length).
    beta : float, optional
        Slope of softplus or sigmoid.

    Attributes
    ----------
    size : int
        Length of ``theta``: ``k d``, plus ``k`` when ``v`` is trained.

    Notes
    -----
    With ``Z = X W^T`` (``n x k``), outputs ``f = sigma(Z) v`` and residuals
    ``r = f - y``, the Jacobian of ``f`` is ``v_j sigma'(z_ij) x_i`` in
    ``w_j`` and ``sigma(z_ij)`` in ``v_j``, the gradient is ``J^T r / n`` and the
    Hessian is

        H = (J^T J + sum_i r_i Hess f_i) / n,

    where ``Hess f_i`` is block diagonal in the units: ``v_j sigma''(z_ij) x_i x_i^T``
    in ``(w_j, w_j)`` and ``sigma'(z_ij) x_i`` in ``(w_j, v_j)``; ``v`` enters
    linearly, so its own block is zero.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> loss = NetworkLoss(X, [1.0, -1.0, 0.0], v=[1.0, -1.0])
    >>> theta = loss.join(np.eye(2))      # W = I: f(x) = x_1^2 - x_2^2
    >>> loss.value(theta), loss.size
    (0.0, 4)
    """

    def __init__(self, X, y, activation="quadratic", v=None, k=None, beta=None):
        self.X, self.y = as_data(X, y)
        self.n, self.d = self.X.shape
        self.activation = as_activation(activation, beta)
        self.train_v = v is None
        if self.train_v:
            if k is None:
                raise ValueError("k (the number of hidden units) is required when v is trained (v=None)")
            self.k, self.v = check_int(k, "k"), None
        else:
            self.v = as_array(v, "v", 1)
            if k is not None and check_int(k, "k") != self.v.size:
                raise ValueError(f"k = {k} does not match len(v) = {self.v.size}")
            self.k = self.v.size
        self.size = self.k * self.d + (self.k if self.train_v else 0)

    def __repr__(self):
        outputs = "trained v" if self.train_v else f"fixed v ({int(np.sum(self.v < 0))} negative)"
        return f"NetworkLoss(n={self.n}, d={self.d}, k={self.k}, {self.activation}, {outputs})"

    # -- parameters -------------------------------------------------------------------------------

    def join(self, W, v=None):
        """``theta`` from ``W`` (``k x d``) and, when ``v`` is trained, ``v`` (``k``)."""
        W = as_array(W, "W", 2)
        if W.shape != (self.k, self.d):
            raise ValueError(f"W must have shape ({self.k}, {self.d}), got {W.shape}")
        if not self.train_v:
            if v is not None:
                raise ValueError("v is fixed in this loss; pass W alone")
            return W.ravel().copy()
        if v is None:
            raise ValueError("v is trained in this loss; pass W and v")
        v = as_array(v, "v", 1)
        if v.size != self.k:
            raise ValueError(f"v must have length k = {self.k}, got {v.size}")
        return np.concatenate([W.ravel(), v])

    def split(self, theta):
        """``(W, v)`` from ``theta`` (``v`` is the fixed one when it is not trained)."""
        theta = self.check_theta(theta)
        W = theta[: self.k * self.d].reshape(self.k, self.d)
        return W, (theta[self.k * self.d:] if self.train_v else self.v)

    def check_theta(self, theta, name="theta"):
        """``theta`` as a float vector of length :attr:`size` (finiteness is the caller's concern)."""
        theta = as_real(theta, name)
        if theta.shape != (self.size,):
            raise ValueError(f"{name} must have shape ({self.size},), got {theta.shape}")
        return theta

    def random_start(self, rng=None, scale=1.0):
        """A start with i.i.d. ``N(0, scale^2 / d)`` hidden weights and, when trained, Rademacher ``v``."""
        rng = as_rng(rng)
        W = rng.standard_normal((self.k, self.d)) * (check_positive(scale, "scale") / math.sqrt(self.d))
        return self.join(W, rng.choice([-1.0, 1.0], self.k) if self.train_v else None)

    # -- the loss and its derivatives -------------------------------------------------------------

    def _forward(self, theta):
        W, v = self.split(theta)
        Z = self.X @ W.T
        return W, v, Z, self.activation(Z) @ v - self.y

    def predict(self, theta, X=None):
        """The network's outputs on ``X`` (default: the training inputs)."""
        W, v = self.split(theta)
        X = self.X if X is None else as_array(X, "X", 2)
        if X.shape[1] != self.d:
            raise ValueError(f"X must have d = {self.d} columns, got shape {X.shape}")
        return self.activation(X @ W.T) @ v

    def residuals(self, theta):
        """``r = f(X) - y``, shape ``(n,)``."""
        return self._forward(theta)[3]

    def value(self, theta):
        """``L(theta)``, a float."""
        r = self.residuals(theta)
        return float(r @ r) / (2 * self.n)

    def zero_network_loss(self):
        """``L`` of the zero network, ``mean(y^2) / 2``: the scale of ``ZERO_LOSS_RTOL``."""
        return float(self.y @ self.y) / (2 * self.n)

    def jacobian(self, theta):
        """The Jacobian of the outputs ``f(x_i)`` in ``theta``, shape ``(n, size)``."""
        W, v, Z, _ = self._forward(theta)
        JW = (self.activation.first(Z) * v)[:, :, None] * self.X[:, None, :]
        JW = JW.reshape(self.n, self.k * self.d)
        return np.hstack([JW, self.activation(Z)]) if self.train_v else JW

    def gradient(self, theta):
        """``grad L = J^T r / n``, shape ``(size,)``."""
        W, v, Z, r = self._forward(theta)
        gW = ((self.activation.first(Z) * v) * r[:, None]).T @ self.X / self.n
        if not self.train_v:
            return gW.ravel()
        return np.concatenate([gW.ravel(), self.activation(Z).T @ r / self.n])

    def hessian(self, theta):
        """The exact Hessian of ``L`` in ``theta``, shape ``(size, size)`` (see Notes)."""
        W, v, Z, r = self._forward(theta)
        J = self.jacobian(theta)
        H = J.T @ J
        kd, d = self.k * self.d, self.d
        # sum_i r_i v_j sigma''(z_ij) x_i x_i^T, one d x d block per unit.
        weights = r[:, None] * v * self.activation.second(Z)
        blocks = np.einsum("ij,ia,ib->jab", weights, self.X, self.X)
        for j in range(self.k):
            H[j * d:(j + 1) * d, j * d:(j + 1) * d] += blocks[j]
        if self.train_v:
            cross = (r[:, None] * self.activation.first(Z)).T @ self.X   # row j: d^2 f / dw_j dv_j
            for j in range(self.k):
                H[j * d:(j + 1) * d, kd + j] += cross[j]
                H[kd + j, j * d:(j + 1) * d] += cross[j]
        H /= self.n
        return 0.5 * (H + H.T)

    def gradient_scale(self, theta):
        """``||J||_2 (||r|| + ||y||) / n``: the size of ``grad L`` without cancellation (see ``GTOL``)."""
        r = self.residuals(theta)
        J = self.jacobian(theta)
        return float(np.linalg.norm(J, 2) * (np.linalg.norm(r) + np.linalg.norm(self.y)) / self.n)

    # -- second-order stationarity ----------------------------------------------------------------

    def symmetry_dimension(self, theta):
        """``size - rank(dM)``: the directions that leave the function unchanged to first order.

        For the quadratic activation the network is ``x^T M x`` with
        ``M = W^T diag(v) W``, so the loss is constant along the fibre of
        ``theta -> M``. Where that map has constant rank near ``theta`` the
        fibre is a manifold of this dimension, whose tangent space lies in
        the Hessian's null space. Where the rank drops at ``theta`` (a zero
        row of ``W``, or a zero trained ``v_j``), the kernel of ``dM`` is
        larger than the fibre's tangent space and this number is an upper
        bound on the fibre's dimension. For the other activations no
        continuous symmetry is known in general and ``None`` is returned.
        """
        if self.activation.name != "quadratic":
            return None
        W, v = self.split(theta)
        d, k = self.d, self.k
        # dM = sum_j v_j (dw_j w_j^T + w_j dw_j^T) + dv_j w_j w_j^T, as columns of vec(M).
        eye = np.eye(d)
        cols = []
        for j in range(k):
            outer = np.einsum("a,bc->abc", W[j], eye)         # d(w_j w_j^T)/d w_j[c], pieces
            cols.append(v[j] * (outer + np.swapaxes(outer, 0, 1)).reshape(d * d, d))
        D = np.hstack(cols)
        if self.train_v:
            D = np.hstack([D, np.stack([np.outer(w, w).ravel() for w in W], axis=1)])
        s = np.linalg.svd(D, compute_uv=False)
        rank = int(np.sum(s > RANK_RTOL * s[0])) if s.size and s[0] > 0 else 0
        return self.size - rank

    def stationarity(self, theta):
        """The second-order stationarity report at ``theta``.

        Returns
        -------
        Result
            ``loss``, ``relative_loss`` (``loss / L(0)``), ``zero_loss``
            (``relative_loss <= ZERO_LOSS_RTOL``), ``gradient_norm``,
            ``gradient_scale``, ``stationary`` (``gradient_norm <= GTOL *
            gradient_scale``), ``eigenvalues`` (of the Hessian, ascending),
            ``min_eigenvalue``, ``negative`` and ``null`` (counts of
            eigenvalues below ``-EIG_RTOL max|lambda|`` and within it),
            ``symmetry_dimension`` (quadratic activation; else None) and
            ``certified_minimum``: True at zero loss (a global minimum of a
            sum of squares); otherwise the second-order test for the quadratic
            activation: stationary, no negative eigenvalue, and a null space
            no larger than ``symmetry_dimension``. Where ``theta -> M`` has
            constant rank near ``theta`` this proves a local minimum (the
            loss grows quadratically off the fibre); where the rank drops it
            is the second-order necessary condition with that count, and a
            local minimum must be confirmed otherwise (the chapter perturbs
            and descends again). None for the other activations.
        """
        theta = as_array(self.check_theta(theta), "theta", 1)
        loss, scale = self.value(theta), self.gradient_scale(theta)
        gnorm = float(np.linalg.norm(self.gradient(theta)))
        lam = np.linalg.eigvalsh(self.hessian(theta))
        cut = EIG_RTOL * float(np.max(np.abs(lam)))
        negative, null = int(np.sum(lam < -cut)), int(np.sum(np.abs(lam) <= cut))
        stationary = gnorm <= GTOL * scale
        sym = self.symmetry_dimension(theta)
        reference = self.zero_network_loss()
        relative = loss / reference if reference > 0 else (0.0 if loss == 0 else math.inf)
        zero = relative <= ZERO_LOSS_RTOL
        # A zero of a sum of squares is a global minimum whatever its Hessian; otherwise the
        # second-order test needs the symmetry fibre, known for the quadratic activation only.
        certified = True if zero else (None if sym is None else bool(stationary and negative == 0 and null <= sym))
        return Result(success=True, status=0, message="report computed", loss=loss, relative_loss=relative,
                      zero_loss=bool(zero), gradient_norm=gnorm, gradient_scale=scale,
                      stationary=bool(stationary), eigenvalues=lam, min_eigenvalue=float(lam[0]),
                      negative=negative, null=null, symmetry_dimension=sym, certified_minimum=certified)


def check_loss_object(loss):
    """``loss`` after checking it is a :class:`NetworkLoss`."""
    if not isinstance(loss, NetworkLoss):
        raise TypeError(f"loss must be a NetworkLoss, got {type(loss).__name__}")
    return loss


def _start(loss, theta0):
    return as_array(loss.check_theta(theta0, "theta0"), "theta0", 1).copy()


def network_flow(loss, theta0, t_eval, method="LSODA", rtol=1e-9, atol=1e-12, step=None,
                 max_steps=10_000_000, stop_rtol=None):
    """Gradient flow ``d theta / dt = -grad L(theta)`` of a :class:`NetworkLoss`.

    The same conventions as :func:`qnb.weight_flow`: SciPy's integrators with
    the exact Jacobian ``-Hess L`` for the implicit ones (``'LSODA'``,
    ``'BDF'``, ``'Radau'``), or ``'gd'``, gradient descent with a fixed
    ``step`` landing on each output time, reported as diverged when the loss
    rises above its start.

    Parameters
    ----------
    loss : NetworkLoss
    theta0 : array_like, shape (loss.size,)
        The start (:meth:`NetworkLoss.join` builds it from ``W`` and ``v``).
    t_eval : array_like
        Strictly increasing, non-negative output times. For ``'gd'``,
        ``t = step * iterations``.
    method : {'LSODA', 'BDF', 'Radau', 'RK45', 'RK23', 'DOP853', 'gd'}
    rtol, atol : float
        Integrator tolerances on ``theta``.
    step : float, optional
        Step size of ``'gd'`` (required there).
    max_steps : int
        Cap on the number of ``'gd'`` steps.
    stop_rtol : float, optional
        Integrators only: end the run after the first step at which the loss
        is at most ``stop_rtol`` times the zero network's; the later output
        times repeat that state (see :func:`qnb.flow_to_limit`).

    Returns
    -------
    Result
        ``t``, ``theta`` (shape ``(len(t), size)``, NaN after a failure),
        ``loss`` at each time, ``success``, ``status``, ``message``,
        ``method`` and counts, as in :func:`qnb.weight_flow`; with
        ``stop_rtol``, also ``stopped_at`` (the time of that step, or None).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> loss = NetworkLoss(X, [1.0, -1.0, 0.0], v=[1.0, -1.0])
    >>> res = network_flow(loss, loss.join(np.array([[1.0, 0.2], [0.1, 0.8]])), [0.0, 200.0])
    >>> res.success, bool(res.loss[-1] < 1e-12)
    (True, True)
    """
    loss = check_loss_object(loss)
    theta0 = _start(loss, theta0)
    options = solver_options(t_eval, method, WEIGHT_METHODS, rtol, atol, step, max_steps)
    t_eval = options["t_eval"]
    stop = None
    if stop_rtol is not None:
        if options["method"] == "gd":
            raise ValueError("stop_rtol applies to the integrators, not to method='gd'")
        floor = check_positive(stop_rtol, "stop_rtol") * loss.zero_network_loss()
        stop = lambda th: loss.value(th) <= floor  # noqa: E731
    if options["method"] == "gd":
        traj, result = fixed_steps(theta0, lambda th, h: th - h * loss.gradient(th), t_eval, options["step"],
                                   options["max_steps"], loss.value)
    else:
        traj, result = integrate(lambda t, th: -loss.gradient(th), theta0, t_eval, options["method"],
                                 options["rtol"], options["atol"], lambda t, th: -loss.hessian(th), stop=stop)
    values = np.array([loss.value(th) if np.all(np.isfinite(th)) else np.nan for th in traj])
    result.update(t=t_eval, theta=traj, loss=values)
    if result.get("stopped_at") is not None:
        result.message = (f"the loss fell to {stop_rtol:g} of the zero network's at t = "
                          f"{result.stopped_at:.3g}; the later output times repeat that state")
    return result


def _descent_steps(loss, theta, step, gtol, max_steps, record_every):
    """Gradient descent until ``||grad|| <= gtol``; the state, the counts, the history and why it stopped."""
    start = loss.value(theta)
    ceiling = loss_ceiling(start, loss.zero_network_loss())
    steps, values, nsteps, reason = [0], [start], 0, ""
    g = loss.gradient(theta)
    gnorm = float(np.linalg.norm(g))
    with np.errstate(over="ignore", invalid="ignore"):
        while gnorm > gtol and nsteps < max_steps:
            theta = theta - step * g
            nsteps += 1
            g = loss.gradient(theta)
            gnorm = float(np.linalg.norm(g))
            if not math.isfinite(gnorm):
                reason = "non-finite gradient"
                break
            if nsteps % record_every == 0 or gnorm <= gtol:
                value = loss.value(theta)
                steps.append(nsteps)
                values.append(value)
                if not value <= ceiling:  # a stable step never raises the loss
                    reason = f"the loss rose to {value:.3g}, above its starting value {start:.3g}"
                    break
    return theta, gnorm, nsteps, reason, np.array(steps), np.array(values)


def gradient_descent(loss, theta0, step, *, gtol=None, max_steps=100_000, record_every=10):
    """Gradient descent ``theta <- theta - step grad L`` until the gradient is small.

    Parameters
    ----------
    loss : NetworkLoss
    theta0 : array_like, shape (loss.size,)
    step : float
        The step size.
    gtol : float, optional
        Stop when ``||grad L|| <= gtol``; default ``GTOL`` times the gradient
        scale at ``theta0`` (a relative tolerance).
    max_steps : int
        Cap on the number of steps.
    record_every : int
        Record the loss every this many steps (and at the last one).

    Returns
    -------
    Result
        ``theta``, ``loss``, ``gradient_norm``, ``nsteps``, ``steps`` and
        ``losses`` (the recorded history), ``success`` (the gradient reached
        ``gtol``), ``status`` (``STATUS_CONVERGED``, ``STATUS_MAX_STEPS`` or
        ``STATUS_DIVERGED``: non-finite, or the loss rose above its start)
        and ``message``; at ``STATUS_MAX_STEPS`` the message also says when
        the loss fell far less than a stable step guarantees, the sign of a
        step beyond the stability limit.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> loss = NetworkLoss(X, [1.0, -1.0, 0.0], v=[1.0, -1.0])
    >>> res = gradient_descent(loss, loss.join(np.array([[1.0, 0.2], [0.1, 0.8]])), 0.1, gtol=1e-10)
    >>> res.success, bool(res.loss < 1e-18)
    (True, True)
    """
    loss = check_loss_object(loss)
    theta = _start(loss, theta0)
    step = check_positive(step, "step")
    gtol = GTOL * loss.gradient_scale(theta) if gtol is None else check_positive(gtol, "gtol")
    max_steps = check_int(max_steps, "max_steps")
    record_every = check_int(record_every, "record_every")
    theta, gnorm, nsteps, reason, steps, values = _descent_steps(loss, theta, step, gtol, max_steps,
                                                                 record_every)
    status = STATUS_DIVERGED if reason else (STATUS_CONVERGED if gnorm <= gtol else STATUS_MAX_STEPS)
    message = DESCENT_MESSAGES[status].format(gnorm=gnorm, gtol=gtol, nsteps=nsteps, reason=reason)
    if status == STATUS_MAX_STEPS:
        message += _stalled(steps, values, step, gnorm)
    return Result(success=status == STATUS_CONVERGED, status=status, message=message,
                  theta=theta, loss=loss.value(theta) if not reason else math.nan, gradient_norm=gnorm,
                  nsteps=nsteps, steps=steps, losses=values)


def _stalled(steps, values, step, gnorm):
    """Why a run that used up its steps did not converge, when its history shows it: ``''`` otherwise.

    Below the stability limit each step lowers the loss by at least
    ``step ||grad||^2 / 2``. A run whose loss fell by less than a thousandth
    of that over its last recorded interval, with the gradient still large
    at the end, has a step at or beyond the limit: its iterates oscillate (a
    period-two cycle keeps the loss bounded, so the divergence check, which
    compares with the starting loss, does not fire). Only the message says
    so; the status stays ``STATUS_MAX_STEPS``.
    """
    if len(values) < 2:
        return ""
    interval = steps[-1] - steps[-2]
    guaranteed = step * gnorm ** 2 * interval / 2
    fell = values[-2] - values[-1]
    if not fell < 1e-3 * guaranteed:
        return ""
    return (f"; over the last {interval} steps the loss fell by {fell:.3g}, far less than the "
            f"{guaranteed:.3g} a stable step guarantees: the step is at or beyond the stability limit "
            "(the iterates oscillate); decrease step")


def polish_stationary_point(loss, theta0, max_nfev=200):
    """Newton-type refinement of a near-stationary ``theta0``: a root of ``grad L`` near it.

    Levenberg-Marquardt on the residual ``grad L`` with the exact Hessian as
    its Jacobian (:func:`scipy.optimize.least_squares`), which converges
    quadratically to the stationary point that gradient descent approaches
    linearly. The result is a point; whether it is stationary, and of what
    kind, is for :meth:`NetworkLoss.stationarity` to say.
    """
    loss = check_loss_object(loss)
    theta0 = _start(loss, theta0)
    sol = least_squares(loss.gradient, theta0, jac=loss.hessian, method="lm", xtol=1e-15, ftol=1e-15,
                        gtol=1e-15, max_nfev=check_int(max_nfev, "max_nfev"))
    return sol.x


def perturbed_gradient_descent(loss, theta0, step, epsilon, *, curvature_tol=None, radius=None,
                               escape_steps=None, max_steps=200_000, rng=0):
    """Perturbed gradient descent to an ``epsilon``-second-order stationary point.

    Gradient descent; whenever the gradient norm is at most ``epsilon``, the
    point is a candidate. A candidate whose smallest Hessian eigenvalue is at
    least ``-curvature_tol`` is returned. Otherwise the iterate is moved by a
    uniform random vector in the ball of ``radius`` (as in Jin, Ge,
    Netrapalli, Kakade and Jordan 2017) and descent goes on; a new
    perturbation is allowed only after ``escape_steps`` steps. The exact
    Hessian replaces the function-decrease test of that algorithm as the
    stopping rule, so a returned point is verified, not presumed.

    Parameters
    ----------
    loss : NetworkLoss
    theta0 : array_like, shape (loss.size,)
    step : float
        Step size.
    epsilon : float
        Gradient-norm tolerance.
    curvature_tol : float, optional
        Allowed negative curvature; default ``sqrt(epsilon)`` (the usual
        ``epsilon``-second-order condition with unit Hessian-Lipschitz constant).
    radius : float, optional
        Perturbation radius; default ``max(epsilon, 1e-3 ||theta0||)``, so that
        a perturbation is not lost in round-off at a tiny ``epsilon``.
    escape_steps : int, optional
        Steps between perturbations; default ``ceil(10 / (step * curvature_tol))``,
        the time to grow a component along a ``-curvature_tol`` direction by ``e^10``.
    max_steps : int
        Cap on the number of steps.
    rng : None, int or Generator
        Seed of the perturbations.

    Returns
    -------
    Result
        ``theta``, ``loss``, ``gradient_norm``, ``min_eigenvalue``,
        ``perturbations``, ``nsteps``, ``success`` (an ``epsilon``-second-order
        stationary point, verified with the exact Hessian), ``status`` and
        ``message``.
    """
    loss = check_loss_object(loss)
    theta = _start(loss, theta0)
    step = check_positive(step, "step")
    epsilon = check_positive(epsilon, "epsilon")
    ctol = math.sqrt(epsilon) if curvature_tol is None else check_positive(curvature_tol, "curvature_tol")
    radius = (max(epsilon, 1e-3 * float(np.linalg.norm(theta))) if radius is None
              else check_positive(radius, "radius"))
    escape = (math.ceil(10.0 / (step * ctol)) if escape_steps is None
              else check_int(escape_steps, "escape_steps"))
    max_steps = check_int(max_steps, "max_steps")
    rng = as_rng(rng)
    nsteps, perturbations, lam, reason = 0, 0, math.nan, ""
    status = STATUS_MAX_STEPS
    # Every pass ends with a check of the current point, also after an escape that used up max_steps
    # (with no steps left the descent only evaluates the gradient), so the status, the message and
    # min_eigenvalue always describe the returned theta.
    while True:
        theta, gnorm, taken, reason, _, _ = _descent_steps(loss, theta, step, epsilon, max_steps - nsteps,
                                                           max_steps)
        nsteps += taken
        if reason or gnorm > epsilon:
            status = STATUS_DIVERGED if reason else STATUS_MAX_STEPS
            break
        lam = float(np.linalg.eigvalsh(loss.hessian(theta))[0])
        if lam >= -ctol:
            status = STATUS_CONVERGED
            break
        status = STATUS_NOT_SECOND_ORDER
        if nsteps >= max_steps:
            break
        direction = rng.standard_normal(theta.size)
        direction *= radius * rng.random() ** (1.0 / theta.size) / np.linalg.norm(direction)
        theta, perturbations = theta + direction, perturbations + 1
        lam = math.nan  # the eigenvalue checked belongs to the point left behind
        # Plain descent for escape_steps (gtol 0), so the small gradient near the saddle does not stop it.
        theta, _, taken, reason, _, _ = _descent_steps(loss, theta, step, 0.0, min(escape, max_steps - nsteps),
                                                       max_steps)
        nsteps += taken
        if reason:
            status = STATUS_DIVERGED
            break
    gnorm = float(np.linalg.norm(loss.gradient(theta))) if not reason else math.nan
    return Result(success=status == STATUS_CONVERGED, status=status,
                  message=PGD_MESSAGES[status].format(nsteps=nsteps, perturbations=perturbations, gnorm=gnorm,
                                                      gtol=epsilon, lam=lam, ctol=ctol, reason=reason),
                  theta=theta, loss=loss.value(theta) if not reason else math.nan, gradient_norm=gnorm,
                  min_eigenvalue=lam, perturbations=perturbations, nsteps=nsteps)
