"""Write the list of stored data files (``STORED_DATA`` in qnb/stored_data.py) from book/data/*.npz.

``qnb.fetch_stored_data`` keeps a fetched file only if its size and sha256 are the ones
listed, so the list must follow every regenerated file. Run after regenerating one:

    .venv/bin/python tools/stored_data_manifest.py           # rewrite the list
    .venv/bin/python tools/stored_data_manifest.py --check   # exit 1 if it is out of date

tests/test_stored_data.py fails while the list and the files disagree.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "qnb" / "stored_data.py"
DATA = ROOT / "book" / "data"
sys.path.insert(0, str(ROOT))  # this checkout's qnb, whatever is installed
from qnb.stored_data import file_digest  # noqa: E402  (the digest fetch_stored_data checks)

BLOCK = re.compile(r"(# BEGIN STORED_DATA[^\n]*\n)(.*?)(# END STORED_DATA\n)", re.S)


def manifest_text(folder: Path = DATA) -> str:
    """The ``STORED_DATA = {...}`` assignment for the .npz files in ``folder``."""
    lines = [f'    "{p.name}": ({size}, "{sha}"),'
             for p in sorted(folder.glob("*.npz")) for size, sha in [file_digest(p)]]
    return "STORED_DATA = {\n" + "\n".join(lines) + "\n}\n"


def updated_module(text: str, folder: Path = DATA) -> str:
    match = BLOCK.search(text)
    if match is None:
        raise SystemExit(f"{MODULE}: no '# BEGIN STORED_DATA' ... '# END STORED_DATA' block")
    return text[:match.start(2)] + manifest_text(folder) + text[match.end(2):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if the list is out of date")
    args = parser.parse_args(argv)
    text = MODULE.read_text(encoding="utf-8")
    new = updated_module(text)
    if new == text:
        print(f"{MODULE.relative_to(ROOT)}: STORED_DATA matches book/data/*.npz")
        return 0
    if args.check:
        print(f"{MODULE.relative_to(ROOT)}: STORED_DATA does not match book/data/*.npz; "
              f"run: .venv/bin/python tools/stored_data_manifest.py", file=sys.stderr)
        return 1
    MODULE.write_text(new, encoding="utf-8")
    print(f"{MODULE.relative_to(ROOT)}: STORED_DATA rewritten from book/data/*.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
