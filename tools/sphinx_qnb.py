"""Small Sphinx extension for the qnb book (loaded through _config.yml, local_extensions).

Sphinx adds MathJax only to pages that contain math. Page titles with math (for
example a chapter called "The model and the reduction to $A$") also appear in the
navigation of every other page, where they would show as raw TeX. Load MathJax on
every page instead; it is served locally, so this costs no network access.

Sphinx 7.4 can also list an extension's inline script twice on a page (the thebe
launcher's ``const THEBE_JS_URL = ...`` among them; fixed upstream in Sphinx 8), and
the second copy is a JavaScript error on every page. Repeated scripts are dropped.

The chapters' widgets need a kernel to redraw; the published pages have none. Setting
``QNB_STATIC_WIDGETS=1`` here, before any notebook is executed, makes ``qnb.explore``
precompute each widget's figures on a grid of control values, which the page then switches
between without a kernel (the kernels the build starts inherit this environment).

Each page records how this build treated the notebooks, in
``<meta name="qnb-nb-execution-mode" content="...">`` (myst-nb's ``nb_execution_mode``,
from ``execute_notebooks`` in _config.yml: ``force`` in every real build). The
execution-statistics page lists only notebooks executed by the build, so
tests/test_links.py insists on a full table exactly when this says they were.

Two pieces of markup that the packages write into a page's body fail the accessibility
check of tests/browser_check.py (axe-core) and are rewritten (``BODY_FIXES``). The
book's stylesheet (book/_static/qnb.css) and the theme templates it overrides
(book/_templates/) are the rest of this theme layer.

A figure glued from another document (``{glue}`` with ``:doc:`` on the landing page)
is drawn by myst-nb without alt text, so Sphinx writes the image's file name as its
alt. It gets the alt text of the notebook cell that glued it (the cell metadata
``mystnb.image.alt`` that myst-nb gives the same figure in its chapter), so each
figure has one description, written next to the code that draws it.
"""

import json
import os
from functools import lru_cache
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

# (what the packages write, what the page gets instead): exact strings, so a change
# upstream leaves the page as it was and the accessibility check reports it again.
BODY_FIXES = (
    # docutils 0.21 gives each citation the role doc-biblioentry, deprecated in DPUB-ARIA
    # 1.1, inside a div role="list": a list then has no listitem children (axe rule
    # aria-required-children, critical, on the references page).
    ('role="doc-biblioentry"', 'role="listitem"'),
    # myst-nb's hidden code cells: the summary's label "Toggle hidden content" is not
    # its visible text "Show code cell source" (axe rule label-content-name-mismatch,
    # WCAG 2.5.3); without the label, the visible text is the name.
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
)


def _script_key(script):
    # A script is a sphinx _JavaScript (filename, priority, attributes) or a plain filename.
    # The two copies of a repeated inline script differ in their empty filename (None or "")
    # and possibly in priority; their body (an attribute) is the same.
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _fix_body_markup(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body:
        for old, new in BODY_FIXES:
            body = body.replace(old, new)
        context["body"] = body


def _record_execution_mode(app, pagename, templatename, context, doctree):
    mode = getattr(app.config, "nb_execution_mode", None)
    if mode is not None:
        meta = f'<meta name="qnb-nb-execution-mode" content="{mode}" />\n'
        context["metatags"] = context.get("metatags", "") + meta


@lru_cache(maxsize=None)
def _glued_alt_texts(path: str) -> dict:
    """{glue key: alt text of the cell that glued it} of one notebook."""
    if not path.endswith(".ipynb"):
        return {}
    alts = {}
    for cell in json.loads(Path(path).read_text(encoding="utf-8"))["cells"]:
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
        for output in cell.get("outputs", []) if alt else []:
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                alts[name] = alt
    return alts


class _glued_alt(nodes.General, nodes.Element):
    """Holds a pending cross-document glue reference and the alt text of its images."""


class MarkGluedFigures(SphinxPostTransform):
    """Before myst-nb resolves pending glue references (priority 5), wrap each in a
    _glued_alt node carrying the alt text of the cell that glued it."""

    default_priority = 4

    def apply(self, **kwargs):
        from myst_nb.ext.glue.utils import PendingGlueReference

        for ref in list(self.document.findall(PendingGlueReference)):
            alt = _glued_alt_texts(str(self.env.doc2path(ref.refdoc))).get(ref.key)
            if alt:
                wrapper = _glued_alt("", alt=alt)
                ref.replace_self(wrapper)
                wrapper.append(ref)


class AltForGluedFigures(SphinxPostTransform):
    """After myst-nb resolved them: give the images the alt text, drop the wrapper."""

    default_priority = 6

    def apply(self, **kwargs):
        for wrapper in list(self.document.findall(_glued_alt)):
            for image in wrapper.findall(nodes.image):
                image["alt"] = wrapper["alt"]
            wrapper.replace_self(list(wrapper.children))


def setup(app):
    os.environ["QNB_STATIC_WIDGETS"] = "1"  # qnb.figure_explorer.STATIC_ENV
    app.set_html_assets_policy("always")
    app.add_post_transform(MarkGluedFigures)
    app.add_post_transform(AltForGluedFigures)
    # Late (priority 900): extensions add their page scripts in html-page-context too.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("html-page-context", _fix_body_markup)
    app.connect("html-page-context", _record_execution_mode)
    return {"version": "0.3", "parallel_read_safe": True, "parallel_write_safe": True}
