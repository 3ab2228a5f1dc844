"""Fields every stored data file carries about how and where it was made.

Imported by the ``make_*.py`` scripts beside it (run as scripts, their folder is on
``sys.path``).
"""

import datetime
import platform

import numpy as np
import scipy

import qnb


def provenance(command, seconds):
    """The regenerating command, package versions, machine, UTC date and wall time, as arrays."""
    return {
        "command": np.array(command),
        "qnb_version": np.array(qnb.__version__),
        "numpy_version": np.array(np.__version__),
        "scipy_version": np.array(scipy.__version__),
        "python_version": np.array(platform.python_version()),
        "platform": np.array(platform.platform()),
        "created": np.array(datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")),
        "wall_time_s": np.float64(seconds),
    }
