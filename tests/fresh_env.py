"""The environment variables of a fresh runtime, for the tests that build one (Binder, Colab)."""

from __future__ import annotations

import os
from pathlib import Path


def isolated_env(venv: Path, home: Path) -> dict[str, str]:
    """The variables a fresh session would see, for commands run in ``venv``.

    pip keeps this machine's configuration (its package index); nothing else of the
    developer's carries over: no PYTHONPATH (which would find the checkout's qnb), no
    QNB_ variable, and empty Jupyter, IPython and matplotlib directories under ``home``,
    so that nothing installed for the developer (a kernel spec, a startup script, a
    style) takes part.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "JUPYTER", "QNB_", "CONDA"))
           and k not in {"VIRTUAL_ENV", "IPYTHONDIR", "MPLBACKEND", "MPLCONFIGDIR"}}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    for var, sub in [("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    return env
