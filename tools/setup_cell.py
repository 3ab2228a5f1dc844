"""Insert or refresh the setup cell of every notebook under book/, or check that it is there.

A notebook opened on its own (the book's Colab launch button opens one notebook, alone)
has neither ``qnb`` nor the stored data files it reads. Its first code cell, the same in
every notebook, installs ``qnb`` and fetches ``data/*.npz`` (``qnb.fetch_stored_data``)
when ``qnb`` is not importable; where it is (a checkout with its venv, Binder, the book
build) the cell does nothing and prints nothing, so nbval's stored outputs hold.

The cell is written here and nowhere else: its default source is ``repository.url`` and
``repository.branch`` of _config.yml, so the cell and the launch buttons cannot point at
different repositories. It is found by its tag ``qnb-setup``; it also carries
``hide-input``, so the HTML book shows it folded: a reader can still see what the notebook
would install before opening it elsewhere, without the cell taking room on the page.

    .venv/bin/python tools/setup_cell.py            # insert or refresh it in book/*.ipynb
    .venv/bin/python tools/setup_cell.py --check    # exit 1 if a notebook lacks it or has another
    .venv/bin/python tools/setup_cell.py NOTEBOOK...

tests/test_setup_cell.py runs the check on book/*.ipynb.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
TAG = "qnb-setup"
TAGS = [TAG, "hide-input"]
CELL_ID = "qnb-setup"

TEMPLATE = '''\
# Setup for a notebook opened on its own (e.g. from the book's Colab
# button): install qnb and the stored data files it reads (data/*.npz).
# Where qnb is importable (a checkout with its venv, Binder, the book
# build) nothing happens. QNB_SOURCE says where from: a repository URL
# with @branch (default below) or the path of a local checkout.
# Written by tools/setup_cell.py from _config.yml: change it there.
import importlib.util

if importlib.util.find_spec("qnb") is None:
    import os
    import subprocess
    import sys

    QNB_SOURCE = os.environ.get("QNB_SOURCE",
                                "{url}@{branch}")
    # pip installs a repository URL through git, a local folder directly.
    remote = QNB_SOURCE.startswith(("https://", "http://"))
    spec = "git+" + QNB_SOURCE if remote else QNB_SOURCE
    subprocess.check_call(
        [sys.executable, "-m", "pip", "install", "--quiet", spec])
    importlib.invalidate_caches()  # so this running kernel finds qnb
    import qnb

    # Only the missing files, each checked by its sha256.
    fetched = qnb.fetch_stored_data("data", QNB_SOURCE)
    print(f"qnb installed from {{spec}}; "
          f"data/ received {{len(fetched)}} file(s)")'''


def repository(config: Path = CONFIG) -> tuple[str, str]:
    """(url, branch) of the book's repository, from _config.yml."""
    repo = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("repository") or {}
    url, branch = str(repo.get("url", "")).rstrip("/"), str(repo.get("branch", ""))
    if not url.startswith("https://") or not branch:
        raise SystemExit(f"{config}: repository.url (https://...) and repository.branch are needed, got {repo}")
    return url, branch


def cell_source(config: Path = CONFIG) -> str:
    """The setup cell's source text for the repository of ``config``."""
    url, branch = repository(config)
    return TEMPLATE.format(url=url, branch=branch)


def _text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _is_setup(cell) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def problems(nb: dict, source: str) -> list[str]:
    """What keeps ``nb`` from carrying exactly the setup cell ``source``; empty if nothing."""
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    setup = [cell for cell in nb["cells"] if _is_setup(cell)]
    if not code:
        return []                                   # nothing runs, nothing to set up
    if not setup:
        return [f"no setup cell (a code cell tagged {TAG!r})"]
    found = []
    if len(setup) > 1:
        found.append(f"{len(setup)} cells tagged {TAG!r}, one expected")
    cell = setup[0]
    if cell["cell_type"] != "code":
        found.append(f"the cell tagged {TAG!r} is a {cell['cell_type']} cell")
    if code[0] is not cell:
        found.append("the setup cell is not the first code cell")
    if _text(cell) != source:
        found.append("the setup cell differs from the one tools/setup_cell.py writes")
    missing_tags = [t for t in TAGS if t not in cell.get("metadata", {}).get("tags", [])]
    if missing_tags:
        found.append(f"the setup cell lacks the tags {missing_tags}")
    if cell.get("outputs"):
        found.append("the setup cell has stored outputs (where qnb is installed it must print nothing)")
    return found


def apply(nb: dict, source: str) -> bool:
    """Insert or refresh the setup cell in ``nb`` (in place); True if ``nb`` changed."""
    if not problems(nb, source):
        return False
    setup = [cell for cell in nb["cells"] if _is_setup(cell)]
    cells = [cell for cell in nb["cells"] if not _is_setup(cell)]
    cell = next((c for c in setup if c["cell_type"] == "code"), None)
    if cell is None:
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
        if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):   # cell ids since nbformat 4.5
            taken = {c.get("id") for c in cells}
            cell["id"] = next(i for i in (CELL_ID, *(f"{CELL_ID}-{k}" for k in range(1, 100))) if i not in taken)
    cell["source"] = source.splitlines(keepends=True)
    tags = cell["metadata"].setdefault("tags", [])
    tags[:] = TAGS + [t for t in tags if t not in TAGS]
    cell["outputs"], cell["execution_count"] = [], None
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    nb["cells"] = cells[:first_code] + [cell] + cells[first_code:]
    return True


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, nb: dict) -> None:
    """As nbformat writes notebooks (so an unchanged notebook is byte for byte the same)."""
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: book/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook needs the tool")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the book's _config.yml (its repository)")
    args = parser.parse_args(argv)
    source = cell_source(args.config)
    notebooks = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    failed = False
    for path in notebooks:
        nb = read(path)
        if args.check:
            for problem in problems(nb, source):
                print(f"{path}: {problem}", file=sys.stderr)
                failed = True
        elif apply(nb, source):
            write(path, nb)
            print(f"{path}: setup cell written")
    if failed:
        print("run: .venv/bin/python tools/setup_cell.py", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
