r"""Real-browser check of the built HTML book.

Serves the built book (``_build/html``) on 127.0.0.1 and opens every page in
Debian's headless Chromium, driven by Playwright for Python (the ``playwright``
pip package; its own browser downloads are never used). For each page it checks

(a) math: no raw TeX is left in the visible text (text nodes outside code,
    pre, script, style, mjx-container and .highlight): no ``$$``, ``\frac``,
    ``\begin{``, ``\mathcal``, ``\(``, ``\[``, no inline ``$...$`` pair, no
    other TeX control word (``\alpha_c`` in a link text) and no stray ``$``
    (one not followed by a digit: the leftover half of a pair); every ``.math``
    element was typeset into an ``mjx-container``; and MathJax reported no TeX
    error (``mjx-merror``, or the red text of an undefined macro);
(b) images: every ``<img>`` has loaded (complete and naturalWidth > 0), and no
    request to the local server answered with an HTTP error;
(c) widgets: on a page that embeds ``application/vnd.jupyter.widget-view+json``
    the ipywidgets HTML manager rendered each view, with the sliders and
    dropdowns that the saved widget state describes, and the images saved in
    Output widgets, none of them twice; and the widgets respond without a
    kernel: every control sits in a ``qnb.explore`` widget with precomputed
    states, and each control is stepped through all its values (at least three
    moves), each step showing exactly one new, loaded figure whose
    ``data-qnb-state`` names the values the controls show and which has an alt
    text;
(d) no JavaScript error: no console message of type error, no uncaught
    exception;
(e) nothing leaves the machine: every request whose host is not 127.0.0.1 or
    localhost is aborted and reported (data: and blob: URLs are fine);
(f) accessibility: once the page has settled, axe-core (``_assets/test/axe.min.js``,
    a test-only asset fetched by tools/fetch_web_assets.py, never published) is
    injected and ``axe.run`` checks the whole document with its default rules
    (WCAG 2.x A and AA and best practices); every violation of impact
    "serious" or "critical" is a problem, reported with its rule id, help
    text, the number of elements and the first few of their CSS selectors;
    "moderate" and "minor" ones are not reported;
(g) at a glance: code cells and printed output fit the text column at 1280 px
    (nothing scrolls sideways), and every image has an alt text saying what it
    shows;

and saves a full-page screenshot of the page as ``<screenshots>/<page>.png``
(``book/intro.html`` -> ``book-intro.png``).

Which pages: every ``*.html`` file of the build except those under ``_static``
and ``_sources`` (theme assets and copied sources, not pages; the pages of
tests/linkcheck.py). That is the pages of the table of contents
(``book/*.html``) and the three pages Sphinx adds, ``genindex.html``,
``search.html`` and ``prf-prf.html`` (the index of the sphinx-proof
directives): they are cheap to check and share the theme's scripts, so they
catch a broken or CDN-bound asset as well. A pure redirect
page (``index.html``, a bare ``<meta http-equiv="Refresh">``) is not opened;
tests/linkcheck.py checks that its target exists.

Usage::

    python tests/browser_check.py --html _build/html --screenshots _build/screenshots

Importing this module needs nothing beyond the standard library; Playwright is
imported when a browser is started.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import linkcheck  # tests/linkcheck.py: the same pages, and the redirect targets

CHROMIUM = os.environ.get("QNB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
NAV_TIMEOUT_MS = 60_000
WAIT_TIMEOUT_MS = 30_000
MOVES_PER_CONTROL = 3
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
SLIDER_MODELS = {
    "IntSliderModel",
    "FloatSliderModel",
    "FloatLogSliderModel",
    "IntRangeSliderModel",
    "FloatRangeSliderModel",
    "SelectionSliderModel",
    "SelectionRangeSliderModel",
}
# Chromium's console messages for a blocked request or an HTTP error: each is
# already reported, with its URL, as a blocked request or an HTTP error.
CONSOLE_LOAD_FAILURES = (
    "Failed to load resource: net::ERR_BLOCKED_BY_CLIENT",
    "Failed to load resource: the server responded with a status of",
)
REDIRECT = re.compile(r"""^\s*<meta\s+http-equiv=["']?refresh["']?\s+content=["']\s*\d+\s*;\s*url=([^"']+)["']\s*/?>\s*$""", re.I)


class BrowserUnavailable(RuntimeError):
    """Chromium or the playwright package is missing."""


def browser_missing() -> str | None:
    """Why the browser check cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package is not installed ({exc}); pip install playwright"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing; apt-get install chromium"
    return None


def redirect_target(path: Path) -> str | None:
    """The URL a bare meta-refresh page sends to, or None for a real page."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if len(text) > 2000:
        return None
    match = REDIRECT.match(text)
    return match.group(1) if match else None


def discover_pages(html_dir: str | os.PathLike) -> list[str]:
    """Pages of the book to open, as paths relative to html_dir ('/'-separated).

    The pages of the link check (tests/linkcheck.py: every *.html file except those
    below _static and _sources) without the bare redirect pages (see the module
    docstring).
    """
    root = Path(html_dir)
    return [page for page in linkcheck.discover_pages(root) if redirect_target(root / page) is None]


def page_weight(html_dir: str | os.PathLike, page: str) -> int:
    """Bytes a reader downloads for one page, beyond the theme's shared files.

    The HTML itself (which carries the widget states, precomputed figures included) plus
    every local image it references (``_images/``); the theme's CSS, JavaScript and fonts
    under ``_static/`` are shared by all pages and cached, so they are not counted.
    """
    html_dir = Path(html_dir)
    path = html_dir / page
    text = path.read_text(encoding="utf-8", errors="replace")
    total = path.stat().st_size
    for src in set(re.findall(r'<img[^>]*\ssrc="([^"#?]+)"', text)):
        if src.startswith(("data:", "http:", "https:")) or "/_static/" in f"/{src}":
            continue
        image = (path.parent / src).resolve()
        if image.is_file():
            total += image.stat().st_size
    return total


def screenshot_name(page: str) -> str:
    """The file name of a page's screenshot.

    >>> screenshot_name("book/intro.html")
    'book-intro.png'
    """
    return page[: -len(".html")].replace("/", "-") + ".png"


def widget_expectations(html: str) -> list[dict]:
    """What each embedded widget view should render, from the saved widget state.

    One dict per widget-view script, in page order: the model name of the view,
    the number of sliders and dropdowns below it (through children, IPY_MODEL_
    references), the descriptions of those controls, the number of images
    saved in Output widgets below it, and how many of those repeat an earlier
    one byte for byte (a figure both displayed and returned by the function
    given to interact shows twice).
    """
    views = re.findall(
        r'<script type="' + re.escape(WIDGET_VIEW_MIME) + r'">(.*?)</script>', html, re.S
    )
    state_match = re.search(
        r'<script type="' + re.escape(WIDGET_STATE_MIME) + r'">(.*?)</script>', html, re.S
    )
    models = json.loads(state_match.group(1))["state"] if state_match else {}
    expectations = []
    for view in views:
        model_id = json.loads(view)["model_id"]
        found = {
            "model_id": model_id,
            "model": None,
            "sliders": [],
            "dropdowns": [],
            "images": 0,
            "repeated_images": 0,
        }
        images: set[str] = set()
        if model_id in models:
            found["model"] = models[model_id]["model_name"]
        seen: set[str] = set()
        stack = [model_id]
        while stack:
            mid = stack.pop()
            if mid in seen or mid not in models:
                continue
            seen.add(mid)
            model = models[mid]
            name, state = model["model_name"], model.get("state", {})
            if name in SLIDER_MODELS:
                found["sliders"].append(state.get("description", ""))
            elif name == "DropdownModel":
                found["dropdowns"].append(state.get("description", ""))
            elif name == "OutputModel":
                for out in state.get("outputs", []):
                    data = out.get("data", {})
                    for key in data:
                        if key.startswith("image/"):
                            found["images"] += 1
                            image = json.dumps(data[key])
                            if image in images:
                                found["repeated_images"] += 1
                            images.add(image)
            for child in state.get("children", []):
                if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                    stack.append(child[len("IPY_MODEL_"):])
        expectations.append(found)
    return expectations


# --------------------------------------------------------------------------
# page JavaScript


RAW_TEX_JS = r"""
() => {
  const SKIP = 'code, pre, script, style, noscript, textarea, mjx-container, mjx-assistive-mml, .highlight';
  // First match wins, so the specific names come before the generic ones.
  const PATTERNS = [
    ['$$', /\$\$/],
    ['\\frac', /\\frac/],
    ['\\begin{', /\\begin\{/],
    ['\\mathcal', /\\mathcal/],
    ['\\(', /\\\(/],
    ['\\[', /\\\[/],
    // an inline $...$ pair: no space after the opening $, none before the
    // closing one, no digit after it (so "$5 or $10" is not a pair)
    ['$...$', /(^|[^\\$])\$(?![\s$])[^$\n]*?[^\s\\$]\$(?!\d)|(^|[^\\$])\$[^\s$\\]\$(?!\d)/],
    // any other TeX control word, e.g. a link text "threshold \alpha_c"
    ['\\command', /\\[A-Za-z]{2,}/],
    // a lone dollar that is not a price: the other half of a pair that
    // MathJax typeset, or a delimiter the Markdown parser left behind
    ['stray $', /\$(?!\d)/],
  ];
  function describe(el) {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) { s += '#' + e.id; parts.unshift(s); break; }
      const cls = Array.from(e.classList).slice(0, 2);
      if (cls.length) s += '.' + cls.join('.');
      parts.unshift(s);
    }
    return parts.join(' > ');
  }
  function section(el) {
    const sec = el.closest('section[id]');
    return sec ? '#' + sec.id : '';
  }
  function visible(node) {
    const el = node.parentElement;
    if (!el || el.closest(SKIP)) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) return true;
    return false;
  }
  // The text around a hit, with typeset math shown as [math].
  function context(node, index) {
    const block = node.parentElement.closest('p, li, dt, dd, td, th, h1, h2, h3, h4, h5, h6, figcaption, caption, label, a') || node.parentElement;
    const acc = {text: '', at: -1};
    (function collect(el) {
      for (const child of el.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) {
          if (child === node) acc.at = acc.text.length + index;
          acc.text += child.nodeValue;
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          const tag = child.tagName.toLowerCase();
          if (tag === 'mjx-container') acc.text += '[math]';
          else if (tag !== 'script' && tag !== 'style') collect(child);
        }
      }
    })(block);
    if (acc.at < 0) { acc.text = node.nodeValue; acc.at = index; }
    const i = Math.max(0, acc.at - 40);
    return (i > 0 ? '...' : '') + acc.text.slice(i, acc.at + 60).replace(/\s+/g, ' ').trim();
  }
  const hits = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue || !/[$\\]/.test(node.nodeValue) || !visible(node)) continue;
    for (const [name, re] of PATTERNS) {
      const m = re.exec(node.nodeValue);
      if (m) {
        hits.push({pattern: name, text: context(node, m.index), where: describe(node.parentElement),
                   section: section(node.parentElement)});
        break;
      }
    }
  }
  return hits;
}
"""

MATH_JS = r"""
() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const untypeset = math.filter(el => !el.querySelector('mjx-container'))
    .map(el => {
      const sec = el.closest('section[id]');
      return {text: el.textContent.trim().slice(0, 100), section: sec ? '#' + sec.id : ''};
    });
  const where = el => { const sec = el.closest('section[id]'); return sec ? '#' + sec.id : ''; };
  // TeX errors: a parse error becomes an merror; an undefined macro (the
  // noundefined package) a red mtext holding the macro's name.
  const errors = Array.from(document.querySelectorAll('mjx-merror')).map(el => ({
    error: el.getAttribute('data-mjx-error') || el.textContent.trim().slice(0, 100),
    section: where(el),
  })).concat(Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]'))
    .filter(el => el.textContent.trim().startsWith('\\'))
    .map(el => ({error: 'undefined macro ' + el.textContent.trim(), section: where(el)})));
  return {
    mathjax: !!(window.MathJax && window.MathJax.startup),
    mathjaxScript: !!document.querySelector('script[src*="mathjax"]'),
    mathElements: math.length,
    containers: document.querySelectorAll('mjx-container').length,
    untypeset: untypeset,
    errors: errors,
  };
}
"""

IMAGES_JS = r"""
async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) {
    if (img.loading === 'lazy') img.loading = 'eager';
  }
  await Promise.all(imgs.map(img => img.complete ? null :
    new Promise(resolve => { img.addEventListener('load', resolve); img.addEventListener('error', resolve);
                             setTimeout(resolve, 15000); })));
  return imgs.map(img => ({
    src: img.currentSrc || img.src || '',
    alt: img.alt || '',
    complete: img.complete,
    naturalWidth: img.naturalWidth,
  }));
}
"""

WIDGETS_JS = r"""
() => {
  const scripts = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  return scripts.map(script => {
    // the HTML manager inserts a div.widget-subarea before each view script
    // and renders the view into it
    const area = script.previousElementSibling;
    const ok = !!(area && area.classList.contains('widget-subarea'));
    const root = ok ? area : null;
    const q = sel => root ? Array.from(root.querySelectorAll(sel)) : [];
    const box = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const sliders = q('.widget-slider');
    return {
      subarea: ok,
      widgets: q('.jupyter-widgets').length,
      sliders: sliders.length,
      visibleSliders: sliders.filter(box).length,
      sliderHandles: q('.widget-slider .noUi-handle, .widget-slider input[type=range], .widget-slider .slider-container').filter(box).length,
      sliderLabels: sliders.map(s => { const l = s.querySelector('.widget-label'); return l ? l.textContent.trim() : ''; }),
      dropdowns: q('.widget-dropdown').length,
      outputImages: q('.widget-output img').length,
    };
  });
}
"""

# (g) what a reader sees at a glance: code and printed output that fit the text
# column, and figures that say what they show.
#
# Width: at VIEWPORT (1280 x 900) the theme's text column is 688 px wide. A code
# cell's <pre> keeps 652 px for text after its 16 px padding on each side: 77
# characters of the code font (here DejaVu Sans Mono 14 px, 8.43 px a
# character), 75 in a cell collapsed with hide-input (the toggle's frame takes
# 18 px); printed output (a stream or text/plain <pre>) also holds 77. Every
# <pre> of a code cell's input or output or of a code block (.highlight), every
# output area, HTML table and image in a cell's output must fit: nothing
# scrolled inside it (scrollWidth > clientWidth + 1) and nothing sticking out
# to the right of the article's text column. Collapsed cells are opened for the
# measurement (a reader who opens them sees the same) and closed again.
#
# Alt text: every <img> outside the theme's own files (_static: launch-button
# logos) has an alt text that says what it shows: not empty, not a file name or
# URL (what Sphinx writes when there is none), not a generic word ("figure",
# "png", ...), and at least three words. Images inside widgets count too.
GLANCE_JS = r"""
() => {
  const GENERIC = new Set(['image', 'img', 'figure', 'fig', 'png', 'jpg', 'jpeg', 'svg', 'plot',
                           'graph', 'chart', 'picture', 'output', 'alt', 'untitled', 'screenshot']);
  const FILE_NAME = /^(data:|\S*\/\S*$|\S+\.(png|jpe?g|gif|svg|webp|pdf)$)/i;
  const where = el => {
    const cell = el.closest('.cell');
    const pre = cell ? cell.querySelector('.cell_input pre') : el.closest('pre');
    const first = pre ? pre.textContent.split('\n').find(l => l.trim()) || '' : '';
    const sec = el.closest('section[id]');
    return {cell: first.trim().slice(0, 80), section: sec ? '#' + sec.id : ''};
  };
  const closed = Array.from(document.querySelectorAll('details:not([open])'));
  for (const d of closed) d.open = true;
  try {
    const article = document.querySelector('article.bd-article, .bd-article, main') || document.body;
    const acs = getComputedStyle(article);
    const columnRight = article.getBoundingClientRect().right - parseFloat(acs.paddingRight || 0);
    // the width of a character of the code font, for the report
    let ch = 8.4;
    const somePre = document.querySelector('.highlight pre');
    if (somePre) {
      const probe = document.createElement('span');
      probe.textContent = 'x'.repeat(100);
      somePre.appendChild(probe);
      ch = probe.getBoundingClientRect().width / 100 || ch;
      probe.remove();
    }
    const SELECTORS = [
      ['input', '.cell_input pre'],
      ['output', '.cell_output pre'],
      ['code block', '.highlight pre'],
      ['output', '.cell_output .output'],
      ['table', '.cell_output table'],
      ['image', '.cell_output img'],
    ];
    const flagged = new Map();
    for (const [kind, sel] of SELECTORS) {
      for (const el of document.querySelectorAll(sel)) {
        if (flagged.has(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        const inner = el.scrollWidth - el.clientWidth;
        const outer = r.right - columnRight;
        const over = Math.max(inner, outer);
        if (over > 1) flagged.set(el, {kind: el.closest('.cell_input') ? 'input' : kind, px: Math.round(over)});
      }
    }
    // one report per place: an element whose flagged descendant says it already
    const overflow = [];
    for (const [el, f] of flagged) {
      if (Array.from(flagged.keys()).some(o => o !== el && el.contains(o))) continue;
      overflow.push({...f, chars: Math.ceil(f.px / ch), ...where(el)});
    }
    const alt = [];
    for (const img of document.images) {
      const src = img.getAttribute('src') || '';
      if (/(^|\/)_static\//.test(src)) continue;
      const text = (img.getAttribute('alt') || '').trim();
      let why = null;
      if (!text) why = 'no alt text';
      else if (FILE_NAME.test(text)) why = 'alt text is a file name';
      else if (GENERIC.has(text.toLowerCase().replace(/[^a-z]/g, ''))) why = 'generic alt text';
      else if (text.split(/\s+/).length < 3) why = 'alt text too short to say what it shows';
      if (why) alt.push({why, alt: text.slice(0, 60), src: src.startsWith('data:') ? src.slice(0, 30) + '...' : src,
                         widget: !!img.closest('.widget-subarea, .jupyter-widgets'), ...where(img)});
    }
    return {overflow, alt, ch};
  } finally {
    for (const d of closed) d.open = false;
  }
}
"""


EXPLORERS_JS = r"""
() => {
  // Every widget control must sit in a qnb.explore widget: elsewhere it would need a kernel.
  const controls = '.widget-slider, .widget-dropdown';
  const loose = Array.from(document.querySelectorAll(controls))
    .filter(c => !c.closest('.qnb-explorer'))
    .map(c => { const l = c.querySelector('.widget-label'); return l ? l.textContent.trim() : '?'; });
  const explorers = Array.from(document.querySelectorAll('.qnb-explorer')).map((ex, i) => {
    ex.setAttribute('data-qnb-explorer', String(i));
    const shown = {};
    const kinds = [];
    for (const c of ex.querySelectorAll(controls)) {
      const label = c.querySelector('.widget-label');
      const name = label ? label.textContent.trim() : '';
      const select = c.querySelector('select');
      const readout = c.querySelector('.widget-readout');
      shown[name] = select ? select.options[select.selectedIndex].text.trim()
                           : (readout ? readout.textContent.trim() : '');
      const handle = c.querySelector('.noUi-handle');
      kinds.push({name: name, kind: select ? 'dropdown' : 'slider',
                  index: select ? select.selectedIndex : Math.round(Number(handle.getAttribute('aria-valuenow'))),
                  count: select ? select.options.length
                                : Math.round(Number(handle.getAttribute('aria-valuemax'))) + 1});
    }
    const visible = el => el.getClientRects().length > 0;
    const figures = Array.from(ex.querySelectorAll('figure.qnb-state')).filter(visible).map(f => {
      const img = f.querySelector('img');
      return {
        state: f.getAttribute('data-qnb-state'),
        alt: img ? img.alt : '',
        src: img ? img.src.length + ':' + img.src.slice(-200) : '',
        loaded: !!(img && img.complete && img.naturalWidth > 0),
      };
    });
    return {controls: kinds, shown: shown, figures: figures,
            caption: !!ex.querySelector('.qnb-explorer-caption')};
  });
  return {loose: loose, explorers: explorers};
}
"""

# axe-core, fetched by tools/fetch_web_assets.py into the git-ignored _assets/test
# (kept out of _assets/web, which is published with the book).
AXE_SCRIPT = Path(
    os.environ.get("QNB_AXE") or Path(__file__).resolve().parent.parent / "_assets" / "test" / "axe.min.js"
)
AXE_IMPACTS = ("serious", "critical")  # reported; "moderate" and "minor" are not
AXE_TARGETS_SHOWN = 3

# resultTypes: only violations are reported, so axe need not compute selectors for
# every element that passed a rule (it keeps one per rule), which saves time on the
# long chapters.
AXE_JS = r"""
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  // a target is a list of selectors: one per nested iframe or shadow root
  const selector = t => Array.isArray(t) ? t.join(' >> ') : String(t);
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, __SHOWN__).map(n => n.target.map(selector).join(' >> ')),
  }));
}
""".replace("__SHOWN__", str(AXE_TARGETS_SHOWN))


# --------------------------------------------------------------------------
# server and browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    # The types the browser cares about, whatever /etc/mime.types says.
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".ttf": "font/ttf",
        ".otf": "font/otf",
    }

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # the browser closing a connection early is not an error of the book
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class BookServer:
    """html_dir served by http.server on 127.0.0.1 at a free port, in a thread."""

    def __init__(self, html_dir: str | os.PathLike):
        handler = functools.partial(_QuietHandler, directory=str(html_dir))
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


class BookChecker:
    """A served book and a running headless Chromium; check_page() per page."""

    def __init__(self, html_dir: str | os.PathLike, screenshot_dir: str | os.PathLike | None):
        self.html_dir = Path(html_dir)
        self.screenshot_dir = Path(screenshot_dir) if screenshot_dir else None
        self._server = None
        self._pw = None
        self.browser = None
        self.timings: dict[str, dict[str, float]] = {}

    def __enter__(self):
        why = browser_missing()
        if why:
            raise BrowserUnavailable(why)
        from playwright.sync_api import sync_playwright

        if self.screenshot_dir:
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self._server = BookServer(self.html_dir).__enter__()
        try:
            self._pw = sync_playwright().start()
            self.browser = self._pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None
        if self._server is not None:
            self._server.__exit__(None, None, None)
            self._server = None

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def check_page(self, page_path: str) -> list[str]:
        """Open one page (relative to html_dir) and return its problems."""
        problems: list[str] = []

        def problem(msg: str) -> None:
            problems.append(f"{page_path}: {msg}")

        html = (self.html_dir / page_path).read_text(encoding="utf-8", errors="replace")
        timing = self.timings.setdefault(page_path, {})
        clock = [time.monotonic()]

        def lap(step: str) -> None:
            now = time.monotonic()
            timing[step] = round(now - clock[0], 2)
            clock[0] = now

        context = self.browser.new_context(
            viewport=VIEWPORT, color_scheme="light", service_workers="block"
        )
        try:
            page = context.new_page()
            page.set_default_timeout(WAIT_TIMEOUT_MS)
            external: list[str] = []
            console_errors: list[str] = []
            http_errors: list[str] = []
            failed: list[str] = []

            def route(r):
                url = r.request.url
                if _is_local(url):
                    r.continue_()
                else:
                    external.append(url)
                    r.abort("blockedbyclient")

            def on_console(msg):
                if msg.type == "error":
                    loc = msg.location or {}
                    where = loc.get("url", "")
                    if where:
                        where = f" ({where.replace(self.base_url, '')}:{loc.get('lineNumber', '?')})"
                    console_errors.append(f"{msg.text}{where}")

            def on_response(resp):
                if resp.status >= 400:
                    http_errors.append(f"HTTP {resp.status} {resp.url.replace(self.base_url, '')}")

            def on_failed(req):
                if _is_local(req.url):
                    failed.append(f"{req.url.replace(self.base_url, '')}: {req.failure}")

            context.route("**/*", route)
            page.on("console", on_console)
            def on_pageerror(err):
                # the innermost frame of the stack says which script threw
                frames = [ln.strip() for ln in (err.stack or "").splitlines() if ln.strip().startswith("at ")]
                where = f" ({frames[0][3:].replace(self.base_url, '')})" if frames else ""
                console_errors.append(f"uncaught {err.name}: {err.message}{where}")

            page.on("pageerror", on_pageerror)
            page.on("response", on_response)
            page.on("requestfailed", on_failed)
            page.on("websocket", lambda ws: external.append(ws.url) if not _is_local(ws.url) else None)

            lap("setup")
            page.goto(self.base_url + page_path, wait_until="load", timeout=NAV_TIMEOUT_MS)
            lap("load")
            self._settle(page, html, problem)
            lap("settle")

            # (a) math
            math = page.evaluate(MATH_JS)
            for hit in page.evaluate(RAW_TEX_JS):
                problem(
                    f"raw TeX {hit['pattern']} in visible text {hit['section']} "
                    f"[{hit['where']}]: «{hit['text']}»"
                )
            if math["mathElements"] and not math["mathjax"]:
                problem(f"{math['mathElements']} math elements but MathJax did not start")
            if (math["mathElements"] or math["mathjaxScript"]) and math["containers"] == 0:
                problem("page has math but no mjx-container: MathJax typeset nothing")
            for item in math["untypeset"][:10]:
                problem(f"math element not typeset {item['section']}: {item['text']!r}")
            if len(math["untypeset"]) > 10:
                problem(f"... and {len(math['untypeset']) - 10} more untypeset math elements")
            for item in math["errors"]:
                problem(f"MathJax error {item['section']}: «{item['error']}»")

            lap("math")

            # (b) images
            for img in page.evaluate(IMAGES_JS):
                if not img["complete"] or img["naturalWidth"] == 0:
                    src = img["src"]
                    src = src[:60] + "..." if src.startswith("data:") else src.replace(self.base_url, "")
                    problem(f"image not loaded: {src} (alt {img['alt']!r})")

            # (c) widgets
            if WIDGET_VIEW_MIME in html:
                self._check_widgets(page, html, problem)
                self._move_explorers(page, problem)
            self._check_glance(page, problem)  # (g) fits the column, alt texts

            lap("images+widgets")

            # screenshot after everything has rendered
            if self.screenshot_dir:
                page.screenshot(
                    path=str(self.screenshot_dir / screenshot_name(page_path)),
                    full_page=True,
                    animations="disabled",
                )
                lap("screenshot")

            self._check_accessibility(page, page_path, problem)  # (f)

            # (d) errors, (e) requests off the machine, HTTP errors
            for msg in console_errors:
                # a failed load is reported below, with its URL
                if not msg.startswith(CONSOLE_LOAD_FAILURES):
                    problem(f"JavaScript error: {msg}")
            for url in dict.fromkeys(external):
                problem(f"request leaving the machine (blocked): {url}")
            for msg in dict.fromkeys(http_errors):
                problem(msg)
            for msg in dict.fromkeys(failed):
                if "blockedbyclient" not in msg.lower():
                    problem(f"request failed: {msg}")
        except Exception as exc:  # a timeout or a crash is a problem of this page
            problem(f"check aborted: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        finally:
            context.close()
        return problems

    def _settle(self, page, html: str, problem) -> None:
        """Wait for MathJax, the widgets and the network to be done."""
        has_mathjax = page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')")
        if has_mathjax:
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=WAIT_TIMEOUT_MS,
                )
                page.evaluate("() => MathJax.startup.promise")
            except Exception as exc:
                problem(f"MathJax did not start: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        if WIDGET_VIEW_MIME in html:
            try:
                page.wait_for_function(
                    "() => { const s = document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]');"
                    " return s.length > 0 && Array.from(s).every(x => x.previousElementSibling &&"
                    " x.previousElementSibling.classList.contains('widget-subarea') &&"
                    " x.previousElementSibling.querySelector('.jupyter-widgets')); }",
                    timeout=WAIT_TIMEOUT_MS,
                )
            except Exception:
                pass  # reported by _check_widgets
        try:
            page.wait_for_load_state("networkidle", timeout=WAIT_TIMEOUT_MS)
        except Exception:
            problem(f"the network did not go idle within {WAIT_TIMEOUT_MS // 1000} s")
        if has_mathjax:
            # widget labels are typeset after the widgets render; then fonts
            try:
                page.evaluate(
                    "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                    " await MathJax.startup.promise; }"
                )
            except Exception as exc:
                problem(f"MathJax typesetting failed: {str(exc).splitlines()[0]}")
        page.evaluate("async () => { await document.fonts.ready; }")
        page.wait_for_timeout(200)

    def _check_widgets(self, page, html: str, problem) -> None:
        expected = widget_expectations(html)
        rendered = page.evaluate(WIDGETS_JS)
        if len(rendered) != len(expected):
            problem(f"{len(expected)} widget views in the HTML, {len(rendered)} view scripts in the page")
        for i, (exp, got) in enumerate(zip(expected, rendered), 1):
            label = f"widget view {i} ({exp['model'] or 'model missing from the widget state'})"
            if exp["model"] is None:
                problem(f"{label}: model {exp['model_id']} is not in the saved widget state")
            if not got["subarea"] or got["widgets"] == 0:
                problem(f"{label} was not rendered by the widget manager (no .widget-subarea with .jupyter-widgets)")
                continue
            n = len(exp["sliders"])
            if got["sliders"] != n:
                problem(f"{label}: {got['sliders']} sliders rendered, the widget state has {n} ({exp['sliders']})")
            if got["visibleSliders"] != got["sliders"]:
                problem(f"{label}: only {got['visibleSliders']} of {got['sliders']} sliders have a visible box")
            if n and got["sliderHandles"] < n:
                problem(f"{label}: {got['sliderHandles']} visible slider handles for {n} sliders")
            for desc in exp["sliders"]:
                if desc and desc not in got["sliderLabels"]:
                    problem(f"{label}: no slider labelled {desc!r} (labels: {got['sliderLabels']})")
            if got["dropdowns"] != len(exp["dropdowns"]):
                problem(f"{label}: {got['dropdowns']} dropdowns rendered, the widget state has {len(exp['dropdowns'])}")
            if exp["repeated_images"]:
                problem(
                    f"{label}: {exp['repeated_images']} of the {exp['images']} images in its Output widget "
                    "repeat an earlier one byte for byte (does the function given to interact return "
                    "a figure that is also displayed?)"
                )
            if got["outputImages"] < exp["images"]:
                problem(f"{label}: {got['outputImages']} images in its Output widgets, the widget state has {exp['images']}")

    def check_explorers_offline(self, page_path: str) -> list[str]:
        """Open one page from ``file://`` with every network request refused; step its widgets.

        The published book may be read from a folder, with no server and no network. Only
        ``file:``, ``data:`` and ``blob:`` URLs load; anything else is aborted and
        reported. The widgets must render and respond to every control
        (:meth:`_move_explorers`), with no JavaScript error.
        """
        problems: list[str] = []

        def problem(msg: str) -> None:
            problems.append(f"{page_path} (file://): {msg}")

        context = self.browser.new_context(viewport=VIEWPORT, color_scheme="light", service_workers="block")
        try:
            page = context.new_page()
            page.set_default_timeout(WAIT_TIMEOUT_MS)
            refused: list[str] = []
            errors: list[str] = []

            def route(r):
                if r.request.url.startswith(("file:", "data:", "blob:")):
                    r.continue_()
                else:
                    refused.append(r.request.url)
                    r.abort("internetdisconnected")

            context.route("**/*", route)
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda err: errors.append(f"uncaught {err.name}: {err.message}"))
            page.goto((self.html_dir / page_path).resolve().as_uri(), wait_until="load", timeout=NAV_TIMEOUT_MS)
            html = (self.html_dir / page_path).read_text(encoding="utf-8", errors="replace")
            self._settle(page, html, problem)
            self._move_explorers(page, problem)
            for url in dict.fromkeys(refused):
                problem(f"request refused (the network is off): {url}")
            for msg in errors:
                problem(f"JavaScript error: {msg}")
        except Exception as exc:
            problem(f"check aborted: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        finally:
            context.close()
        return problems

    def _move_explorers(self, page, problem) -> None:
        """Step every control of every qnb.explore widget; the figure must follow each step.

        A static explorer switches between precomputed states in the browser (jslink from
        each control to its stacks). After each step exactly one state is visible, it is a
        different image from the one before, it is loaded, and its data-qnb-state names the
        values the controls now show. Each control visits at least MOVES_PER_CONTROL
        positions (back and forth when it has fewer values).
        """
        found = page.evaluate(EXPLORERS_JS)
        for label in found["loose"]:
            problem(f"control {label!r} is not in a qnb.explore widget: without a kernel it does nothing")
        for i, explorer in enumerate(found["explorers"]):
            where = f"explorer {i + 1}"
            if not explorer["caption"]:
                problem(f"{where}: no figures precomputed (a live widget, which needs a kernel)")
                continue
            last = self._explorer_state(page, i, where, None, problem)
            if last is None:
                continue
            for number, control in enumerate(explorer["controls"]):
                for step in range(self._moves(control)):
                    self._step_control(page, i, number, control)
                    now = self._explorer_state(page, i, f"{where}, {control['name']} move {step + 1}", last, problem)
                    if now is None:
                        break
                    last = now

    @staticmethod
    def _moves(control) -> int:
        # To one end and back to the other, so every value is shown (at least MOVES_PER_CONTROL).
        index, count = control["index"], control["count"]
        if count < 2:
            return 0
        return max(MOVES_PER_CONTROL, (count - 1 - index) + (count - 1))

    @staticmethod
    def _step_control(page, explorer: int, number: int, control) -> None:
        """Move one control by one value: forward until its last value, then back."""
        root = page.locator(f'[data-qnb-explorer="{explorer}"]')
        widget = root.locator(".widget-slider, .widget-dropdown").nth(number)
        index, count = control["index"], control["count"]
        direction = control.setdefault("direction", 1)
        if index + direction not in range(count):
            control["direction"] = direction = -direction
        control["index"] = index + direction
        if control["kind"] == "dropdown":
            widget.locator("select").select_option(index=control["index"])
        else:
            widget.locator(".noUi-handle").focus()
            page.keyboard.press("ArrowRight" if direction == 1 else "ArrowLeft")
        page.wait_for_timeout(50)

    @staticmethod
    def _explorer_state(page, explorer: int, where: str, before, problem):
        """The visible figure's (state, src), checked against the controls; None on a problem."""
        found = page.evaluate(EXPLORERS_JS)["explorers"][explorer]
        figures = found["figures"]
        if len(figures) != 1:
            problem(f"{where}: {len(figures)} visible precomputed figures, expected 1")
            return None
        figure = figures[0]
        state = json.loads(figure["state"] or "{}")
        if state != found["shown"]:
            problem(f"{where}: the controls show {found['shown']}, the figure is the state {state}")
            return None
        if not figure["loaded"]:
            problem(f"{where}: the figure's image did not load")
        if not figure["alt"].strip():
            problem(f"{where}: the figure has no alt text")
        if before is not None and figure["src"] == before[1]:
            problem(f"{where}: the figure did not change")
        return (figure["state"], figure["src"])

    def _check_accessibility(self, page, page_path: str, problem) -> None:
        """(f): axe-core on the settled page; its serious and critical violations are problems.

        Runs after the screenshot, so a page is photographed as a reader sees it;
        records its own time as the step "axe" of the page's timings.
        """
        start = time.monotonic()
        if not AXE_SCRIPT.is_file():
            problem(
                f"accessibility not checked: {AXE_SCRIPT} is missing; fetch it with "
                "`python3 tools/fetch_web_assets.py --dest _assets` (make test runs it when _assets is out of date)"
            )
            return
        page.add_script_tag(path=str(AXE_SCRIPT))
        for v in page.evaluate(AXE_JS):
            if v["impact"] in AXE_IMPACTS:
                more = ", ..." if v["count"] > len(v["targets"]) else ""
                problem(
                    f"accessibility ({v['impact']}) {v['id']}: {v['help']}; "
                    f"{v['count']} elements: {', '.join(v['targets'])}{more}"
                )
        self.timings.setdefault(page_path, {})["axe"] = round(time.monotonic() - start, 2)

    def _check_glance(self, page, problem) -> None:
        """(g) code and printed output fit the text column; every image has a real alt text."""
        found = page.evaluate(GLANCE_JS)
        for item in found["overflow"]:
            cell = f" in the cell «{item['cell']}»" if item["cell"] else ""
            problem(
                f"{item['kind']} wider than the text column by {item['px']} px "
                f"(about {item['chars']} characters){cell} {item['section']}"
            )
        for item in found["alt"]:
            place = f"the cell «{item['cell']}»" if item["cell"] else "the page"
            widget = "widget " if item["widget"] else ""
            problem(f"{widget}image in {place} {item['section']}: {item['why']} ({item['alt']!r}, {item['src']})")


def check_book(
    html_dir: str | os.PathLike,
    screenshot_dir: str | os.PathLike | None,
    timings: dict | None = None,
) -> list[str]:
    """Open every page of the built book in Chromium; return the problems found.

    Each problem is one line starting with the page's path. Raises
    BrowserUnavailable when Chromium or playwright is missing, and
    FileNotFoundError when html_dir has no pages. When timings is a dict it
    receives the seconds each step took, per page.
    """
    html_dir = Path(html_dir)
    pages = discover_pages(html_dir) if html_dir.is_dir() else []
    if not pages:
        raise FileNotFoundError(f"no HTML pages under {html_dir}: build the book first")
    problems = []
    with BookChecker(html_dir, screenshot_dir) as checker:
        for page in pages:
            problems.extend(checker.check_page(page))
        if timings is not None:
            timings.update(checker.timings)
    return problems


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", default=str(root / "_build" / "html"), help="the built book (default: _build/html)")
    parser.add_argument(
        "--screenshots", default=str(root / "_build" / "screenshots"), help="where to save PNGs (default: _build/screenshots)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print the seconds each step took on each page")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        pages = discover_pages(args.html) if Path(args.html).is_dir() else []
        timings: dict[str, dict[str, float]] = {}
        problems = check_book(args.html, args.screenshots, timings)
    except (BrowserUnavailable, FileNotFoundError) as exc:
        print(f"browser check cannot run: {exc}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - start
    if args.verbose:
        for page, steps in timings.items():
            steps_text = ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
            print(f"{page}: {sum(steps.values()):.1f} s ({steps_text})", file=sys.stderr)
    for line in problems:
        print(line)
    print(
        f"browser check: {len(pages)} pages, {len(problems)} problems, {elapsed:.1f} s; "
        f"screenshots in {args.screenshots}",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
