"""The two losses of the matrix ``A``, each one object with its value, gradient and Hessian.

With ``X_k = x_k x_k^T`` the empirical loss, eq. (6) of Sarao Mannelli et al.,
is ``E_n(A) = (1/2n) sum_k tr(X_k (A - A*))^2``; it is twice the weight-space
loss ``L_n`` of eq. (2). Its Gaussian average is eq. (9),
``E(A) = tr((A - A*)^2) + (tr(A - A*))^2 / 2``, by the fourth-moment identity
``E[(x^T M x)^2] = 2 tr(M^2) + (tr M)^2`` for symmetric ``M``.

:class:`EmpiricalLoss` and :class:`PopulationLoss` hold what a solver needs,
in the manner of SciPy's ``ScalarFunction``: ``value``, ``gradient`` and
``hessian_action``, the derivative ``dG[H]`` of the gradient along ``H``.
Both losses are quadratic in ``A``, so ``dG`` does not depend on ``A``: the
flows build their Jacobians from it once per problem. Every method takes one
matrix ``(d, d)`` or a stack ``(..., d, d)`` (the images of a string) and
answers for each; it checks shapes only, so the flows can call it at every
step. The functions :func:`empirical_loss` ... check their arguments fully.

The risk of Gamarnik, Kizildag and Zadik (seeds 001 and 002) is written in
``B = W^T W`` (no ``1/m``) and for inputs with i.i.d. centred coordinates of
any law with moments ``mu2 = E x_i^2`` and ``mu4 = E x_i^4``:
:func:`population_risk`, ``L(B) = E[(x^T (B - B*) x)^2]``. For Gaussian
inputs it is twice :func:`population_loss` of the same matrices.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_data, as_matrix_stack, as_symmetric, symmetry_tolerance
from .data import input_moments


def _scalar_or_stack(values):
    """A plain float for one matrix, an array for a stack."""
    return float(values) if values.ndim == 0 else values


class EmpiricalLoss:
    """Empirical loss ``E_n(A) = (1/2n) sum_k (x_k^T A x_k - y_k)^2``, eq. (6), of one data set.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels, ``y_k = x_k^T A* x_k`` for a teacher ``A*``.

    Attributes
    ----------
    X, y : ndarray
        The checked data.
    n, d : int
        Number of samples and input dimension.

    Examples
    --------
    >>> import numpy as np
    >>> loss = EmpiricalLoss(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([0.0, 0.0]))
    >>> loss.value(np.eye(2))
    4.25
    >>> loss.gradient(np.stack([np.eye(2), np.zeros((2, 2))]))[:, 1, 1]
    array([8., 0.])
    >>> loss.hessian_action(np.diag([0.0, 1.0]))
    array([[0., 0.],
           [0., 8.]])
    """

    def __init__(self, X, y):
        self.X, self.y = as_data(X, y)
        self.n, self.d = self.X.shape

    def residuals(self, A):
        """``r_k = x_k^T A x_k - y_k``, shape ``(..., n)``."""
        A = as_matrix_stack(A, "A", self.d)
        # A product and a row sum: several times faster than the equivalent einsum.
        return np.sum((self.X @ A) * self.X, axis=-1) - self.y

    def value(self, A):
        """``E_n(A)``: a float for one matrix, shape ``(...)`` for a stack."""
        r = self.residuals(A)
        return _scalar_or_stack(0.5 * (r[..., None, :] @ r[..., :, None])[..., 0, 0] / self.n)

    def gradient(self, A):
        """``G = (1/n) sum_k r_k x_k x_k^T``: ``E_n(A + H) = E_n(A) + tr(G H) + O(|H|^2)``."""
        r = self.residuals(A)
        G = (self.X.T * r[..., None, :]) @ self.X / self.n
        return 0.5 * (G + np.swapaxes(G, -1, -2))

    def hessian_action(self, H):
        """``dG[H] = (1/n) sum_k (x_k^T H x_k) x_k x_k^T``, the same at every ``A``."""
        H = as_matrix_stack(H, "H", self.d)
        flat = H.reshape(-1, self.d, self.d)
        s = np.einsum("ki,qij,kj->qk", self.X, flat, self.X)
        return (np.einsum("qk,ki,kj->qij", s, self.X, self.X) / self.n).reshape(H.shape)

    def hessian_norm(self):
        """Largest eigenvalue of ``H -> dG[H]`` on symmetric matrices (Frobenius product).

        With ``Phi H = (x_k^T H x_k)_k`` the map is ``Phi^T Phi / n``, whose
        nonzero eigenvalues are those of ``Phi Phi^T / n``, the ``n x n``
        matrix ``(x_k . x_l)^2 / n``.
        """
        K = (self.X @ self.X.T) ** 2 / self.n
        return float(np.linalg.eigvalsh(K)[-1])


class PopulationLoss:
    """Population loss ``E(A) = tr((A - A*)^2) + (tr(A - A*))^2 / 2``, eq. (9), of one teacher.

    The average of :class:`EmpiricalLoss` over Gaussian inputs.

    Parameters
    ----------
    A_star : array_like, shape (d, d)
        Symmetric teacher matrix.

    Attributes
    ----------
    A_star : ndarray
        The checked teacher.
    d : int
        Input dimension.

    Examples
    --------
    >>> import numpy as np
    >>> loss = PopulationLoss(np.zeros((2, 2)))
    >>> loss.value(np.stack([np.eye(2), 2 * np.eye(2)]))
    array([ 4., 16.])
    >>> loss.gradient(np.eye(2))
    array([[4., 0.],
           [0., 4.]])
    >>> loss.hessian_action(np.eye(2))
    array([[4., 0.],
           [0., 4.]])
    """

    def __init__(self, A_star):
        self.A_star = as_symmetric(A_star, "A_star")
        self.d = self.A_star.shape[0]

    def value(self, A):
        """``E(A)``: a float for one matrix, shape ``(...)`` for a stack."""
        D = as_matrix_stack(A, "A", self.d) - self.A_star
        trace = np.trace(D, axis1=-2, axis2=-1)
        return _scalar_or_stack(np.sum(D * D, axis=(-2, -1)) + 0.5 * trace**2)

    def gradient(self, A):
        """``G = 2 (A - A*) + tr(A - A*) I``."""
        D = as_matrix_stack(A, "A", self.d) - self.A_star
        return 2.0 * D + np.trace(D, axis1=-2, axis2=-1)[..., None, None] * np.eye(self.d)

    def hessian_action(self, H):
        """``dG[H] = 2 H + tr(H) I``, the same at every ``A``."""
        H = as_matrix_stack(H, "H", self.d)
        return 2.0 * H + np.trace(H, axis1=-2, axis2=-1)[..., None, None] * np.eye(self.d)

    def hessian_norm(self):
        """Largest eigenvalue of ``H -> 2 H + tr(H) I``: ``d + 2``, along ``H = I``."""
        return self.d + 2.0


def empirical_loss(A, X, y):
    """Empirical loss ``E_n(A) = (1/2n) sum_k (x_k^T A x_k - y_k)^2``, eq. (6).

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric student matrix.
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels, ``y_k = x_k^T A* x_k`` for a teacher ``A*``.

    Returns
    -------
    float
        ``E_n(A)``; the weight-space loss (2) is half of it.

    See Also
    --------
    EmpiricalLoss : the same loss as an object, for stacks and repeated calls.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> empirical_loss(np.eye(2), X, np.array([0.0, 0.0]))
    4.25
    """
    loss = EmpiricalLoss(X, y)
    return loss.value(as_symmetric(A, "A", loss.d))


def empirical_gradient(A, X, y):
    """Gradient ``(1/n) sum_k (x_k^T A x_k - y_k) x_k x_k^T`` of ``E_n`` in ``A``.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric student matrix.
    X : array_like, shape (n, d)
        Inputs, one per row.
    y : array_like, shape (n,)
        Labels.

    Returns
    -------
    G : ndarray, shape (d, d)
        Symmetric matrix with ``E_n(A + H) = E_n(A) + tr(G H) + O(|H|^2)``
        for symmetric ``H``.

    Examples
    --------
    >>> import numpy as np
    >>> empirical_gradient(np.eye(2), np.array([[1.0, 0.0]]), np.array([0.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    loss = EmpiricalLoss(X, y)
    return loss.gradient(as_symmetric(A, "A", loss.d))


def population_loss(A, A_star):
    """Population loss ``E(A) = tr((A - A*)^2) + (tr(A - A*))^2 / 2``, eq. (9).

    This is the expectation of :func:`empirical_loss` over Gaussian inputs
    (twice the population version of the weight-space loss).

    Parameters
    ----------
    A, A_star : array_like, shape (d, d)
        Symmetric student and teacher matrices.

    Returns
    -------
    float

    See Also
    --------
    PopulationLoss : the same loss as an object, for stacks and repeated calls.

    Examples
    --------
    >>> import numpy as np
    >>> population_loss(np.eye(3), np.zeros((3, 3)))
    7.5
    """
    loss = PopulationLoss(A_star)
    return loss.value(as_symmetric(A, "A", loss.d))


def population_gradient(A, A_star):
    """Gradient ``2 (A - A*) + tr(A - A*) I`` of the population loss.

    Parameters
    ----------
    A, A_star : array_like, shape (d, d)
        Symmetric student and teacher matrices.

    Returns
    -------
    G : ndarray, shape (d, d)

    Examples
    --------
    >>> import numpy as np
    >>> population_gradient(np.eye(2), np.zeros((2, 2)))
    array([[4., 0.],
           [0., 4.]])
    """
    loss = PopulationLoss(A_star)
    return loss.gradient(as_symmetric(A, "A", loss.d))



def _matrix_stack_checked(value, name, d):
    """A finite stack ``(..., d, d)`` of symmetric matrices (round-off asymmetry removed)."""
    arr = as_matrix_stack(value, name, d)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    asym = float(np.max(np.abs(arr - np.swapaxes(arr, -1, -2)))) if arr.size else 0.0
    if asym > symmetry_tolerance(arr):
        raise ValueError(f"{name} must be symmetric; max |{name} - {name}.T| = {asym:.3g}")
    return 0.5 * (arr + np.swapaxes(arr, -1, -2))


def _risk_terms(B, B_star, inputs):
    """Checked ``D = B - B*``, its diagonal and trace, and the moments ``mu2, mu4``."""
    B_star = as_symmetric(B_star, "B_star")
    B = _matrix_stack_checked(B, "B", B_star.shape[0])
    mu2, mu4 = input_moments(inputs)
    D = B - B_star
    diag = np.diagonal(D, axis1=-2, axis2=-1)
    return D, diag, np.sum(diag, axis=-1), mu2, mu4


def population_risk(B, B_star, inputs="gaussian"):
    """Risk ``L(B) = E[(x^T (B - B*) x)^2]`` of the network ``x^T B x`` for inputs of any law in ``INPUTS``.

    For inputs with i.i.d. centred coordinates of second moment ``mu2`` and
    fourth moment ``mu4`` and ``D = B - B*``,

    ``L = (mu4 - 3 mu2^2) sum_i D_ii^2 + mu2^2 (2 tr D^2 + (tr D)^2)``
    ``  = (mu4 - mu2^2) sum_i D_ii^2 + 2 mu2^2 sum_{i != j} D_ij^2 + mu2^2 (tr D)^2``

    (expand ``(sum_ij D_ij x_i x_j)^2``: only the products with indices equal
    in pairs survive). This is the risk of Gamarnik, Kizildag and Zadik,
    written in ``B = W^T W``. For Gaussian inputs (``mu2 = 1``, ``mu4 = 3``)
    it is twice :func:`population_loss` ``(B, B_star)`` (eq. (9) of Sarao
    Mannelli et al., which the book's other chapters use with
    ``A = W^T W / m``).

    Parameters
    ----------
    B : array_like, shape (d, d) or (..., d, d)
        Symmetric student matrix, or a stack of them.
    B_star : array_like, shape (d, d)
        Symmetric teacher matrix.
    inputs : {'gaussian', 'rademacher', 'uniform'}
        Key of :data:`qnb.INPUTS`.

    Returns
    -------
    float or ndarray of shape (...)
        One value per matrix of the stack.

    See Also
    --------
    population_risk_gradient, population_loss

    Examples
    --------
    >>> import numpy as np
    >>> population_risk(np.eye(2), np.zeros((2, 2)))
    8.0
    >>> population_risk(np.eye(2), np.zeros((2, 2)), inputs="rademacher")
    4.0
    >>> population_risk(np.stack([np.eye(2), np.diag([2.0, 0.0])]), np.eye(2), "rademacher")
    array([0., 0.])
    """
    D, diag, trace, mu2, mu4 = _risk_terms(B, B_star, inputs)
    value = ((mu4 - 3 * mu2**2) * np.sum(diag**2, axis=-1)
             + mu2**2 * (2 * np.sum(D * D, axis=(-2, -1)) + trace**2))
    return _scalar_or_stack(value)


def population_risk_gradient(B, B_star, inputs="gaussian"):
    """Gradient of :func:`population_risk` in the symmetric matrix ``B``.

    ``G = 2 (mu4 - 3 mu2^2) Diag(D) + 2 mu2^2 (2 D + tr(D) I)`` with
    ``D = B - B*``, so that ``L(B + H) = L(B) + tr(G H) + O(|H|^2)`` for
    symmetric ``H``. In the weights, ``B = W^T W``, the gradient is ``2 W G``.

    Parameters
    ----------
    B, B_star, inputs
        As in :func:`population_risk`.

    Returns
    -------
    G : ndarray, shape of ``B``

    Examples
    --------
    >>> import numpy as np
    >>> population_risk_gradient(np.eye(2), np.zeros((2, 2)))
    array([[8., 0.],
           [0., 8.]])
    """
    D, diag, trace, mu2, mu4 = _risk_terms(B, B_star, inputs)
    eye = np.eye(D.shape[-1])
    return 2 * ((mu4 - 3 * mu2**2) * diag[..., None, :] * eye
                + mu2**2 * (2 * D + trace[..., None, None] * eye))
