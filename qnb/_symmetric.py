"""Coordinates on symmetric matrices, and the operations on them that several solvers share.

A symmetric ``d x d`` matrix has ``p = d (d + 1) / 2`` free entries. Two
coordinate systems are used (:class:`SymmetricCoordinates`):

* ``vech``: the upper-triangle entries, row by row. The matrix flows and the
  string method integrate in them; their coordinate directions are ``E_aa``
  and ``E_ab + E_ba``.
* ``svec``: the same entries with the off-diagonal ones times ``sqrt(2)``, in
  which the Frobenius product is the Euclidean one (orthonormal bases, conic
  solvers).

Also here: the congruence of a gradient-descent step, numerical rank, a
factor ``W`` with ``gram(W) = A``, and the projection on the PSD cone.

The eigenvalue tolerances, named once:

``RANK_RTOL = 1e-10``
    An eigenvalue (or singular value) below ``RANK_RTOL`` times the largest
    is a zero. The zero eigenvalues of a Gram matrix ``W^T W / m`` computed in
    double precision are of order ``d eps lambda_max ~ 1e-15``; the smallest
    nonzero eigenvalue of the book's random teachers and students is many
    orders above ``1e-10 lambda_max``. It equals the relative asymmetry the
    argument checks accept (``_validation.symmetry_tolerance``), so a matrix
    that passes them has no round-off eigenvalue above the cut.
``TEACHER_RANK_RTOL = 1e-9``
    The same cut for the rank of ``A*`` in the uniqueness decision. Either
    value separates the round-off zeros of ``gram(W*)`` (about 1e-16) from its
    nonzero eigenvalues; 1e-9 is the value the stored recovery thresholds
    were computed with, so it is kept.
``ROUND_OFF_RTOL = 1e-12``
    A negative eigenvalue above ``-ROUND_OFF_RTOL`` times the matrix's scale
    is round-off of a PSD matrix, not a departure from the cone: ``eigvalsh``
    is accurate to about ``d eps |A| ~ 1e-14`` for the sizes used here, and
    three orders of margin keep a computed PSD matrix from being rejected or
    retried while a genuine excursion (1e-8 and larger in the string method)
    is still caught.
"""

from __future__ import annotations

import numpy as np

RANK_RTOL = 1e-10
TEACHER_RANK_RTOL = 1e-9
ROUND_OFF_RTOL = 1e-12


class SymmetricCoordinates:
    """The ``vech`` and ``svec`` coordinates of symmetric ``d x d`` matrices.

    Every method takes a stack: matrices of shape ``(..., d, d)`` and
    coordinate vectors of shape ``(..., p)``, ``p = d (d + 1) / 2``.

    Parameters
    ----------
    d : int
        Size of the matrices.

    Examples
    --------
    >>> import numpy as np
    >>> c = SymmetricCoordinates(2)
    >>> c.vech(np.array([[1.0, 2.0], [2.0, 3.0]]))
    array([1., 2., 3.])
    >>> c.unvech(np.array([1.0, 2.0, 3.0]))
    array([[1., 2.],
           [2., 3.]])
    """

    def __init__(self, d):
        self.d = d
        self.rows, self.cols = np.triu_indices(d)
        self.size = self.rows.size
        self._svec_weight = np.where(self.rows == self.cols, 1.0, np.sqrt(2.0))

    def vech(self, A):
        """Upper-triangle entries, row by row."""
        return A[..., self.rows, self.cols]

    def unvech(self, h):
        """The symmetric matrices with upper triangle ``h``."""
        A = np.empty(h.shape[:-1] + (self.d, self.d))
        A[..., self.rows, self.cols] = h
        A[..., self.cols, self.rows] = h
        return A

    def svec(self, A):
        """``vech`` with the off-diagonal entries times ``sqrt(2)``: ``svec(A) . svec(B) = tr(A B)``."""
        return self.vech(A) * self._svec_weight

    def smat(self, v):
        """Inverse of :meth:`svec`."""
        return self.unvech(v / self._svec_weight)

    def basis(self):
        """The ``vech`` coordinate directions ``E_aa`` and ``E_ab + E_ba``, shape ``(p, d, d)``."""
        return self.unvech(np.eye(self.size))

    def quadratic_forms(self, X):
        """Matrix ``Q`` of shape ``(n, p)`` with ``Q @ vech(H) = (x_k^T H x_k)_k``.

        Row ``k`` is ``x_ka x_kb`` times 2 off the diagonal (the pair ``a < b``
        stands for both ``H_ab`` and ``H_ba``).
        """
        Q = X[:, self.rows] * X[:, self.cols]
        Q[:, self.rows != self.cols] *= 2
        return Q


def descent_velocity(A, G):
    """``-(A G + G A)`` for symmetric stacks: the right-hand side of the matrix flows (5) and (8).

    ``G`` is the gradient of the loss at ``A``. Since both are symmetric,
    ``A G = (G A)^T``, so one product per matrix suffices.
    """
    GA = G @ A
    return -(GA + np.swapaxes(GA, -1, -2))


def congruence_step(A, G, step):
    """``(I - step G) A (I - step G)``, symmetrized; ``A`` and ``G`` may be stacks ``(..., d, d)``.

    One gradient-descent step ``W <- W (I - step G)`` written on ``A = W^T W / m``.
    """
    M = np.eye(A.shape[-1]) - step * G
    A = M @ A @ M
    return 0.5 * (A + np.swapaxes(A, -1, -2))


def nonzero_eigenvalues(lam, rtol=RANK_RTOL):
    """Mask of the ascending eigenvalues ``lam`` above ``rtol`` times the largest (the numerical rank)."""
    return lam > rtol * max(lam[-1], np.finfo(float).tiny)


def factor(A, rtol=RANK_RTOL):
    """Factor ``W`` of shape ``(r, d)`` with ``W^T W / r = A`` and ``r`` the numerical rank of ``A``."""
    lam, U = np.linalg.eigh(A)
    keep = nonzero_eigenvalues(lam, rtol)
    r = int(np.count_nonzero(keep))
    return np.sqrt(r * lam[keep])[:, None] * U[:, keep].T


def outside_psd_cone(lam, rtol=ROUND_OFF_RTOL):
    """Which matrices of a stack, given by their ascending eigenvalues ``lam`` (shape ``(N, d)``), are not PSD.

    A smallest eigenvalue down to ``-rtol`` times the largest magnitude counts as round-off.
    """
    scale = np.maximum(np.abs(lam).max(axis=1), 1e-300)
    return lam[:, 0] < -rtol * scale


def project_psd(S, lam):
    """Nearest PSD matrices in Frobenius norm (negative eigenvalues set to zero), and the largest one removed.

    ``S`` is a stack ``(N, d, d)`` with ascending eigenvalues ``lam``; only
    matrices with a negative eigenvalue are decomposed again.
    """
    clipped = float(max(0.0, -lam.min())) if np.all(np.isfinite(lam)) else np.inf
    if clipped == 0.0:
        return S, 0.0
    neg = ~(lam[:, 0] >= 0.0)  # NaN matrices too: projecting them keeps them non-finite, as reported
    w, V = np.linalg.eigh(S[neg])
    S = S.copy()
    S[neg] = (V * np.maximum(w, 0.0)[:, None, :]) @ np.swapaxes(V, 1, 2)
    return S, clipped
