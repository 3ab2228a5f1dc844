"""The descent dynamics of any loss object, on the weights and on ``A``, and the drivers that solve them.

Weight flow, eq. (3) (population version (7)):
    ``dW/dt = -W G(A)``, ``A = W^T W / m``, with ``G`` the gradient of the loss.
Matrix flow, eq. (5) (population version (8)), Lemmas 2.1 and 2.2:
    ``dA/dt = -(A G(A) + G(A) A)``.

A loss is an :class:`~qnb.EmpiricalLoss` or a :class:`~qnb.PopulationLoss`:
anything with ``d``, ``value``, ``gradient`` and ``hessian_action``. Both are
quadratic, so the derivative of ``G`` is a constant linear map and the
Jacobians below take it from ``hessian_action`` once per problem.
:mod:`qnb.flows` and :mod:`qnb.population` check the arguments and call the
drivers here.
"""

from __future__ import annotations

import numpy as np

from ._integration import FIXED_STEP_METHOD, fixed_steps, integrate
from ._symmetric import SymmetricCoordinates, congruence_step, descent_velocity, factor, nonzero_eigenvalues
from ._validation import as_array, as_psd, check_int, check_loss


class MatrixFlow:
    """Right-hand side and Jacobian of the matrix flow ``dA/dt = -(A G(A) + G(A) A)``, eq. (5)/(8).

    The state is ``vech(A)``, the ``d (d + 1) / 2`` upper-triangle entries,
    in the form :func:`scipy.integrate.solve_ivp` calls (``rhs(t, h)``,
    ``jac(t, h)``).

    Parameters
    ----------
    loss : EmpiricalLoss or PopulationLoss
        The loss whose gradient ``G`` drives the flow.

    Examples
    --------
    The population flow linearised at a full-rank teacher decays at the
    rates of :func:`qnb.decay_rates`:

    >>> import numpy as np
    >>> from qnb import PopulationLoss, decay_rates
    >>> flow = MatrixFlow(PopulationLoss(np.diag([1.0, 2.0])))
    >>> J = flow.jac(0.0, flow.coordinates.vech(np.diag([1.0, 2.0])))
    >>> rates = np.sort(-np.linalg.eigvals(J).real)
    >>> r = decay_rates([1.0, 2.0])
    >>> bool(np.allclose(rates, np.sort(np.r_[r.diagonal, r.off_diagonal])))
    True
    """

    def __init__(self, loss):
        self.loss = check_loss(loss)
        self.coordinates = SymmetricCoordinates(loss.d)
        self.basis = self.coordinates.basis()
        self.basis_dG = loss.hessian_action(self.basis)

    def velocity(self, A):
        """``-(A G + G A)`` at ``A`` (one matrix)."""
        return descent_velocity(A, self.loss.gradient(A))

    def rhs(self, t, h):
        """``vech`` of the velocity at ``A = unvech(h)``."""
        return self.coordinates.vech(self.velocity(self.coordinates.unvech(h)))

    def jac(self, t, h):
        """Jacobian of :meth:`rhs` in ``h``: ``dF[E] = -(E G + G E + A dG[E] + dG[E] A)``, shape ``(p, p)``."""
        A = self.coordinates.unvech(h)
        G = self.loss.gradient(A)
        H, dG = self.basis, self.basis_dG
        dF = H @ G + G @ H + A @ dG + dG @ A
        return -self.coordinates.vech(dF).T


class WeightFlow:
    """Right-hand side and Jacobian of the weight flow ``dW/dt = -W G(W^T W / m)``, eq. (3)/(7).

    The state is ``W`` of shape ``(m, d)``, flattened row by row. Any factor
    with ``gram(W) = A`` carries the same ``A`` flow (Lemma 2.1), and along it
    ``A`` stays positive semidefinite with rank at most ``m`` by construction.

    Parameters
    ----------
    loss : EmpiricalLoss or PopulationLoss
        The loss whose gradient ``G`` drives the flow.
    m : int
        Number of hidden units (rows of ``W``).

    Examples
    --------
    >>> import numpy as np
    >>> from qnb import PopulationLoss
    >>> flow = WeightFlow(PopulationLoss(np.eye(2)), 1)
    >>> flow.rhs(0.0, np.array([1.0, 0.0]))   # G(diag(1, 0)) = diag(-1, -3): W grows
    array([1., 0.])
    """

    def __init__(self, loss, m):
        self.loss = check_loss(loss)
        self.m, self.d = check_int(m, "m"), loss.d
        # Coordinate directions E_ij of the weights, as an (m d, m, d) stack.
        self.basis = np.eye(m * self.d).reshape(m * self.d, m, self.d)

    def velocity(self, W):
        """``-W G(W^T W / m)``."""
        return -W @ self.loss.gradient(W.T @ W / self.m)

    def rhs(self, t, w):
        """The flattened velocity at ``W = w.reshape(m, d)``."""
        return self.velocity(w.reshape(self.m, self.d)).ravel()

    def jac(self, t, w):
        """Jacobian of :meth:`rhs` in ``w``, shape ``(m d, m d)``."""
        W = w.reshape(self.m, self.d)
        G = self.loss.gradient(W.T @ W / self.m)
        E = self.basis
        # Direction of A produced by moving W along E: (E^T W + W^T E) / m.
        WtE = np.swapaxes(E, 1, 2) @ W
        H = (WtE + np.swapaxes(WtE, 1, 2)) / self.m
        dV = E @ G + W @ self.loss.hessian_action(H)
        return -dV.reshape(self.m * self.d, -1).T


