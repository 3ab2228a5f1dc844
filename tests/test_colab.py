"""A notebook opened on its own, as the book's Colab button opens it, installs what it needs and runs.

Colab gives the kernel one notebook and a Python with numpy, scipy, matplotlib,
ipywidgets and ipykernel, but neither ``qnb`` nor ``book/data/``. The setup cell
(tools/setup_cell.py) installs ``qnb`` from ``QNB_SOURCE`` and fetches the stored data
files. The slow test rebuilds that situation here:

* a fresh virtual environment with only what Colab has (pinned as in requirements.txt;
  nbclient, which executes the notebook, at the version running this test);
* one notebook copied alone into an empty folder, which is the kernel's working directory;
* ``QNB_SOURCE`` set to a copy of the checkout's ``qnb/``, ``pyproject.toml``, ``README.md``
  and ``book/data/*.npz`` in a temporary folder (pip builds in the source folder, so never
  in the checkout; and no network beyond pip's index is used).

The setup cell that runs is the one committed in the notebook, and it must be the current
one (tools/setup_cell.py writes it).

The fast test checks, for every notebook, what the slow one checks for one: that it
imports nothing a Colab runtime lacks, unless the import is guarded.

The slow test takes a few minutes (the installs, then one chapter), so it carries the
registered ``slow`` marker; `make test` runs it:

    .venv/bin/python -m pytest -p no:cacheprovider tests/test_colab.py
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

import qnb
from fresh_env import isolated_env

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))

# The notebook run alone: quick (about 25 s) and it reads three stored files.
NOTEBOOK = "string_method.ipynb"

# What a Colab runtime has that the notebooks use, and what executes the notebook here.
COLAB_HAS = ["numpy", "scipy", "matplotlib", "ipywidgets", "ipykernel"]
RUNNER = ["nbclient"]
# What a notebook opened alone may import without a guard: the standard library, qnb and
# what `pip install qnb` brings, and what Colab has (IPython comes with ipykernel).
IMPORTABLE = set(sys.stdlib_module_names) | {"qnb", "numpy", "scipy", "clarabel", "matplotlib", "ipywidgets",
                                              "ipykernel", "IPython"}

PIP_TIMEOUT = 1800      # seconds for one pip install step
CELL_TIMEOUT = 600      # seconds per cell, as for nbval in `make test`
RUN_TIMEOUT = 1800      # seconds for the whole notebook


def load_tool():
    spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "tools" / "setup_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- imports a Colab runtime lacks (fast) ------------------------------------------------


def unguarded_imports(source: str) -> list[str]:
    """Top-level module names imported outside a ``try`` that catches ImportError."""
    # IPython magics and shell escapes are not Python; they import nothing.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    tree = ast.parse("\n".join(lines))
    found = []

    def catches_import_error(handler):
        names = [handler.type] if not isinstance(handler.type, ast.Tuple) else handler.type.elts
        return handler.type is None or any(isinstance(n, ast.Name) and n.id in (
            "ImportError", "ModuleNotFoundError", "Exception") for n in names)

    def visit(node, guarded):
        if isinstance(node, ast.Try) and any(catches_import_error(h) for h in node.handlers):
            for child in node.body:
                visit(child, True)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, guarded)
            return
        if not guarded and isinstance(node, ast.Import):
            found.extend(alias.name.split(".")[0] for alias in node.names)
        if not guarded and isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_alone_imports_only_what_colab_and_qnb_provide(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    missing = sorted({f"cell {i}: {name}" for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
                      for name in unguarded_imports("".join(cell["source"])) if name not in IMPORTABLE})
    assert not missing, (
        f"book/{path.name} imports what a notebook opened alone (Colab) does not have: {missing}. "
        "Guard the import (try: ... except ImportError:) or add the package to qnb's dependencies.")


def test_the_import_scan_sees_guards():
    source = ("import os\nfrom myst_nb import glue\ntry:\n    from myst_nb import glue\nexcept ImportError:\n"
              "    glue = None\nif True:\n    import pandas.io\n%matplotlib inline\n")
    assert unguarded_imports(source) == ["os", "myst_nb", "pandas"]


# --- a notebook opened alone (slow) ----------------------------------------------------------


def pinned(name: str) -> str:
    """``name==version``: the version of requirements.txt, else the one running this test."""
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if re.match(rf"^{re.escape(name)}\s*==", requirement, re.I):
            return requirement.replace(" ", "")
    return f"{name}=={importlib.metadata.version(name)}"


def run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: int, what: str, hint: str = "") -> str:
    """Run ``cmd``; fail with the end of its output if it fails. Returns its stdout."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took more than {timeout} s: {' '.join(cmd)}")
    if proc.returncode != 0:
        tail = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)[-6000:]  # no ANSI colours
        pytest.fail(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}{hint}")
    return proc.stdout


