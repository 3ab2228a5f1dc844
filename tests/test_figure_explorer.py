"""qnb.explore: live interact in a kernel, a precomputed grid of linked stacks in the book build."""

from __future__ import annotations

import html
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from ipywidgets import HTML, Dropdown, FloatSlider, IntSlider, Stack, Text, interactive  # noqa: E402
from ipywidgets.widgets.widget import _instances  # noqa: E402
from ipywidgets.widgets.widget_link import Link  # noqa: E402

import qnb  # noqa: E402
from qnb import figure_explorer  # noqa: E402


def draw(a=2, kind="sin"):
    print(f"a = {a} <{kind}>")
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, a])
    return fig


def controls():
    return dict(a=IntSlider(value=2, min=1, max=5, description="a"),
                kind=Dropdown(options=[("sine", "sin"), ("cosine", "cos")], value="sin", description="kind"))


GRID = dict(a=[1, 2, 3], kind=["sin", "cos"])
ALT = "curve {kind} of slope {a}"


def leaves(widget):
    if isinstance(widget, HTML):
        return [widget]
    return [leaf for child in widget.children for leaf in leaves(child)]


def stacks(widget, level=0, found=None):
    found = {} if found is None else found
    if isinstance(widget, Stack):
        found.setdefault(level, []).append(widget)
        for child in widget.children:
            stacks(child, level + 1, found)
    return found


@pytest.fixture
def static_box():
    box = qnb.explore(draw, controls(), GRID, ALT, static=True)
    yield box
    plt.close("all")


def test_static_grid_has_one_labelled_state_per_point(static_box):
    slider, dropdown, root, caption = static_box.children
    assert "qnb-explorer" in static_box._dom_classes
    assert [v for _, v in slider._options_full] == [1, 2, 3] and slider.value == 2
    assert [label for label, _ in dropdown._options_full] == ["sine", "cosine"]
    states = [json.loads(html.unescape(re.search(r'data-qnb-state="([^"]*)"', leaf.value).group(1)))
              for leaf in leaves(root)]
    # Nested in control order: the last control varies fastest.
    assert states == [{"a": str(a), "kind": k} for a in (1, 2, 3) for k in ("sine", "cosine")]
    alts = [html.unescape(re.search(r'alt="([^"]*)"', leaf.value).group(1)) for leaf in leaves(root)]
    assert alts[0] == "curve sin of slope 1" and alts[-1] == "curve cos of slope 3"
    # What the function printed is shown, escaped, with its figure.
    assert "a = 1 &lt;sin&gt;" in leaves(root)[0].value
    assert "data:image/png;base64," in leaves(root)[0].value
    assert "a ∈ {1, 2, 3}" in caption.value and "kind ∈ {sine, cosine}" in caption.value
    assert not plt.get_fignums(), "every precomputed figure is closed (the inline backend must not show it)"


def test_static_stacks_open_on_the_default_and_follow_their_control(static_box):
    slider, dropdown, root, _ = static_box.children
    levels = stacks(root)
    assert [len(levels[0]), len(levels[1])] == [1, 3]
    assert levels[0][0].selected_index == 1  # a = 2
    assert all(s.selected_index == 0 for s in levels[1])  # kind = sin
    # Every live widget is registered by ipywidgets (links included): the links made here.
    links = [w for w in _instances.values() if isinstance(w, Link)]
    targets = {(id(link.source[0]), id(link.target[0])) for link in links
               if link.source[1] == "index" and link.target[1] == "selected_index"}
    assert (id(slider), id(levels[0][0])) in targets
    assert all((id(dropdown), id(s)) in targets for s in levels[1])


def test_live_mode_is_interact_with_the_given_controls():
    box = qnb.explore(draw, controls(), GRID, ALT, static=False)
    assert isinstance(box, interactive) and "qnb-explorer" in box._dom_classes
    assert [c.description for c in box.children[:-1]] == ["a", "kind"]
    plt.close("all")


