"""The built HTML book, offline: its internal links (linkcheck.py) and its execution statistics.

- ``test_linkcheck_*``: the checker on a tiny synthetic build (tmp_path) with broken
  links planted in it, so that it is known to find them; no book needed.
- ``test_book_links``: every internal link of ``_build/html`` (or ``$QNB_HTML``)
  reaches an existing file, and every fragment an id on the target page.
- ``test_execution_statistics``: ``book/execution_statistics.html`` has one row per
  notebook of ``_toc.yml``, each with a run time and a success mark. myst-nb fills
  that table only with the notebooks the build executed, so it is checked when the
  build says (``<meta name="qnb-nb-execution-mode">``, written by
  tools/sphinx_qnb.py) that it executed them all (``force``, as ``make book``
  always does); after a build with ``execute_notebooks: "off"`` it is skipped.

No built book: the book tests are skipped, unless ``QNB_REQUIRE_BOOK=1`` (set by
``make test``, which has just built the book), which makes a missing book, and a
book whose notebooks were not executed, a failure.
"""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import pytest
import yaml

import linkcheck

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("QNB_HTML") or ROOT / "_build" / "html")
REQUIRE_BOOK = os.environ.get("QNB_REQUIRE_BOOK") == "1"
STATISTICS_PAGE = "book/execution_statistics.html"
STATISTICS_HEADER = ["Document", "Modified", "Method", "Run Time (s)", "Status"]


def require_book() -> None:
    """Skip (or, with QNB_REQUIRE_BOOK=1, fail) when there is no built book."""
    if not linkcheck.discover_pages(HTML):
        message = f"no built book under {HTML}: build it first (make book)"
        if REQUIRE_BOOK:
            pytest.fail(f"QNB_REQUIRE_BOOK=1, but {message}")
        pytest.skip(message)


# --------------------------------------------------------------------------
# the checker, on a synthetic build


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_linkcheck_finds_broken_links_and_fragments(tmp_path):
    write_tree(tmp_path, {
        "index.html": '<meta http-equiv="refresh" content="0; url=book/a.html" />',
        "book/a.html": """<html><head><link rel="stylesheet" href="../_static/s.css?v=1"></head><body>
<h1 id="top">A</h1>
<a href="b.html#sec">fine</a> <a href="b.html#old">old</a> <a href="gone.html">gone</a>
<a href="#top">self</a> <a href="#nowhere">self</a> <a href="#">button</a>
<a href="b.html#named">name</a> <a href="sub/">folder</a> <a href="../../outside.html">out</a>
<img src="../_images/missing.png"> <img src="data:image/png;base64,AAAA">
<a href="https://example.org/x#y">ext</a> <a href="mailto:a@b.c">mail</a>
</body></html>""",
        "book/b.html": '<section id="sec"></section><a name="named"></a>',
        "book/sub/index.html": "<p>sub</p>",
        "_static/s.css": "",
        "_static/broken.html": '<a href="nothing.html">not a page</a>',
    })
    report = linkcheck.check_links(tmp_path)
    problems = [re.sub(r":\d+:", ":", p) for p in report.problems]
    assert problems == [
        "book/a.html: <a href=\"b.html#old\">: no id or anchor name 'old' in book/b.html",
        'book/a.html: <a href="gone.html">: gone.html does not exist',
        "book/a.html: <a href=\"#nowhere\">: no id or anchor name 'nowhere' in book/a.html",
        'book/a.html: <a href="../../outside.html">: ../../outside.html is outside the build',
        'book/a.html: <img src="../_images/missing.png">: ../_images/missing.png does not exist',
    ]
    assert report.pages == 4  # index.html, book/a.html, book/b.html, book/sub/index.html
    assert sorted(link.url for link in report.external) == ["https://example.org/x#y", "mailto:a@b.c"]


def test_linkcheck_redirect_target_must_exist(tmp_path):
    write_tree(tmp_path, {"index.html": '<meta http-equiv="Refresh" content="0; url=book/intro.html">'})
    assert [re.sub(r":\d+:", ":", p) for p in linkcheck.check_links(tmp_path).problems] == [
        'index.html: <meta content="book/intro.html">: book/intro.html does not exist'
    ]


