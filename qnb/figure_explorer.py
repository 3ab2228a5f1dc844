"""Interactive figures that also work on a static page.

A chapter's widget redraws a figure from a few controls (sliders, dropdowns). In a
running kernel (Binder, Colab, local Jupyter) :func:`explore` is ``ipywidgets.interact``:
any value of the controls, computed on demand. The published HTML book has no kernel, so
there the Python behind the controls could never run. For the book build (the environment
variable ``QNB_STATIC_WIDGETS=1``, set by the book's Sphinx extension) :func:`explore`
computes the figure for every point of a small grid of control values instead, and lets
the page switch between them on the client:

- one :class:`ipywidgets.SelectionSlider` (or ``Dropdown``) per control, offering the grid
  values only;
- nested :class:`ipywidgets.Stack` widgets, one level per control, whose leaves are the
  precomputed states: the figure as a PNG, with the text the function printed above it;
- ``jslink`` from each control's ``index`` to the ``selected_index`` of every stack on its
  level. Links are widget models of their own and are kept in the embedded widget state,
  so they run in the browser without a kernel.

Every state carries what it shows: its ``<figure>`` has a ``data-qnb-state`` attribute
(the control labels and values, as JSON) and its image an alt text naming the values, so a
test (``tests/browser_check.py``) can move the controls and check the figure that appears.

The grid's figures are drawn by forked worker processes where the platform allows it
(Linux): a chapter's grid of 81 figures then takes half the time on two processors.

matplotlib and ipywidgets are imported when a figure is explored, so ``import qnb`` does
not need them.
"""

from __future__ import annotations

import base64
import contextlib
import html
import inspect
import io
import itertools
import json
import os
import string
import sys

from ._validation import check_int, check_positive

STATIC_ENV = "QNB_STATIC_WIDGETS"
"""Environment variable that selects the precomputed grid (value ``"1"``)."""

MAX_STATES = 200
"""Most states one static widget may hold (each is a PNG in the page)."""

DPI = 72
"""Resolution of the precomputed figures: a 10-inch figure is 720 pixels wide, the width
of the text column, and a state costs 20 to 45 kB of page weight."""


def static_mode() -> bool:
    """Whether :func:`explore` precomputes a grid (True during the book build)."""
    return os.environ.get(STATIC_ENV) == "1"


def explore(function, controls, grid, alt, *, static=None, dpi=DPI, workers=None):
    """A figure redrawn from controls: live in a kernel, a precomputed grid on a static page.

    Parameters
    ----------
    function : callable
        ``function(**values)`` draws the figure for one value per control and returns its
        :class:`matplotlib.figure.Figure`; anything it prints is shown with the figure.
    controls : dict of str to ipywidgets widget
        One control per keyword argument of ``function``: an ``IntSlider``, ``FloatSlider``,
        ``SelectionSlider`` or ``Dropdown`` whose ``value`` is the default and whose
        ``description`` labels it.
    grid : dict of str to sequence
        For each control, the values the static page offers (at least one; the control's
        default among them, and every value one the control itself accepts).
    alt : str
        Alt text of every figure: a ``str.format`` template over the control names, e.g.
        ``"Loss against time for d = {d}"``; it must name every control with more than one
        grid value, so that each precomputed figure says which state it shows.
    static : bool, optional
        Precompute the grid (True) or call ``ipywidgets.interact`` (False). Default:
        :func:`static_mode`.
    dpi : float
        Resolution of the precomputed PNGs.
    workers : int, optional
        Processes that draw the grid's figures (static mode). Default: the processors
        available, on Linux, where the workers are forked from this process and so inherit
        ``function`` without pickling it; 1 elsewhere. The page is the same for any value.

    Returns
    -------
    ipywidgets.Widget
        In live mode the ``interactive`` widget; in static mode a ``VBox`` of the controls,
        the nested stacks and a caption listing the values offered. It has the CSS class
        ``qnb-explorer``.

    Raises
    ------
    TypeError
        If ``function`` is not callable, a control is not an ipywidgets value widget,
        ``dpi`` is not a real number, ``workers`` not an integer, or ``function`` does not
        return a matplotlib figure (static mode).
    ValueError
        If the grid's names differ from the controls', a grid value is repeated, missing
        the control's default or outside what the control accepts, the grid has more than
        :data:`MAX_STATES` states, ``alt`` names something else or omits a varying
        control, ``dpi`` is not positive, or ``workers`` is below 1 (or above 1 where
        processes cannot be forked).
    """
    _check_arguments(function, controls, grid, alt)
    dpi = check_positive(dpi, "dpi")
    if static is None:
        static = static_mode()
    if not isinstance(static, bool):
        raise TypeError(f"static must be None, True or False, got {static!r}")
    workers = _check_workers(workers)
    if static:
        return _static_explorer(function, controls, grid, alt, dpi, workers)
    return _live_explorer(function, controls)


