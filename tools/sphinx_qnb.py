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
"""

import os


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


def setup(app):
    os.environ["QNB_STATIC_WIDGETS"] = "1"  # qnb.figure_explorer.STATIC_ENV
    app.set_html_assets_policy("always")
    # Late (priority 900): extensions add their page scripts in html-page-context too.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"version": "0.2", "parallel_read_safe": True, "parallel_write_safe": True}
