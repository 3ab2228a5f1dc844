"""Offline check of the links inside the built HTML book.

Walks every page of the build (``_build/html``: every ``*.html`` file except those
under ``_static`` and ``_sources``, which are theme assets and copied sources, not
pages), parses it with the standard library's ``html.parser`` and checks every
internal link: the ``href`` and ``src`` attribute of any element, and the target of
a ``<meta http-equiv="refresh">`` redirect. A link is internal when it has neither
a scheme nor a host: ``page.html``, ``../_static/x.css?v=1``, ``#section``,
``page.html#section``. For each one

- the target file exists inside the build (a folder stands for its
  ``index.html``; a path that climbs out of the build is broken); the query
  string (``?v=...`` on the theme's assets) is ignored;
- a fragment (``#section``) on a link to an HTML page is the ``id`` of an element
  of that page, or the ``name`` of one of its anchors; a bare ``#`` (the theme's
  buttons) is no target and is not checked.

External links (``http:``, ``https:``, ``mailto:``, ...) are never fetched: the
check runs offline, and whether another site is up says nothing about the book.
They are counted, and ``--external`` lists them for a look by hand (``data:`` and
``javascript:`` URLs are content, not links, and are left out). The links
Sphinx itself resolves (``{doc}``, ``{ref}``, citations, equations) are also
checked at build time: ``-W -n`` makes every unresolved reference an error.

Usage::

    python tests/linkcheck.py [--html _build/html] [--external]
"""

from __future__ import annotations

import argparse
import html.parser
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

SKIPPED_DIRS = {"_static", "_sources"}
LINK_ATTRIBUTES = {"href", "src"}
# Schemes whose "link" is content, not a place: neither checked nor listed.
INLINE_SCHEMES = {"data", "javascript", "blob", "about"}


@dataclass
class Link:
    page: str  # the page it is on, relative to the build, '/'-separated
    line: int
    tag: str
    attribute: str
    url: str


class _PageParser(html.parser.HTMLParser):
    """Collects the ids and anchor names of one page, and its links."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.anchors: set[str] = set()
        self.links: list[Link] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.anchors.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.anchors.add(attrs["name"])
        line = self.getpos()[0]
        for name in LINK_ATTRIBUTES & attrs.keys():
            if attrs[name] is not None:
                self.links.append(Link(self.page, line, tag, name, attrs[name].strip()))
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            target = refresh_target(attrs.get("content") or "")
            if target:
                self.links.append(Link(self.page, line, tag, "content", target))

    handle_startendtag = handle_starttag


def refresh_target(content: str) -> str | None:
    """The URL of a meta refresh's content attribute.

    >>> refresh_target("0; url=book/intro.html")
    'book/intro.html'
    >>> refresh_target("5") is None
    True
    """
    _, sep, rest = content.partition(";")
    rest = rest.strip()
    if not sep or not rest.lower().startswith("url="):
        return None
    return rest[4:].strip().strip("'\"") or None


def is_external(url: str) -> bool:
    """A link with a scheme or a host, which an offline check does not follow.

    >>> [is_external(u) for u in ("https://x.org/a", "mailto:a@b.c", "//cdn.x/y.js", "a.html#b", "#b", "../x.css?v=1")]
    [True, True, True, False, False, False]
    """
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def discover_pages(html_dir: str | os.PathLike) -> list[str]:
    """Every page of the build, relative to html_dir, '/'-separated."""
    root = Path(html_dir)
    return [
        path.relative_to(root).as_posix()
        for path in sorted(root.rglob("*.html"))
        if path.relative_to(root).parts[0] not in SKIPPED_DIRS
    ]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    pages: int = 0
    internal: int = 0
    external: list[Link] = field(default_factory=list)


class _Book:
    """The build's files; each HTML page is parsed once, when first needed."""

    def __init__(self, html_dir: str | os.PathLike):
        self.root = Path(html_dir).resolve()
        self._parsed: dict[Path, _PageParser] = {}

    def parse(self, path: Path) -> _PageParser:
        if path not in self._parsed:
            parser = _PageParser(path.relative_to(self.root).as_posix())
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            parser.close()
            self._parsed[path] = parser
        return self._parsed[path]

    def problem(self, link: Link) -> str | None:
        """Why an internal link is broken, or None when it is fine."""
        parts = urlsplit(link.url)
        page_path = self.root / link.page
        target = (page_path.parent / unquote(parts.path)).resolve() if parts.path else page_path
        shown = parts.path or link.page
        if target != self.root and self.root not in target.parents:
            return f"{shown} is outside the build"
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return f"{shown} does not exist"
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in self.parse(target).anchors:
            return f"no id or anchor name {fragment!r} in {target.relative_to(self.root).as_posix()}"
        return None


def check_links(html_dir: str | os.PathLike) -> Report:
    """Check every internal link of every page under html_dir (see the module docstring).

    Each problem is one line, ``page:line: <tag attribute="url">: why``; a
    link repeated on one page is reported once.
    """
    book = _Book(html_dir)
    report = Report()
    for page in discover_pages(book.root):
        report.pages += 1
        seen: set[tuple[str, str]] = set()
        for link in book.parse(book.root / page).links:
            if is_external(link.url):
                if urlsplit(link.url).scheme not in INLINE_SCHEMES:
                    report.external.append(link)
                continue
            report.internal += 1
            if (link.attribute, link.url) in seen:
                continue
            seen.add((link.attribute, link.url))
            why = book.problem(link)
            if why:
                report.problems.append(f"{page}:{link.line}: <{link.tag} {link.attribute}=\"{link.url}\">: {why}")
    return report


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", default=str(root / "_build" / "html"), help="the built book (default: _build/html)")
    parser.add_argument("--external", action="store_true", help="also list the external links (not checked)")
    args = parser.parse_args(argv)
    if not discover_pages(args.html):
        print(f"linkcheck: no HTML pages under {args.html}: build the book first", file=sys.stderr)
        return 2
    report = check_links(args.html)
    if args.external:
        for url in sorted({link.url for link in report.external}):
            print(f"external (not checked): {url}")
    for line in report.problems:
        print(line)
    print(
        f"linkcheck: {report.pages} pages, {report.internal} internal links, "
        f"{len(report.problems)} broken; {len(report.external)} external links not checked",
        file=sys.stderr,
    )
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
