"""The setup cell (tools/setup_cell.py): every notebook carries the current one, the tool keeps it so,
and where qnb is importable the cell does nothing.

What the cell does where qnb is missing (a notebook opened alone, on Colab) is
tests/test_colab.py's slow test.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qnb import stored_data

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def load_tool():
    spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "tools" / "setup_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_tool()
SOURCE = tool.cell_source()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_carries_the_current_setup_cell(path):
    found = tool.problems(tool.read(path), SOURCE)
    assert not found, f"book/{path.name}: {'; '.join(found)}. Run: .venv/bin/python tools/setup_cell.py"


def test_the_cell_installs_from_the_repository_of_config():
    repository = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    default = f"{repository['url'].rstrip('/')}@{repository['branch']}"
    assert re.search(r'os\.environ\.get\("QNB_SOURCE",\s*"' + re.escape(default) + r'"\)', SOURCE)
    assert default == stored_data.DEFAULT_SOURCE  # the cell and qnb.fetch_stored_data agree
    compile(SOURCE, "setup cell", "exec")


def test_the_default_comes_from_the_config_given(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/someone/fork/\n  branch: dev\n", encoding="utf-8")
    assert '"https://github.com/someone/fork@dev"' in tool.cell_source(config)


def test_the_cell_does_nothing_where_qnb_is_importable(tmp_path):
    # A QNB_SOURCE that would make any install fail: the cell must not even try.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QNB_SOURCE": str(tmp_path / "nowhere")}
    run = subprocess.run([sys.executable, "-c", SOURCE], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert list(tmp_path.iterdir()) == []


# --- the tool, on copies of the book's notebooks ----------------------------------------


def without_setup(nb):
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb["cells"] if "qnb-setup" not in c.get("metadata", {}).get("tags", [])]
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_insert_puts_the_cell_first_among_code_cells_and_changes_nothing_else(path):
    original = without_setup(tool.read(path))
    nb = copy.deepcopy(original)
    assert tool.problems(nb, SOURCE)
    assert tool.apply(nb, SOURCE)
    assert tool.problems(nb, SOURCE) == []
    assert not tool.apply(nb, SOURCE)                       # idempotent
    (index,) = [i for i, c in enumerate(nb["cells"]) if "qnb-setup" in c["metadata"].get("tags", [])]
    assert all(c["cell_type"] != "code" for c in nb["cells"][:index])
    assert nb["cells"][:index] + nb["cells"][index + 1:] == original["cells"]
    cell = nb["cells"][index]
    assert cell["metadata"]["tags"] == ["qnb-setup", "hide-input"] and cell["outputs"] == []
    assert cell["id"] == "qnb-setup" and len({c["id"] for c in nb["cells"]}) == len(nb["cells"])


def test_refresh_fixes_a_stale_a_moved_and_a_repeated_cell():
    nb = without_setup(tool.read(NOTEBOOKS[0]))
    tool.apply(nb, SOURCE)
    (index,) = [i for i, c in enumerate(nb["cells"]) if "qnb-setup" in c["metadata"].get("tags", [])]
    cell = nb["cells"].pop(index)
    cell["metadata"]["execution"] = {"iopub.status.idle": "kept"}   # what jupyter execute adds
    stale = dict(copy.deepcopy(cell), id="other-id", source=["print('old version')"],
                 outputs=[{"output_type": "stream", "name": "stdout", "text": ["old version\n"]}])
    nb["cells"] += [stale, cell]                                   # out of place, twice, one stale
    found = tool.problems(nb, SOURCE)
    assert any("2 cells" in p for p in found) and any("not the first code cell" in p for p in found)
    assert any("differs" in p for p in found) and any("outputs" in p for p in found)
    assert tool.apply(nb, SOURCE) and tool.problems(nb, SOURCE) == []
    setup = [c for c in nb["cells"] if "qnb-setup" in c["metadata"].get("tags", [])]
    assert len(setup) == 1 and setup[0]["metadata"]["execution"] == {"iopub.status.idle": "kept"}


def test_the_command_line_checks_then_writes_notebooks_as_nbformat_does(tmp_path):
    paths = []
    for path in NOTEBOOKS[:2]:
        paths.append(tmp_path / path.name)
        tool.write(paths[-1], without_setup(tool.read(path)))
    assert tool.main(["--check", *map(str, paths)]) == 1
    assert tool.main([str(p) for p in paths]) == 0
    assert tool.main(["--check", *map(str, paths)]) == 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n" == text
        nbformat = pytest.importorskip("nbformat")
        nbformat.validate(nbformat.reads(text, as_version=4))
