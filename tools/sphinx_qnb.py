"""Small Sphinx extension for the qnb book (loaded through _config.yml, local_extensions).

Sphinx adds MathJax only to pages that contain math. Page titles with math (for
example a chapter called "The model and the reduction to $A$") also appear in the
navigation of every other page, where they would show as raw TeX. Load MathJax on
every page instead; it is served locally, so this costs no network access.
"""


def setup(app):
    app.set_html_assets_policy("always")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
