"""Fields every stored data file carries about how and where it was made.

Imported by the ``make_*.py`` scripts beside it (run as scripts, their folder is on
``sys.path``).
"""

import argparse
import datetime
import os
import platform
import shlex

import numpy as np
import scipy

import qnb

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
DEFAULT_OUT = os.path.join(REPO_ROOT, "book", "data")


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


def output_parser(doc):
    """An argument parser described by the first line of ``doc``, with ``--out`` (default book/data)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default book/data)")
    return parser


def checkpoint_folder(out, sweep=None):
    """Create the output folder ``out``; the folder under it where the sweep ``sweep`` checkpoints."""
    os.makedirs(out, exist_ok=True)
    folder = os.path.join(out, ".checkpoints")
    return folder if sweep is None else os.path.join(folder, sweep)


def output_path(out):
    """``out`` as a stored command shows it: relative to the repository root when it lies inside it,
    so that the command reads the same on every checkout."""
    out_rel = os.path.relpath(os.path.abspath(out), REPO_ROOT)
    return os.path.abspath(out) if out_rel.startswith(os.pardir) else out_rel


def script_command(script, *options):
    """The command, run from the repository root, that reruns ``book/data/<script>`` with ``options``."""
    return shlex.join([".venv/bin/python", f"book/data/{script}", *map(str, options)])
