#!/usr/bin/env python3
"""Fetch the JavaScript the HTML book needs to render without internet access.

By default MathJax and the Jupyter widget manager are loaded from public CDNs,
so a book opened offline shows raw TeX and blank widgets.  This script downloads
pinned releases from the npm registry with ``npm pack`` (one tarball per
package, no dependency tree), checks each tarball against the sha512 integrity
recorded below, and unpacks the files the pages load into ``_assets/web/``:

``_assets/web/mathjax/``            the ``es5`` tree of MathJax 3 (the combined
                                    ``tex-mml-chtml.js`` component plus the fonts,
                                    output and accessibility pieces it loads lazily)
``_assets/web/widgets/require.js``  RequireJS, which the widget manager needs
``_assets/web/widgets/config.js``   tools/widgets-config.js: tells RequireJS where
                                    the widget manager's fonts are
``_assets/web/widgets/embed-amd.js`` the ipywidgets 8 HTML manager with
                                    ``@jupyter-widgets/base``, ``controls`` and
                                    ``output`` built in, plus its icon fonts

``_config.yml`` lists ``_assets/web`` in ``html_static_path``, so Sphinx copies
these into ``_build/html/_static/``.

One more package is for the tests only and is kept out of ``_assets/web``, so
that it never reaches the published book:

``_assets/test/axe.min.js``         axe-core, the accessibility engine that
                                    tests/browser_check.py injects into every
                                    page it opens

``_assets/versions.json`` records the version of every package, grouped by
where it was unpacked (``web`` or ``test``); the Makefile uses it as the stamp
of this script.  ``_assets/`` is git-ignored; ``make book`` and ``make test``
run this script whenever the folder is missing or this script or
``tools/widgets-config.js`` changed.

Usage: ``python3 tools/fetch_web_assets.py [--dest _assets]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# name, version, npm dist.integrity (sha512). Bump all three together.
PACKAGES = {
    "mathjax": (
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
    ),
    "requirejs": (
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
    ),
    # html-manager 1.x is the ipywidgets 8 line (@jupyter-widgets/controls 5.x).
    "@jupyter-widgets/html-manager": (
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    ),
    # Test only: unpacked into _assets/test, never into the published _assets/web.
    "axe-core": (
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    ),
}
# The packages unpacked into _assets/test; every other one goes to _assets/web.
TEST_PACKAGES = {"axe-core"}

ROOT = Path(__file__).resolve().parent.parent


def sri_sha512(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def npm_pack(spec: str, workdir: Path) -> Path:
    """Download one package tarball with ``npm pack`` and return its path."""
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)[0]
    return workdir / info["filename"]


def unpack(tarball: Path, into: Path) -> Path:
    with tarfile.open(tarball) as tar:
        try:
            tar.extractall(into, filter="data")
        except TypeError:  # Python without extraction filters (< 3.10.12)
            tar.extractall(into)
    return into / "package"


def install(folder: Path, fill) -> None:
    """Fill a fresh staging folder, then replace folder with it (no half-written folder)."""
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    fill(staging)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def copy_licenses(staging: Path, unpacked: dict, names) -> None:
    for name in names:
        for lic in ("LICENSE", "LICENSE-3RD-PARTY.txt"):
            if (unpacked[name] / lic).exists():
                # LICENSE.mathjax, LICENSE-3RD-PARTY.axe-core: one folder holds several packages
                shutil.copy2(unpacked[name] / lic, staging / f"{Path(lic).stem}.{name.replace('/', '__')}")


def fill_web(staging: Path, unpacked: dict) -> None:
    """What the published book loads (copied into _build/html/_static)."""
    (staging / "widgets").mkdir()
    shutil.copytree(unpacked["mathjax"] / "es5", staging / "mathjax")
    shutil.copy2(unpacked["requirejs"] / "require.js", staging / "widgets" / "require.js")
    shutil.copy2(ROOT / "tools" / "widgets-config.js", staging / "widgets" / "config.js")
    # embed-amd.js computes its public path from its own URL and loads the
    # icon fonts (hashed file names) from beside itself: copy them all.
    dist = unpacked["@jupyter-widgets/html-manager"] / "dist"
    for f in dist.iterdir():
        if f.name == "embed-amd.js" or f.suffix in {".woff", ".woff2", ".ttf", ".eot", ".svg"}:
            shutil.copy2(f, staging / "widgets" / f.name)
    copy_licenses(staging, unpacked, [n for n in PACKAGES if n not in TEST_PACKAGES])


def fill_test(staging: Path, unpacked: dict) -> None:
    """What only the tests load: axe-core for tests/browser_check.py."""
    shutil.copy2(unpacked["axe-core"] / "axe.min.js", staging / "axe.min.js")
    copy_licenses(staging, unpacked, sorted(TEST_PACKAGES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=str(ROOT / "_assets"), help="output folder")
    args = parser.parse_args(argv)
    dest = Path(args.dest).resolve()

    if shutil.which("npm") is None:
        print("fetch_web_assets: npm is required (Node.js 18 or later)", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        unpacked = {}
        for name, (version, integrity) in PACKAGES.items():
            tarball = npm_pack(f"{name}@{version}", tmp)
            got = sri_sha512(tarball)
            if got != integrity:
                print(
                    f"fetch_web_assets: integrity mismatch for {name}@{version}:\n"
                    f"  expected {integrity}\n  got      {got}",
                    file=sys.stderr,
                )
                return 1
            unpacked[name] = unpack(tarball, tmp / name.replace("/", "__"))
            print(f"fetch_web_assets: {name}@{version} ok")

        install(dest / "web", lambda staging: fill_web(staging, unpacked))
        install(dest / "test", lambda staging: fill_test(staging, unpacked))
        versions = {"web": {}, "test": {}}
        for name, (version, _) in PACKAGES.items():
            versions["test" if name in TEST_PACKAGES else "web"][name] = version
        (dest / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(f"fetch_web_assets: assets in {dest / 'web'}, test-only assets in {dest / 'test'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
