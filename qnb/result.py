"""Result objects returned by the solvers (a dict with attribute access)."""

from __future__ import annotations

import numpy as np


class Result(dict):
    """Solver output: a ``dict`` whose keys are also attributes.

    Modelled on :class:`scipy.optimize.OptimizeResult`. Every solver fills
    ``success`` (bool), ``status`` (int, 0 when the run did what was asked)
    and ``message`` (str) besides its own fields, which its docstring lists.

    Examples
    --------
    >>> r = Result(success=True, status=0, message="done", t=np.linspace(0, 1, 11))
    >>> r.t[:3]
    array([0. , 0.1, 0.2])
    >>> r
     success: True
      status: 0
     message: 'done'
           t: ndarray (11,)
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self):
        if not self:
            return f"{type(self).__name__}()"
        width = max(map(len, self.keys())) + 1
        lines = []
        for key, value in self.items():
            if isinstance(value, np.ndarray) and value.size > 6:
                shown = f"ndarray {value.shape}"
            else:
                shown = repr(value)
            lines.append(f"{key.rjust(width)}: {shown}")
        return "\n".join(lines)