# The flows (3)/(5) and (7)/(8) have velocity -W G and -(A G + G A), zero at W = 0 and A = 0:
# a zero start never moves, so it is refused as an argument rather than solved.
_ZERO_START = ("{name} is zero{how}: {state} = 0 is a fixed point of the flow, which never leaves it; "
               "start from {start}")


def check_weights(W0, d):
    """``W0`` as a finite, nonzero ``(m, d)`` array."""
    W0 = as_array(W0, "W0", 2)
    if W0.shape[1] != d:
        raise ValueError(f"W0 must have d = {d} columns (one per input coordinate), got shape {W0.shape}")
    if not np.any(W0):
        raise ValueError(_ZERO_START.format(name="W0", how="", state="W", start="nonzero weights"))
    return W0


def check_matrix_start(A0, d):
    """``A0`` as a positive semidefinite ``(d, d)`` matrix of numerical rank at least one.

    A start whose eigenvalues are all below the rank cut (``RANK_RTOL`` times
    the smallest normal number when they are all that small) has no factor to
    integrate on; it is ``A = 0`` to round-off.
    """
    A0 = as_psd(A0, "A0", d)
    if not np.any(nonzero_eigenvalues(np.linalg.eigvalsh(A0))):
        how = "" if not np.any(A0) else f" to round-off (largest entry {np.max(np.abs(A0)):.3g})"
        raise ValueError(_ZERO_START.format(name="A0", how=how, state="A",
                                            start="a nonzero positive semidefinite matrix"))
    return A0


def attach_losses(result, loss, population_loss=None):
    """Add ``loss`` (and ``population_loss`` when given) at every state ``result.A``; NaN for non-finite states."""
    def along(f):
        return np.array([f.value(A) if np.all(np.isfinite(A)) else np.nan for A in result.A])

    result["loss"] = along(loss)
    if population_loss is not None:
        result["population_loss"] = along(population_loss)
    return result


def _gram_trajectory(W_traj):
    return np.einsum("tji,tjk->tik", W_traj, W_traj) / W_traj.shape[1]


def _weights_by_integrator(W0, loss, t_eval, method, rtol, atol):
    flow = WeightFlow(loss, W0.shape[0])
    w_traj, result = integrate(flow.rhs, W0.ravel(), t_eval, method, rtol, atol, flow.jac)
    return w_traj.reshape(t_eval.size, *W0.shape), result


def solve_matrix_flow(A0, loss, t_eval, method, rtol, atol, step, max_steps):
    """Solve (5)/(8) from ``A0``; a ``Result`` with ``t``, ``A``, ``representation`` and the status fields.

    ``'gd'`` iterates the congruence ``A <- (I - step G) A (I - step G)``. A
    full-rank start is integrated on the ``d(d+1)/2`` entries of ``A``. A
    singular start is integrated on a factor ``W`` with ``r = rank(A0)`` rows:
    on the entries of ``A`` round-off would create slightly negative
    eigenvalues in null directions where the flow is unstable, and they
    would grow without bound, whereas a factor keeps ``A`` positive
    semidefinite with rank at most ``r``, as the exact flow does.
    """
    if method == FIXED_STEP_METHOD:
        A_traj, result = fixed_steps(A0, lambda A, h: congruence_step(A, loss.gradient(A), h), t_eval,
                                     step, max_steps, loss.value)
        representation = "matrix"
    else:
        A_traj, result, representation = _matrix_by_integrator(A0, loss, t_eval, method, rtol, atol)
    result.update(representation=representation, t=t_eval, A=A_traj)
    return result


def _matrix_by_integrator(A0, loss, t_eval, method, rtol, atol):
    """Integrate on ``vech(A)`` from a full-rank start, else on a factor of ``A0``; also say which."""
    W0 = factor(A0)
    if W0.shape[0] < loss.d:
        W_traj, result = _weights_by_integrator(W0, loss, t_eval, method, rtol, atol)
        return _gram_trajectory(W_traj), result, f"factor of rank {W0.shape[0]}"
    flow = MatrixFlow(loss)
    h_traj, result = integrate(flow.rhs, flow.coordinates.vech(A0), t_eval, method, rtol, atol, flow.jac)
    return flow.coordinates.unvech(h_traj), result, "matrix"


def solve_weight_flow(W0, loss, t_eval, method, rtol, atol, step, max_steps):
    """Solve (3)/(7) from ``W0``; a ``Result`` with ``t``, ``W``, ``A = gram(W)`` and the status fields."""
    if method == FIXED_STEP_METHOD:
        flow = WeightFlow(loss, W0.shape[0])
        W_traj, result = fixed_steps(W0, lambda W, h: W + h * flow.velocity(W), t_eval, step, max_steps,
                                     lambda W: loss.value(W.T @ W / W.shape[0]))
    else:
        W_traj, result = _weights_by_integrator(W0, loss, t_eval, method, rtol, atol)
    result.update(t=t_eval, W=W_traj, A=_gram_trajectory(W_traj))
    return result