def _live_explorer(function, controls):
    from ipywidgets import interactive

    def redraw(**values):
        # The inline backend shows the figure once the call returns; returning it as well
        # would show it twice.
        function(**values)

    widget = interactive(redraw, **controls)
    widget.add_class("qnb-explorer")
    return widget


# --- argument checks ------------------------------------------------------------------


def _check_arguments(function, controls, grid, alt):
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")
    if not isinstance(controls, dict) or not controls:
        raise TypeError("controls must be a non-empty dict of name -> ipywidgets widget")
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of name -> values, got {type(grid).__name__}")
    if set(grid) != set(controls):
        raise ValueError(
            f"grid must name the same controls as controls: grid has {sorted(grid)}, "
            f"controls has {sorted(controls)}"
        )
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for name in controls:
        if not takes_any and name not in parameters:
            raise ValueError(f"controls: function takes no argument named {name!r}")
        _check_control(name, controls[name], grid[name])
    states = 1
    for values in grid.values():
        states *= len(values)
    if states > MAX_STATES:
        raise ValueError(f"grid has {states} states; at most {MAX_STATES} fit in a page")
    _check_alt(alt, grid)


def _check_workers(workers):
    forkable = sys.platform.startswith("linux")
    if workers is None:
        return len(os.sched_getaffinity(0)) if forkable else 1
    workers = check_int(workers, "workers")
    if workers > 1 and not forkable:
        raise ValueError(f"workers > 1 needs forked processes (Linux); got workers={workers}")
    return workers


def _check_control(name, control, values):
    from ipywidgets import ValueWidget

    if not isinstance(control, ValueWidget):
        raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget, got {type(control).__name__}")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise ValueError(f"grid[{name!r}] must be a non-empty sequence of values, got {values!r}")
    values = list(values)
    if len(set(map(repr, values))) != len(values):
        raise ValueError(f"grid[{name!r}] repeats a value: {values}")
    if control.value not in values:
        raise ValueError(f"grid[{name!r}] must contain the control's default {control.value!r}: {values}")
    accepted = _accepted(control)
    for value in values:
        if not accepted(value):
            raise ValueError(f"grid[{name!r}]: {value!r} is not a value controls[{name!r}] accepts")


def _accepted(control):
    """A predicate: whether the control could take this value in a live kernel."""
    options = getattr(control, "options", None)
    if options is not None:
        allowed = [v for _, v in _labelled_options(control)]
        return lambda value: value in allowed
    low, high = getattr(control, "min", None), getattr(control, "max", None)
    if low is None or high is None:
        return lambda value: True
    return lambda value: low <= value <= high


def _labelled_options(control):
    # Selection widgets keep their options as (label, value) pairs once constructed.
    return [(str(label), value) for label, value in control._options_full]


def _check_alt(alt, grid):
    if not isinstance(alt, str) or not alt.strip():
        raise TypeError(f"alt must be a non-empty str, got {alt!r}")
    named = {field for _, field, _, _ in string.Formatter().parse(alt) if field is not None}
    unknown = named - set(grid)
    if unknown:
        raise ValueError(f"alt names {sorted(unknown)}, which are not controls")
    silent = {name for name, values in grid.items() if len(values) > 1} - named
    if silent:
        raise ValueError(f"alt must name every control the grid varies; it omits {sorted(silent)}")


# --- the static explorer ----------------------------------------------------------------


