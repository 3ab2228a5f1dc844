"""The built HTML book in a real browser (headless Chromium): see browser_check.py.

One test per page of ``_build/html`` (or ``$QNB_HTML``), discovered when the
tests are collected; the screenshots go to ``_build/screenshots`` (beside the
HTML directory, or ``$QNB_SCREENSHOTS``).

- No built book: every test here is skipped (build it first: ``make book``).
- No Chromium or no playwright package: skipped, unless ``QNB_REQUIRE_BROWSER=1``,
  which makes it a failure (for ``make test`` and CI, where a skip would hide
  that the book was never looked at).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

import browser_check

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("QNB_HTML") or ROOT / "_build" / "html")
SCREENSHOTS = Path(os.environ.get("QNB_SCREENSHOTS") or HTML.parent / "screenshots")
REQUIRE_BROWSER = os.environ.get("QNB_REQUIRE_BROWSER") == "1"
NO_BOOK = f"{HTML} does not exist: build the book first (make book)"

pytestmark = pytest.mark.browser


def page_params() -> list:
    if not HTML.is_dir():
        return [pytest.param(None, id="no-book", marks=pytest.mark.skip(reason=NO_BOOK))]
    pages = browser_check.discover_pages(HTML)
    if not pages:
        return [pytest.param(None, id="no-pages")]
    return [pytest.param(page, id=page) for page in pages]


@pytest.fixture(scope="module")
def browser():
    """A BookChecker serving HTML; or, when it cannot run, the reason (a str)."""
    why = browser_check.browser_missing()
    if why:
        if not REQUIRE_BROWSER:
            pytest.skip(f"{why} (QNB_REQUIRE_BROWSER=1 makes this a failure)")
        yield why
        return
    with browser_check.BookChecker(HTML, SCREENSHOTS) as checker:
        yield checker


def run_check(browser, page, check: str, no_page: str) -> None:
    """Run one BookChecker check on one page; fail with every problem it found."""
    if page is None:
        pytest.fail(no_page)
    if isinstance(browser, str):
        pytest.fail(f"QNB_REQUIRE_BROWSER=1, but {browser}")
    problems = getattr(browser, check)(page)
    if problems:
        pytest.fail(f"{len(problems)} problems on {page}:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("page", page_params())
def test_page_in_browser(browser, page):
    """Math typeset, images loaded, widgets rendered, no JS error, nothing off the machine."""
    run_check(browser, page, "check_page", f"no HTML pages under {HTML}")


def explorer_pages() -> list:
    if not HTML.is_dir():
        return [pytest.param(None, id="no-book", marks=pytest.mark.skip(reason=NO_BOOK))]
    pages = [p for p in browser_check.discover_pages(HTML)
             if "qnb-explorer" in (HTML / p).read_text(encoding="utf-8", errors="replace")]
    return [pytest.param(page, id=page) for page in pages] or [pytest.param(None, id="no-widgets")]


@pytest.mark.parametrize("page", explorer_pages())
def test_widgets_respond_from_file_url_with_the_network_off(browser, page):
    """The acceptance test of the static widgets: from file://, offline, every control moves its figure."""
    run_check(browser, page, "check_explorers_offline", f"no page of {HTML} has a qnb.explore widget")


def toc_files(entry) -> list[str]:
    """The 'root' and 'file' entries of a parsed _toc.yml, at any depth."""
    found = []
    if isinstance(entry, dict):
        for key, value in entry.items():
            if key in ("root", "file") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(toc_files(value))
    elif isinstance(entry, list):
        for item in entry:
            found.extend(toc_files(item))
    return found


def test_every_toc_entry_is_a_page():
    """The pages checked above include every file of _toc.yml (a stale or partial build fails here)."""
    if not HTML.is_dir():
        pytest.skip(NO_BOOK)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = set(browser_check.discover_pages(HTML))
    missing = [f for f in toc_files(toc) if f"{Path(f).with_suffix('').as_posix()}.html" not in pages]
    assert not missing, f"in _toc.yml but not built into {HTML}: {missing}"


MAX_PAGE_BYTES = 15 * 2**20  # a page with precomputed widget figures must stay below 15 MB


def test_page_weights():
    """No page (HTML with its widget states, plus its images) weighs 15 MB or more."""
    if not HTML.is_dir():
        pytest.skip(NO_BOOK)
    weights = {page: browser_check.page_weight(HTML, page) for page in browser_check.discover_pages(HTML)}
    print("\n".join(f"{w / 2**20:7.2f} MB  {page}" for page, w in sorted(weights.items(), key=lambda x: -x[1])))
    heavy = {page: w for page, w in weights.items() if w >= MAX_PAGE_BYTES}
    assert not heavy, f"pages of 15 MB or more: {heavy}"
