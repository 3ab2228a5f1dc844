"""Every kind of output stored in the committed notebooks is either compared by nbval,
skipped by it on purpose, or sanitized; none can make `make test` depend on round-off unnoticed.

nbval compares every output field and mime type except a fixed list (nbval 0.11:
``IPyNbFile.skip_compare`` holds ``image/png``, ``image/jpeg`` and widget views). A mime
type outside that list that carries a rendered figure -- myst-nb's glue stores figures as
``application/papermill.record/image/png`` -- is compared byte for byte, and its pixels
change with the processor. This test lists the kinds in the notebooks and fails on any
kind that is not accounted for below, so a new kind has to be classified before it lands.
"""

import inspect
import re
from pathlib import Path

import nbformat
import pytest
from nbval import plugin

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
SANITIZE_FILE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"

# Text that nbval compares after the sanitizers; the reproducibility rule of the README
# (digits fixed by the computation, bounds at round-off) is what keeps it machine independent.
COMPARED = {"stream", "text/plain", "application/papermill.record/text/plain"}
# Skipped by nbval itself (checked against its source below).
SKIPPED = {"image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"}
# Compared by nbval, but replaced by a placeholder by a sanitizer of nbval_sanitize.cfg.
SANITIZED = {"application/papermill.record/image/png": "GLUED-PNG"}


def output_kinds(output):
    """('stream',) for a stream, the mime types for rich outputs, ('error',) for an error."""
    if output.output_type == "stream":
        return [("stream", output.text)]
    if output.output_type in ("display_data", "execute_result"):
        return list(output.data.items())
    return [(output.output_type, None)]


def stored_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            for output in cell.outputs:
                for kind, value in output_kinds(output):
                    yield f"{path.name} cell {index}", kind, value


def sanitize(text):
    patterns = plugin.get_sanitize_patterns(SANITIZE_FILE.read_text())
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def test_notebooks_found():
    assert len(NOTEBOOKS) >= 5


def test_every_stored_output_kind_is_accounted_for():
    unknown = sorted({(where, kind) for where, kind, _ in stored_outputs()
                      if kind not in COMPARED | SKIPPED | set(SANITIZED)})
    assert not unknown, f"output kinds neither compared, skipped nor sanitized: {unknown}"


def test_nbval_skips_what_this_test_assumes():
    source = inspect.getsource(plugin.IPyNbFile.__init__)
    for kind in SKIPPED:
        assert f"'{kind}'" in source, f"nbval no longer skips {kind}"


@pytest.mark.parametrize("kind", sorted(SANITIZED))
def test_sanitized_kinds_reduce_to_their_placeholder(kind):
    values = [(where, value) for where, k, value in stored_outputs() if k == kind]
    assert values, f"no stored output of kind {kind}: drop it from SANITIZED"
    for where, value in values:
        assert sanitize(value).strip() == SANITIZED[kind], where


def test_sanitizer_leaves_text_with_numbers_alone():
    # The glued-figure sanitizer must not swallow ordinary printed output.
    text = "E_n(A0) = 15.3024 on n = 30 samples; iVBOR is not a PNG header here"
    assert sanitize(text) == text
