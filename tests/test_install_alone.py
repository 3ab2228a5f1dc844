"""`qnb` installs on its own: a fresh virtual environment, `pip install .` and nothing else,
then every doctest of the package passes there.

This guards the dependencies declared in pyproject.toml: a module that imports a package
the metadata does not name fails here, although the book's own environment (which
installs requirements.txt first) would hide it. Doctests run with the standard library's
``doctest`` (pytest is not installed in that environment on purpose), from a folder outside
the checkout, so ``import qnb`` finds the installed copy, not the source tree.

It takes about a minute (numpy, scipy and clarabel are installed), so it is marked slow;
`make test` runs it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUN_DOCTESTS = """
import doctest, importlib, pkgutil, sys
import qnb
assert "site-packages" in qnb.__file__, qnb.__file__
failed = tried = 0
for info in pkgutil.iter_modules(qnb.__path__):
    module = importlib.import_module("qnb." + info.name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failed, tried = failed + result.failed, tried + result.attempted
print(f"doctests: {tried} tried, {failed} failed")
sys.exit(1 if failed or not tried else 0)
"""


@pytest.mark.slow
def test_pip_install_alone_then_doctests(tmp_path):
    source = tmp_path / "src"
    # A copy of what a clone holds for the package, so the build never writes into the checkout.
    shutil.copytree(ROOT / "qnb", source / "qnb", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              str(source)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    run = subprocess.run([str(python), "-c", RUN_DOCTESTS], cwd=tmp_path, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    assert " 0 failed" in run.stdout
