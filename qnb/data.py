"""Teachers, inputs and labels of the teacher-student model.

A network with quadratic activation and second-layer weights ``1/m`` computes
``f(x) = (1/m) sum_j (w_j . x)^2 = x^T A x`` with ``A = W^T W / m``. Teacher
and student are both of this form, so everything the learning problem needs
is the teacher matrix ``A*`` and the inputs: Gaussian throughout the chapters
on seed 000, or any distribution of :data:`INPUTS` (centred i.i.d. coordinates
with given second and fourth moments, as in Gamarnik, Kizildag and Zadik).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._validation import as_array, as_rng, as_symmetric, check_choice, check_int, check_seed


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


def _gaussian_inputs(rng, shape):
    return rng.standard_normal(shape)


def _rademacher_inputs(rng, shape):
    return 2.0 * rng.integers(0, 2, size=shape) - 1.0


def _uniform_inputs(rng, shape):
    return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=shape)


class InputDistribution(NamedTuple):
    """One input distribution: i.i.d. centred coordinates of variance ``mu2`` and fourth moment ``mu4``."""

    mu2: float
    mu4: float
    sampler: Callable  # sampler(rng, shape) -> ndarray


# Input distributions by name: the ``inputs`` argument of :func:`sample_inputs`,
# :func:`qnb.population_risk` and :func:`qnb.rank_deficient_barrier`. Each has
# unit variance; the fourth moments are 3 (N(0, 1)), 1 (+-1) and 9/5 (uniform on
# [-sqrt 3, sqrt 3]).
INPUTS = {
    "gaussian": InputDistribution(1.0, 3.0, _gaussian_inputs),
    "rademacher": InputDistribution(1.0, 1.0, _rademacher_inputs),
    "uniform": InputDistribution(1.0, 9.0 / 5.0, _uniform_inputs),
}


def input_moments(inputs="gaussian"):
    """Second and fourth moments ``(mu2, mu4)`` of one input coordinate.

    Parameters
    ----------
    inputs : {'gaussian', 'rademacher', 'uniform'}
        Key of :data:`INPUTS`.

    Returns
    -------
    mu2, mu4 : float
        ``E[x_i^2]`` and ``E[x_i^4]``.

    Examples
    --------
    >>> input_moments("uniform")
    (1.0, 1.8)
    """
    inputs = check_choice(inputs, "inputs", INPUTS)
    return INPUTS[inputs].mu2, INPUTS[inputs].mu4


def sample_inputs(n, d, rng=None, inputs="gaussian"):
    """Draw ``n`` inputs with i.i.d. coordinates, ``x_k ~ N(0, I_d)`` by default.

    Parameters
    ----------
    n : int
        Number of samples.
    d : int
        Input dimension.
    rng : None, int or numpy.random.Generator
        Source of randomness (see :func:`qnb.as_rng`).
    inputs : {'gaussian', 'rademacher', 'uniform'}
        Key of :data:`INPUTS`: the distribution of each coordinate. The
        Gaussian draw is ``rng.standard_normal((n, d))``, the same numbers
        for the same seed as before the other distributions existed.

    Returns
    -------
    X : ndarray, shape (n, d)
        One input per row.

    Examples
    --------
    >>> import numpy as np
    >>> sample_inputs(3, 2, rng=0).shape
    (3, 2)
    >>> np.unique(sample_inputs(50, 2, rng=0, inputs="rademacher"))
    array([-1.,  1.])
    """
    n = check_int(n, "n")
    d = check_int(d, "d")
    inputs = check_choice(inputs, "inputs", INPUTS)
    return INPUTS[inputs].sampler(as_rng(rng), (n, d))


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


# Teacher constructors by name: the ``teacher`` argument of every sweep.
TEACHERS = {"gaussian": gaussian_teacher, "orthonormal": orthonormal_teacher}


def instance_rng(seed, *key):
    """Generator of instance ``key`` of a sweep with root seed ``seed``.

    ``numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=key))``:
    an instance's randomness depends on the root seed and its own key only,
    not on which other instances a sweep contains, so any slice of a sweep can
    be regenerated alone. Child ``r`` of ``SeedSequence(seed).spawn(...)`` is
    the key ``(r,)``.

    Parameters
    ----------
    seed : int
        Non-negative root seed (the ``seed`` a sweep's result reports).
    *key : int
        Non-negative integers naming the instance, e.g. ``n, trial``.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> a = instance_rng(7, 3).standard_normal()
    >>> b = np.random.default_rng(np.random.SeedSequence(7).spawn(4)[3]).standard_normal()
    >>> a == b
    True
    """
    seed = check_seed(seed, "seed")
    key = tuple(check_seed(k, "key entry") for k in key)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def draw_instance(d, m_star, n, rng=None, teacher="gaussian", width=None):
    """Teacher matrix, inputs, labels and (optionally) a student start of one instance.

    Draws from ``rng``, in this order: the teacher weights (``m_star`` units,
    ``TEACHERS[teacher]``), the inputs ``X`` of shape ``(n, d)`` and, when
    ``width`` is given, standard Gaussian student weights ``W0`` of shape
    ``(width, d)``. Every sweep of the package draws its instances this way,
    so drawing the start or not leaves the data unchanged.

    Parameters
    ----------
    d, m_star, n : int
        Input dimension, teacher hidden units, number of samples.
    rng : None, int or numpy.random.Generator
        Source of randomness (see :func:`qnb.as_rng`); a Generator is
        advanced past the draws.
    teacher : {'gaussian', 'orthonormal'}
        Key of :data:`TEACHERS`.
    width : int, optional
        Number of student hidden units; ``None`` draws no start.

    Returns
    -------
    A_star : ndarray, shape (d, d)
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
        ``labels(X, A_star)``.
    W0 : ndarray, shape (width, d), or None

    Examples
    --------
    >>> A_star, X, y, W0 = draw_instance(4, 1, 6, rng=0, width=5)
    >>> A_star.shape, X.shape, y.shape, W0.shape
    ((4, 4), (6, 4), (6,), (5, 4))
    """
    d, m_star, n = check_int(d, "d"), check_int(m_star, "m_star"), check_int(n, "n")
    teacher = check_choice(teacher, "teacher", TEACHERS)
    width = None if width is None else check_int(width, "width")
    rng = as_rng(rng)
    A_star = gram(TEACHERS[teacher](d, m_star, rng))
    X = sample_inputs(n, d, rng)
    W0 = None if width is None else rng.standard_normal((width, d))
    return A_star, X, labels(X, A_star), W0


def instance_data(seed, n, trial, d, m_star, teacher="gaussian"):
    """Teacher matrix, inputs and labels of instance ``(n, trial)`` of :func:`qnb.recovery_probability`.

    :func:`draw_instance` with the generator :func:`instance_rng` ``(seed, n,
    trial)``; ``method='flow'`` and :func:`qnb.string_profiles` go on to draw
    the student start from the same generator, so every sweep over ``(n,
    trial)`` instances sees the same teachers and inputs.

    Returns
    -------
    A_star : ndarray, shape (d, d)
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    rng : numpy.random.Generator
        The generator, positioned after these draws.

    Examples
    --------
    >>> A_star, X, y, rng = instance_data(5, 7, 2, 4, 1)
    >>> X.shape, bool(abs(y - labels(X, A_star)).max() == 0)
    ((7, 4), True)
    """
    rng = instance_rng(seed, check_int(n, "n"), check_seed(trial, "trial"))
    A_star, X, y, _ = draw_instance(d, m_star, n, rng, teacher)
    return A_star, X, y, rng


def nested_instance_data(seed, trial, d, m_star, teacher="gaussian"):
    """Teacher matrix, inputs and labels of instance ``trial`` of :func:`qnb.recovery_threshold`.

    :func:`draw_instance` with ``n = d (d + 1) / 2`` and the generator
    :func:`instance_rng` ``(seed, trial)``; ``method='flow'`` goes on to draw
    the student start. The data set with ``n`` samples is made of the first
    ``n`` rows, so larger data sets contain smaller ones.

    Returns
    -------
    A_star : ndarray, shape (d, d)
    X : ndarray, shape (d (d + 1) / 2, d)
    y : ndarray, shape (d (d + 1) / 2,)
    rng : numpy.random.Generator
        The generator, positioned after these draws.

    Examples
    --------
    >>> nested_instance_data(0, 1, 4, 1)[1].shape
    (10, 4)
    """
    d = check_int(d, "d")
    rng = instance_rng(seed, check_seed(trial, "trial"))
    A_star, X, y, _ = draw_instance(d, m_star, d * (d + 1) // 2, rng, teacher)
    return A_star, X, y, rng
