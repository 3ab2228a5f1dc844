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
"""

import os

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


def setup(app):
    os.environ["QNB_STATIC_WIDGETS"] = "1"  # qnb.figure_explorer.STATIC_ENV
    app.set_html_assets_policy("always")
    # Late (priority 900): extensions add their page scripts in html-page-context too.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("html-page-context", _fix_body_markup)
    app.connect("html-page-context", _record_execution_mode)
    return {"version": "0.3", "parallel_read_safe": True, "parallel_write_safe": True}
