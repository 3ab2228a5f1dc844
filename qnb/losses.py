"""The two losses of the matrix ``A`` and their gradients.

With ``X_k = x_k x_k^T`` the empirical loss, eq. (6) of Sarao Mannelli et al.,
is ``E_n(A) = (1/2n) sum_k tr(X_k (A - A*))^2``; it is twice the weight-space
loss ``L_n`` of eq. (2). Its Gaussian average is eq. (9),
``E(A) = tr((A - A*)^2) + (tr(A - A*))^2 / 2``, by the fourth-moment identity
``E[(x^T M x)^2] = 2 tr(M^2) + (tr M)^2`` for symmetric ``M``.

The private kernels (``_residuals`` ...) skip argument checks; the flows call
them at every step. ``_residuals``, ``_empirical_gradient`` and
``_population_loss`` also take a stack of matrices ``(..., d, d)`` (the images
of a string) and answer for each.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_data, as_symmetric


def _residuals(A, X, y):
    """``r_k = x_k^T A x_k - y_k``, shape ``(..., n)``."""
    # A product and a row sum: several times faster than the equivalent einsum.
    return np.sum((X @ A) * X, axis=-1) - y


def _empirical_loss(A, X, y):
    r = _residuals(A, X, y)
    return 0.5 * float(r @ r) / X.shape[0]


def _empirical_gradient(A, X, y):
    r = _residuals(A, X, y)
    G = (X.T * r[..., None, :]) @ X / X.shape[0]
    return 0.5 * (G + np.swapaxes(G, -1, -2))


def _population_loss(A, A_star):
    D = A - A_star
    loss = np.sum(D * D, axis=(-2, -1)) + 0.5 * np.trace(D, axis1=-2, axis2=-1) ** 2
    return float(loss) if loss.ndim == 0 else loss


def _population_gradient(A, A_star):
    D = A - A_star
    return 2.0 * D + np.trace(D) * np.eye(A.shape[0])


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

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> empirical_loss(np.eye(2), X, np.array([0.0, 0.0]))
    4.25
    """
    X, y = as_data(X, y)
    A = as_symmetric(A, "A", X.shape[1])
    return _empirical_loss(A, X, y)


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
    X, y = as_data(X, y)
    A = as_symmetric(A, "A", X.shape[1])
    return _empirical_gradient(A, X, y)


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

    Examples
    --------
    >>> import numpy as np
    >>> population_loss(np.eye(3), np.zeros((3, 3)))
    7.5
    """
    A_star = as_symmetric(A_star, "A_star")
    A = as_symmetric(A, "A", A_star.shape[0])
    return _population_loss(A, A_star)


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
    A_star = as_symmetric(A_star, "A_star")
    A = as_symmetric(A, "A", A_star.shape[0])
    return _population_gradient(A, A_star)