def _static_explorer(function, controls, grid, alt, dpi, workers):
    from ipywidgets import HTML, VBox, jslink

    names = list(controls)
    values = {name: list(grid[name]) for name in names}
    labels = {name: [_label(controls[name], v) for v in values[name]] for name in names}
    selectors = {name: _selector(controls[name], values[name], labels[name]) for name in names}
    combos = list(itertools.product(*(range(len(values[name])) for name in names)))
    points = [{name: values[name][i] for name, i in zip(names, combo)} for combo in combos]
    drawn = _draw_all(function, points, dpi, workers)
    states = {}
    for combo, point, (text, png) in zip(combos, points, drawn):
        shown = {_description(controls[name], name): labels[name][i] for name, i in zip(names, combo)}
        states[combo] = _state_html(text, png, shown, alt.format(**point))
    stacks_by_level = [[] for _ in names]
    root = _nested_stack(names, values, controls, states, (), stacks_by_level)
    for name, stacks in zip(names, stacks_by_level):
        for stack in stacks:
            jslink((selectors[name], "index"), (stack, "selected_index"))
    caption = HTML(_caption(controls, names, labels))
    caption.add_class("qnb-explorer-caption")
    box = VBox([*selectors.values(), root, caption])
    box.add_class("qnb-explorer")
    return box


def _description(control, name):
    return control.description or name


def _label(control, value):
    options = getattr(control, "options", None)
    if options is not None:
        for label, option in _labelled_options(control):
            if option == value:
                return label
    return str(value)


def _selector(control, values, labels):
    """A control over the grid values only; its ``index`` drives the stacks."""
    from ipywidgets import Dropdown, SelectionSlider

    kind = Dropdown if isinstance(control, Dropdown) else SelectionSlider
    return kind(
        options=list(zip(labels, values)),
        value=control.value,
        description=_description(control, ""),
        style={"description_width": "initial"},
    )


def _nested_stack(names, values, controls, states, prefix, stacks_by_level):
    from ipywidgets import HTML, Stack

    level = len(prefix)
    if level == len(names):
        return HTML(states[prefix])
    name = names[level]
    children = [
        _nested_stack(names, values, controls, states, prefix + (i,), stacks_by_level)
        for i in range(len(values[name]))
    ]
    stack = Stack(children, selected_index=values[name].index(controls[name].value))
    stacks_by_level[level].append(stack)
    return stack


# The function being drawn, for forked workers: they inherit it from the parent, so it
# need not be picklable (a chapter's plotting function lives in the notebook).
_DRAWING = None


def _draw_all(function, points, dpi, workers):
    """(printed text, PNG bytes) for each point, in order; forked workers when workers > 1."""
    global _DRAWING
    workers = min(workers, len(points))
    if workers == 1:
        return [_draw(function, point, dpi) for point in points]
    import multiprocessing

    _DRAWING = function
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.starmap(_draw_forked, [(point, dpi) for point in points], chunksize=1)
    finally:
        _DRAWING = None


def _draw_forked(point, dpi):
    return _draw(_DRAWING, point, dpi)


def _draw(function, point, dpi):
    """Call the function at one point; return what it printed and its figure as PNG bytes."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fig = function(**point)
    if not isinstance(fig, Figure):
        raise TypeError(f"function must return a matplotlib Figure, got {type(fig).__name__} for {point}")
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi)
    plt.close(fig)
    return printed.getvalue().rstrip("\n"), png.getvalue()


def _state_html(text, png, shown, alt):
    """One precomputed state: printed text and figure, labelled with the control values."""
    data = base64.b64encode(png).decode("ascii")
    pre = f'<pre class="qnb-state-text">{html.escape(text)}</pre>' if text else ""
    state = html.escape(json.dumps(shown), quote=True)
    return (
        f'<figure class="qnb-state" data-qnb-state="{state}">{pre}'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
        f'style="max-width: 100%; height: auto"></figure>'
    )


def _caption(controls, names, labels):
    offered = "; ".join(
        f"{html.escape(_description(controls[name], name))} ∈ {{{', '.join(map(html.escape, labels[name]))}}}"
        for name in names
    )
    return (
        f"<small>This page offers {offered}: every combination was computed when the book "
        "was built. Run the notebook (Binder, Colab or locally) for any other value.</small>"
    )
