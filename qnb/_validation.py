"""Argument checks shared by every public function.

Each helper raises a ``TypeError`` when the argument has the wrong kind
(complex numbers included: they are never cast to their real part) and a
``ValueError`` when it has the right kind but a bad value, and the message
always names the argument, so a caller sees at once which input to fix.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_rng(rng=None):
    """Normalise a seed-like argument to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator
        ``None`` gives fresh OS entropy, an integer seeds a new PCG64
        generator, and a ``Generator`` is returned unchanged (so a caller can
        share one stream between several draws).

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> g = as_rng(0)
    >>> as_rng(g) is g
    True
    """
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"rng must be None, an int or a numpy Generator, got {rng!r}")
    if isinstance(rng, numbers.Integral):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be None, an int or a numpy Generator, got {type(rng).__name__}"
    )


def check_seed(seed, name="seed"):
    """Return ``seed`` as ``int`` after checking it is a non-negative integer."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return int(seed)


def check_choice(value, name, choices):
    """Return ``value`` after checking it is a string among ``choices``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_int(value, name, minimum=1):
    """Return ``value`` as ``int`` after checking it is an integer ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_positive(value, name):
    """Return ``value`` as ``float`` after checking it is finite and ``> 0``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value


def check_loss(loss, name="loss"):
    """Return ``loss`` after checking it is a loss object: ``d`` and the methods the flows call."""
    missing = [attr for attr in ("d", "value", "gradient", "hessian_action") if not hasattr(loss, attr)]
    if missing:
        raise TypeError(f"{name} must be a loss object such as EmpiricalLoss or PopulationLoss "
                        f"(it has no {', '.join(missing)}), got {type(loss).__name__}")
    return loss


def as_real(value, name):
    """Convert to a float array; complex values are a ``TypeError``.

    A plain cast to float keeps the real part and drops the imaginary one
    with only a ``ComplexWarning``, so a complex argument is refused before
    the cast. Neither shape nor finiteness is checked.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value  # the flows' own states, at every evaluation: nothing to convert
    try:
        arr = np.asarray(value)
        if not np.iscomplexobj(arr):
            return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}") from None
    raise TypeError(f"{name} must be real, got complex values")


def as_array(value, name, ndim):
    """Convert to a finite real float array with ``ndim`` dimensions."""
    arr = as_real(value, name)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def symmetry_tolerance(arr):
    """Absolute tolerance used for symmetry and PSD checks of ``arr``."""
    return 1e-10 * max(1.0, float(np.max(np.abs(arr))))


def as_symmetric(value, name, d=None):
    """Convert to a finite symmetric ``(d, d)`` float matrix.

    Asymmetry up to round-off is removed by symmetrising, so matrices built
    by floating-point products pass; anything larger is an error.
    """
    arr = as_array(value, name, 2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    if d is not None and arr.shape[0] != d:
        raise ValueError(f"{name} must have shape ({d}, {d}), got {arr.shape}")
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > symmetry_tolerance(arr):
        raise ValueError(f"{name} must be symmetric; max |{name} - {name}.T| = {asym:.3g}")
    return 0.5 * (arr + arr.T)


def as_matrix_stack(value, name, d):
    """Convert to a float array of shape ``(..., d, d)``: one matrix or a stack of them.

    Cheap enough for every call of a loss: neither symmetry nor finiteness is
    checked (a diverged flow passes non-finite states and reports them).
    """
    arr = as_real(value, name)
    if arr.ndim < 2 or arr.shape[-2:] != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}) or (..., {d}, {d}), got {arr.shape}")
    return arr


def as_psd(value, name, d=None):
    """Convert to a symmetric positive semidefinite ``(d, d)`` matrix."""
    arr = as_symmetric(value, name, d)
    lam_min = float(np.linalg.eigvalsh(arr)[0])
    if lam_min < -symmetry_tolerance(arr):
        raise ValueError(
            f"{name} must be positive semidefinite; its smallest eigenvalue is {lam_min:.3g}"
        )
    return arr


def as_data(X, y):
    """Check a data set: inputs ``X`` of shape ``(n, d)`` and labels ``y`` of shape ``(n,)``."""
    X = as_array(X, "X", 2)
    y = as_array(y, "y", 1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one label per row of X: X has {X.shape[0]} rows, y has {y.shape[0]}")
    return X, y


def as_times(t_eval):
    """Check output times: finite, non-negative and strictly increasing."""
    t = as_array(np.atleast_1d(as_real(t_eval, "t_eval")), "t_eval", 1)
    if t[0] < 0:
        raise ValueError(f"t_eval must be non-negative, got t_eval[0] = {t[0]}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("t_eval must be strictly increasing")
    return t
