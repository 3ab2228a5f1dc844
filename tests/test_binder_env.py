"""Binder's environment, rebuilt without conda, runs a chapter with widgets.

Binder (repo2docker) builds a conda environment from environment.yml and the
reader then runs the notebooks in it. This machine has no conda, so the test
rebuilds that environment as faithfully as pip allows:

* the ``python`` dependency is not installed but checked against the
  interpreter running this test (the new virtual environment uses it);
* conda dependencies that are Python packages become pip requirements
  (``numpy=1.26`` -> ``numpy==1.26.*``); ``pip`` and known conda-only packages
  are skipped;
* the ``pip:`` section is installed as conda does it: written to a
  requirements file and installed with ``pip install -U -r`` from the directory
  of environment.yml (so ``-e .`` installs this repository);
* nothing else is installed. The Jupyter server (and its nbconvert) is
  provided by Binder's own image, not by environment.yml, so the notebook is
  executed with ``jupyter execute`` of nbclient -- the library nbconvert's
  ``--execute`` runs on -- which the environment already brings (via
  jupyter-book/myst-nb). The kernel is the new environment's ``python3``.

tests/test_environment.py checks that environment.yml and requirements.txt
agree; this test checks that what environment.yml installs is enough.

It takes minutes (a full install, then one chapter), so it carries the
registered ``slow`` marker and has "binder" in its name:

    .venv/bin/python -m pytest -p no:cacheprovider tests/test_binder_env.py -k binder
    .venv/bin/python -m pytest -m "not slow" tests      # everything but it
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from fresh_env import isolated_env

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

# The chapter executed: every chapter notebook shows an ipywidgets ``interact``;
# this one is the fastest of them (about 25 s against 30-100 s for the others)
# and it also reads stored data from book/data/ through paths relative to book/.
NOTEBOOK = "string_method.ipynb"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Conda packages that are not Python distributions pip could install. A conda-only
# package missing here makes the pip install fail with its name: add it here.
CONDA_ONLY = frozenset({
    "pip", "nodejs", "graphviz", "ffmpeg", "pandoc", "git", "make", "cmake",
    "compilers", "c-compiler", "cxx-compiler", "fortran-compiler", "openblas",
    "mkl", "libblas", "blas", "texlive-core", "tectonic", "r-base",
})
# Conda package names whose pip distribution is called differently.
CONDA_TO_PIP = {
    "matplotlib-base": "matplotlib",
    "pytorch": "torch",
    "pytables": "tables",
    "py-opencv": "opencv-python",
}

PIP_TIMEOUT = 1800      # seconds for one pip install step
CELL_TIMEOUT = 600      # seconds per cell, as for nbval in `make test`
RUN_TIMEOUT = 1800      # seconds for the whole notebook


# --- environment.yml -> pip ------------------------------------------------------


def conda_spec(dep: str) -> tuple[str, str]:
    """(name, pip version specifier) of a conda match spec; the build string is dropped.

    ``name=1.2`` means 1.2.* to conda; ``name==1.2``, ``name=1.2=build`` and a
    bare version after a space (``name 1.2``) mean exactly 1.2.
    """
    spec = dep.split("::", 1)[-1].strip()  # channel::name
    if "[" in spec or "|" in spec:
        raise ValueError(f"conda spec {dep!r}: bracket or '|' specs are not translated; write it as name=version")
    match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", spec)
    if not match:
        raise ValueError(f"cannot read conda spec {dep!r}")
    name, rest = match.group(1).lower(), match.group(2).strip()
    if not rest:
        return name, ""
    if rest.startswith("==") or rest[0] in "<>!":
        version = rest.split()[0] if rest.startswith("=") else rest.replace(" ", "")
        return name, version
    if rest.startswith("="):                      # name=1.2: fuzzy; name=1.2=build: exact
        version, _, build = rest[1:].partition("=")
        version, fuzzy = version.strip(), not build
    else:                                          # name 1.2[ build]: exact
        version = rest.split()[0]
        fuzzy = False
    if version.endswith("*"):
        version, fuzzy = version.rstrip("*").rstrip("."), True
    return name, f"=={version}.*" if fuzzy else f"=={version}"


def installs_project(line: str) -> bool:
    """Whether a ``pip:`` entry installs this repository (``.``, ``-e .``, ``-e .[extra]``...)."""
    target = re.sub(r"^(-e|--editable)(\s+|=)", "", line.strip()).split("[", 1)[0].strip()
    if not target or not (target.startswith(".") or target.startswith("/")):
        return False
    return (ROOT / target).resolve() == ROOT


def binder_plan(env: dict) -> tuple[str | None, list[str], list[str], bool]:
    """What Binder installs, for pip.

    Returns (python specifier or None, pip requirements for the conda
    dependencies, the ``pip:`` entries verbatim, whether they install the project).
    """
    python = None
    conda: list[str] = []
    pip_lines: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"unexpected mapping in dependencies: {dep}"
            pip_lines += [str(line).strip() for line in dep["pip"] or []]
            continue
        name, version = conda_spec(str(dep))
        if name == "python":
            python = version
        elif name not in CONDA_ONLY:
            conda.append(CONDA_TO_PIP.get(name, name) + version)
    return python, conda, pip_lines, any(installs_project(line) for line in pip_lines)


# --- running things in the new environment ------------------------------------


def run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: int, what: str) -> float:
    """Run ``cmd``; fail with the end of its output if it fails. Returns the wall time."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took more than {timeout} s: {' '.join(cmd)}")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)[-6000:]  # no ANSI colours
        pytest.fail(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return elapsed


# --- the test -----------------------------------------------------------------------


@pytest.mark.slow
def test_binder_environment_runs_a_widget_notebook(tmp_path):
    env_yml = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    python, conda_reqs, pip_lines, has_project = binder_plan(env_yml)

    running = "{}.{}.{}".format(*sys.version_info[:3])
    if python:
        assert running in SpecifierSet(python), (
            f"environment.yml asks for python{python}, this test runs on {running}: "
            "run it with a matching interpreter (the new environment uses the running one)")

    venv, home = tmp_path / "binder-venv", tmp_path / "home"
    env = isolated_env(venv, home)
    vpy = venv / "bin" / "python"
    pip = [str(vpy), "-m", "pip", "install", "--quiet"]
    timings: dict[str, float] = {}

    timings["venv"] = run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env,
                          timeout=300, what="creating the virtual environment")

    start = time.perf_counter()
    if conda_reqs:  # conda installs its own packages first, then the pip: section
        run(pip + conda_reqs, cwd=ROOT, env=env, timeout=PIP_TIMEOUT,
            what="installing environment.yml's conda dependencies")
    if pip_lines:   # like conda: a requirements file, installed from environment.yml's directory
        reqs = tmp_path / "binder-pip-requirements.txt"
        reqs.write_text("\n".join(pip_lines) + "\n", encoding="utf-8")
        run(pip + ["-U", "-r", str(reqs)], cwd=ROOT, env=env, timeout=PIP_TIMEOUT,
            what="installing environment.yml's pip: section")
    # Binder needs the project installed, or the notebooks' `import qnb` fails there.
    assert has_project, "environment.yml does not install the qnb project; add '-e .' to its pip: section"
    timings["install"] = time.perf_counter() - start

    # The notebooks' kernel (python3) must be the new environment's own.
    spec = subprocess.run([str(venv / "bin" / "jupyter"), "kernelspec", "list", "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert spec.returncode == 0, f"the environment has no working jupyter:\n{spec.stderr[-3000:]}"
    kernels = json.loads(spec.stdout)["kernelspecs"]
    assert "python3" in kernels, f"no python3 kernel in the environment: {sorted(kernels)}"
    assert Path(kernels["python3"]["resource_dir"]).resolve().is_relative_to(venv.resolve()), kernels

    # Execute with cwd book/ (the notebooks read book/data/ relative to it). The
    # output path is absolute, so nothing is written into book/.
    out = tmp_path / "executed" / NOTEBOOK
    out.parent.mkdir()
    timings["execute"] = run(
        [str(venv / "bin" / "jupyter"), "execute", f"--timeout={CELL_TIMEOUT}", "--startup_timeout=180",
         f"--output={out.with_suffix('')}", NOTEBOOK],
        cwd=BOOK, env=env, timeout=RUN_TIMEOUT, what=f"executing book/{NOTEBOOK}")

    nb = json.loads(out.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), "not every code cell was executed"
    outputs = [o for c in code for o in c.get("outputs", [])]
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in outputs if o.get("output_type") == "error"]
    assert errors == [], f"error outputs in the executed notebook: {errors}"
    views = [o["data"][WIDGET_VIEW]["model_id"] for o in outputs if WIDGET_VIEW in o.get("data", {})]
    assert views, f"book/{NOTEBOOK} executed without any widget view output"
    # The kernel really created the widgets: their models reached the client.
    state = nb["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    assert set(views) <= set(state), "widget views without a model in the notebook's widget state"

    print("binder environment: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    shutil.rmtree(venv, ignore_errors=True)  # ~1 GB; kept for inspection only when the test fails


# --- the translation itself (fast) ------------------------------------------------


@pytest.mark.parametrize("dep, expected", [
    ("numpy", ("numpy", "")),
    ("numpy=1.26", ("numpy", "==1.26.*")),
    ("numpy=1.26.*", ("numpy", "==1.26.*")),
    ("numpy==1.26.4", ("numpy", "==1.26.4")),
    ("numpy=1.26.4=py311h64a7726_0", ("numpy", "==1.26.4")),
    ("numpy 1.26.4", ("numpy", "==1.26.4")),
    ("numpy 1.26*", ("numpy", "==1.26.*")),
    ("numpy>=1.24,<2", ("numpy", ">=1.24,<2")),
    ("conda-forge::SciPy=1.17", ("scipy", "==1.17.*")),
    ("python=3.11", ("python", "==3.11.*")),
])
def test_binder_conda_spec_translation(dep, expected):
    assert conda_spec(dep) == expected


def test_binder_plan_of_an_environment():
    python, conda, pip_lines, has_project = binder_plan({"dependencies": [
        "python=3.11", "pip", "nodejs", "matplotlib-base=3.8",
        {"pip": ["numpy==2.4.6", "-e ."]},
    ]})
    assert python == "==3.11.*" and "3.11.7" in SpecifierSet(python)
    assert conda == ["matplotlib==3.8.*"]
    assert pip_lines == ["numpy==2.4.6", "-e ."] and has_project


@pytest.mark.parametrize("line, ok", [(".", True), ("-e .", True), ("--editable=.", True), ("-e .[dev]", True),
                                      ("./", True), ("-e ./book", False), ("numpy==2.4.6", False)])
def test_binder_project_line(line, ok):
    assert installs_project(line) is ok