def source_copy(dest: Path) -> Path:
    """What a clone holds for the package and its data, copied: pip may write into it."""
    shutil.copytree(ROOT / "qnb", dest / "qnb", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    (dest / "book" / "data").mkdir(parents=True)
    for path in (ROOT / "book" / "data").glob("*.npz"):
        shutil.copy(path, dest / "book" / "data" / path.name)
    return dest


def build_products() -> list[str]:
    """What pip's in-tree build of a source folder leaves there, as found in the checkout."""
    return sorted(p.name for p in [*ROOT.glob("*.egg-info"), ROOT / "build"] if p.exists())


@pytest.mark.slow
def test_a_notebook_opened_alone_installs_qnb_and_its_data_then_runs(tmp_path):
    timings: dict[str, float] = {}
    tool = load_tool()
    cell_source = tool.cell_source()

    # The notebook, alone in an empty folder, with the setup cell as committed.
    work = tmp_path / "content"
    work.mkdir()
    nb = tool.read(ROOT / "book" / NOTEBOOK)
    found = tool.problems(nb, cell_source)
    assert not found, (f"book/{NOTEBOOK}'s setup cell is not the current one ({'; '.join(found)}): "
                       "run .venv/bin/python tools/setup_cell.py")
    tool.write(work / NOTEBOOK, nb)

    built_before = build_products()
    source = source_copy(tmp_path / "qnb-source")
    venv_dir, home = tmp_path / "colab-venv", tmp_path / "home"
    env = isolated_env(venv_dir, home)
    python = venv_dir / "bin" / "python"

    start = time.perf_counter()
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *map(pinned, COLAB_HAS + RUNNER)], cwd=tmp_path, env=env, timeout=PIP_TIMEOUT,
        what="installing what Colab has")
    timings["environment"] = time.perf_counter() - start
    run([str(python), "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('qnb') is not None)"],
        cwd=work, env=env, timeout=120, what="checking that the fresh environment has no qnb")

    start = time.perf_counter()
    run([str(venv_dir / "bin" / "jupyter"), "execute", f"--timeout={CELL_TIMEOUT}", "--startup_timeout=180",
         "--output=executed", NOTEBOOK],
        cwd=work, env={**env, "QNB_SOURCE": str(source)}, timeout=RUN_TIMEOUT, what=f"executing {NOTEBOOK} alone",
        hint=("\n(if that is a ModuleNotFoundError: the notebook imports a package a Colab runtime lacks; "
              "see test_a_notebook_alone_imports_only_what_colab_and_qnb_provide)"))
    timings["execute"] = time.perf_counter() - start

    executed = json.loads((work / "executed.ipynb").read_text(encoding="utf-8"))
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), "not every code cell was executed"
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for c in code for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == [], f"error outputs in the executed notebook: {errors}"
    setup_output = "".join("".join(o["text"]) for o in code[0]["outputs"] if o.get("output_type") == "stream")
    assert tool.TAG in code[0]["metadata"]["tags"]
    assert f"qnb installed from {source}; data/ received {len(qnb.STORED_DATA)} file(s)" in setup_output

    # qnb went into the fresh environment (so the kernel was its Python), from the source copy.
    report = json.loads(run(
        [str(python), "-c", "import importlib.metadata as md, json, qnb; print(json.dumps("
         "{'file': qnb.__file__, 'url': json.loads(md.distribution('qnb').read_text('direct_url.json'))['url']}))"],
        cwd=tmp_path, env=env, timeout=120, what="asking the environment where qnb came from"))
    assert Path(report["file"]).resolve().is_relative_to(venv_dir.resolve()), report
    assert report["url"] == source.as_uri(), report

    # data/ beside the notebook holds exactly the stored files, byte for byte.
    assert sorted(p.name for p in (work / "data").iterdir()) == sorted(qnb.STORED_DATA)
    for name in qnb.STORED_DATA:
        assert (work / "data" / name).read_bytes() == (ROOT / "book" / "data" / name).read_bytes(), name
    assert build_products() == built_before, "pip wrote build products into the checkout"

    print("notebook opened alone: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    shutil.rmtree(venv_dir, ignore_errors=True)  # several hundred MB; kept for inspection only on failure