# --------------------------------------------------------------------------
# the built book


def test_book_links():
    """Every internal href and src of the built book reaches a file, and every fragment an id."""
    require_book()
    report = linkcheck.check_links(HTML)
    assert report.internal > 0, f"no internal links found under {HTML}"
    assert not report.problems, f"{len(report.problems)} broken links:\n" + "\n".join(report.problems)


class _StatisticsParser(html.parser.HTMLParser):
    """The execution-mode meta tag and the rows (cell texts) of every table of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.mode = None
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("name") == "qnb-nb-execution-mode":
            self.mode = attrs.get("content")
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def toc_files(entry) -> list[str]:
    """The 'root' and 'file' entries of a parsed _toc.yml, at any depth."""
    if isinstance(entry, dict):
        return [v for k, v in entry.items() if k in ("root", "file") and isinstance(v, str)] + [
            f for k, v in entry.items() if k not in ("root", "file") for f in toc_files(v)
        ]
    if isinstance(entry, list):
        return [f for item in entry for f in toc_files(item)]
    return []


def toc_notebooks() -> list[str]:
    """The documents of _toc.yml that are notebooks, as Sphinx docnames (book/reduction)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docnames = [Path(f).with_suffix("").as_posix() for f in toc_files(toc)]
    return sorted(d for d in docnames if (ROOT / f"{d}.ipynb").is_file())


def statistics_problems(page: _StatisticsParser, notebooks: list[str]) -> list[str]:
    """What is wrong with the execution-statistics table of a fully executed build."""
    tables = [t for t in page.tables if t and t[0] == STATISTICS_HEADER]
    if len(tables) != 1:
        return [f"{len(tables)} tables with the header {STATISTICS_HEADER}, expected 1"]
    rows = {row[0]: dict(zip(STATISTICS_HEADER, row)) for row in tables[0][1:]}
    problems = []
    if sorted(rows) != notebooks:
        problems.append(f"rows for {sorted(rows)}, but the notebooks of _toc.yml are {notebooks}")
    for name, row in rows.items():
        if not re.fullmatch(r"\d+(\.\d+)?", row.get("Run Time (s)", "")):
            problems.append(f"{name}: run time {row.get('Run Time (s)')!r} is not a number of seconds")
        if row.get("Status") != "✅" or row.get("Method") != page.mode or not row.get("Modified"):
            problems.append(f"{name}: not executed successfully by this build: {row}")
    return problems


def test_execution_statistics_table_check():
    """statistics_problems accepts the table myst-nb writes and notices a missing row."""
    page = _StatisticsParser()
    page.feed(
        '<meta name="qnb-nb-execution-mode" content="force" /><table><thead><tr>'
        + "".join(f"<th><p>{h}</p></th>" for h in STATISTICS_HEADER)
        + '</tr></thead><tbody><tr><td><p><a href="a.html"><span>book/a</span></a></p></td>'
        "<td><p>2025-01-01 12:00</p></td><td><p>force</p></td><td><p>1.12</p></td><td><p>✅</p></td></tr>"
        "</tbody></table>"
    )
    assert statistics_problems(page, ["book/a"]) == []
    assert statistics_problems(page, ["book/a", "book/b"]) == [
        "rows for ['book/a'], but the notebooks of _toc.yml are ['book/a', 'book/b']"
    ]


def test_execution_statistics():
    """The execution-statistics page lists every notebook of _toc.yml with its run time."""
    require_book()
    path = HTML / STATISTICS_PAGE
    assert path.is_file(), f"{path} is missing (is book/execution_statistics in _toc.yml?)"
    page = _StatisticsParser()
    page.feed(path.read_text(encoding="utf-8"))
    if page.mode is None:
        pytest.fail(f"{STATISTICS_PAGE} has no qnb-nb-execution-mode meta tag: built without tools/sphinx_qnb.py?")
    if page.mode != "force":
        message = f"the notebooks were not executed by this build (execution mode {page.mode!r}), so the table is not complete"
        if REQUIRE_BOOK:
            pytest.fail(f"QNB_REQUIRE_BOOK=1, but {message}; make book executes them all")
        pytest.skip(message)
    problems = statistics_problems(page, toc_notebooks())
    assert not problems, "\n".join(problems)
