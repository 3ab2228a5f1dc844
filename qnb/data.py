"""Teachers, inputs and labels of the teacher-student model.

A network with quadratic activation and second-layer weights ``1/m`` computes
``f(x) = (1/m) sum_j (w_j . x)^2 = x^T A x`` with ``A = W^T W / m``. Teacher
and student are both of this form, so everything the learning problem needs
is the teacher matrix ``A*`` and the Gaussian inputs.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_array, as_rng, as_symmetric, check_int


def gram(W):
    """Matrix ``A = W^T W / m`` of a layer of ``m`` hidden units.

    Parameters
    ----------
    W : array_like, shape (m, d)
        Hidden-unit weights, one unit per row.

    Returns
    -------
    A : ndarray, shape (d, d)
        Symmetric positive semidefinite matrix with ``f(x) = x^T A x``;
        its rank is at most ``min(m, d)``.

    Examples
    --------
    >>> import numpy as np
    >>> gram(np.array([[2.0, 0.0], [2.0, 2.0]]))
    array([[4., 2.],
           [2., 2.]])
    """
    W = as_array(W, "W", 2)
    A = W.T @ W / W.shape[0]
    return 0.5 * (A + A.T)


def gaussian_teacher(d, m_star, rng=None):
    """Teacher weights with i.i.d. standard Gaussian entries.

    Parameters
    ----------
    d : int
        Input dimension.
    m_star : int
        Number of teacher hidden units.
    rng : None, int or numpy.random.Generator
        Source of randomness (see :func:`qnb.as_rng`).

    Returns
    -------
    W_star : ndarray, shape (m_star, d)
        ``gram(W_star)`` has rank ``min(m_star, d)`` almost surely and trace
        close to ``d``, the trace of the student's usual start ``A = I``.

    Examples
    --------
    >>> gaussian_teacher(4, 2, rng=0).shape
    (2, 4)
    """
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    return as_rng(rng).standard_normal((m_star, d))


def orthonormal_teacher(d, m_star, rng=None):
    """Teacher whose matrix ``A*`` is a projector onto a random subspace.

    The hidden units are mutually orthogonal and scaled so that
    ``A* = gram(W_star)`` has eigenvalue 1 on a uniformly random subspace of
    dimension ``min(m_star, d)`` and 0 elsewhere (``A* = I`` when
    ``m_star >= d``; the rows then form a tight frame). This is the
    normalisation ``lambda*_j = 1`` used by the paper's asymptotic formulas.

    Parameters
    ----------
    d : int
        Input dimension.
    m_star : int
        Number of teacher hidden units.
    rng : None, int or numpy.random.Generator
        Source of randomness (see :func:`qnb.as_rng`).

    Returns
    -------
    W_star : ndarray, shape (m_star, d)

    Examples
    --------
    >>> import numpy as np
    >>> A_star = gram(orthonormal_teacher(5, 2, rng=1))
    >>> np.round(np.linalg.eigvalsh(A_star), 12) + 0.0
    array([0., 0., 0., 1., 1.])
    """
    d = check_int(d, "d")
    m_star = check_int(m_star, "m_star")
    G = as_rng(rng).standard_normal((max(m_star, d), min(m_star, d)))
    Q, R = np.linalg.qr(G)
    # Fix the signs so that Q is Haar distributed, not biased by the QR convention.
    Q = Q * np.sign(np.diag(R))
    W_star = np.sqrt(m_star) * (Q.T if m_star <= d else Q)
    return W_star


def sample_inputs(n, d, rng=None):
    """Draw ``n`` inputs ``x_k ~ N(0, I_d)``.

    Parameters
    ----------
    n : int
        Number of samples.
    d : int
        Input dimension.
    rng : None, int or numpy.random.Generator
        Source of randomness (see :func:`qnb.as_rng`).

    Returns
    -------
    X : ndarray, shape (n, d)
        One input per row.

    Examples
    --------
    >>> sample_inputs(3, 2, rng=0).shape
    (3, 2)
    """
    n = check_int(n, "n")
    d = check_int(d, "d")
    return as_rng(rng).standard_normal((n, d))


def labels(X, A):
    """Outputs ``y_k = x_k^T A x_k`` of the network with matrix ``A``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row.
    A : array_like, shape (d, d)
        Symmetric matrix of the network (the teacher's ``A*`` for labels).

    Returns
    -------
    y : ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> labels(np.array([[1.0, 2.0]]), np.eye(2))
    array([5.])
    """
    X = as_array(X, "X", 2)
    A = as_symmetric(A, "A", X.shape[1])
    return np.einsum("ki,ij,kj->k", X, A, X)