def test_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(figure_explorer.STATIC_ENV, "1")
    assert figure_explorer.static_mode()
    monkeypatch.setenv(figure_explorer.STATIC_ENV, "0")
    assert not figure_explorer.static_mode()
    monkeypatch.delenv(figure_explorer.STATIC_ENV)
    assert not figure_explorer.static_mode()


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(function=42), TypeError, "function"),
        (dict(controls={}), TypeError, "controls"),
        (dict(controls=dict(a=IntSlider(value=2), kind=Text("tan"))), ValueError, "default .tan."),
        (dict(controls=dict(a=IntSlider(value=2), kind="sin")), TypeError, "controls\\['kind'\\]"),
        (dict(grid=dict(a=[1, 2, 3])), ValueError, "grid must name"),
        (dict(grid=dict(a=[1, 3], kind=["sin"])), ValueError, "default"),
        (dict(grid=dict(a=[1, 2, 2], kind=["sin"])), ValueError, "repeats"),
        (dict(grid=dict(a=[2, 9], kind=["sin"])), ValueError, "accepts"),
        (dict(grid=dict(a=[2], kind=["sin", "tan"])), ValueError, "accepts"),
        (dict(grid=dict(a=[], kind=["sin"])), ValueError, "non-empty"),
        (dict(grid=dict(a=list(range(1, 6)), kind=["sin", "cos"]), alt="{a} {kind}",
              controls=dict(a=FloatSlider(value=2, min=0, max=1000), kind=controls()["kind"])), None, None),
        (dict(alt="slope {a}"), ValueError, "omits \\['kind'\\]"),
        (dict(alt="slope {a} {b} {kind}"), ValueError, "not controls"),
        (dict(alt=""), TypeError, "alt"),
        (dict(dpi=0), ValueError, "dpi"),
        (dict(static="yes"), TypeError, "static"),
        (dict(workers=0), ValueError, "workers"),
        (dict(workers=2.0), TypeError, "workers must be an integer"),
        (dict(dpi="72"), TypeError, "dpi must be a real number"),
    ],
)
def test_bad_arguments_name_the_argument(change, error, match):
    arguments = dict(function=draw, controls=controls(), grid=GRID, alt=ALT, static=True)
    arguments.update(change)
    if error is None:
        qnb.explore(**arguments)
        plt.close("all")
        return
    with pytest.raises(error, match=match):
        qnb.explore(**arguments)


def test_too_many_states_and_wrong_return_type():
    many = dict(a=IntSlider(value=0, min=0, max=999))
    with pytest.raises(ValueError, match="states"):
        qnb.explore(lambda a: None, many, dict(a=list(range(figure_explorer.MAX_STATES + 1))), "{a}", static=True)
    with pytest.raises(TypeError, match="Figure"):
        qnb.explore(lambda a: None, many, dict(a=[0]), "x", static=True)
    with pytest.raises(ValueError, match="no argument named 'b'"):
        qnb.explore(lambda a: None, dict(b=IntSlider()), dict(b=[0]), "x", static=True)


def test_forked_workers_draw_the_same_page_as_one_process():
    # The function is a closure: forked workers inherit it, nothing is pickled.
    offset = 0.5

    def shifted(a=2, kind="sin"):
        return draw(a + offset, kind)

    pages = [leaves(qnb.explore(shifted, controls(), GRID, ALT, static=True, workers=w).children[2])
             for w in (1, 2)]
    assert [leaf.value for leaf in pages[0]] == [leaf.value for leaf in pages[1]]
    assert "a = 3.5 &lt;cos&gt;" in pages[1][-1].value


def test_an_error_in_a_worker_reaches_the_caller():
    def broken(a=2, kind="sin"):
        if a == 3:
            raise RuntimeError("no figure at a = 3")
        return draw(a, kind)

    with pytest.raises(RuntimeError, match="a = 3"):
        qnb.explore(broken, controls(), GRID, ALT, static=True, workers=2)
    plt.close("all")
