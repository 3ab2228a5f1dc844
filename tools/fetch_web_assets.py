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
these into ``_build/html/_static/``.  ``_assets/`` is git-ignored; ``make book``
runs this script whenever the folder is missing or this script or
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
}

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

        web = dest / "web"
        staging = dest / "web.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "widgets").mkdir(parents=True)

        shutil.copytree(unpacked["mathjax"] / "es5", staging / "mathjax")
        shutil.copy2(unpacked["requirejs"] / "require.js", staging / "widgets" / "require.js")
        shutil.copy2(ROOT / "tools" / "widgets-config.js", staging / "widgets" / "config.js")
        # embed-amd.js computes its public path from its own URL and loads the
        # icon fonts (hashed file names) from beside itself: copy them all.
        dist = unpacked["@jupyter-widgets/html-manager"] / "dist"
        for f in dist.iterdir():
            if f.name == "embed-amd.js" or f.suffix in {".woff", ".woff2", ".ttf", ".eot", ".svg"}:
                shutil.copy2(f, staging / "widgets" / f.name)
        for name, pkg in unpacked.items():
            lic = pkg / "LICENSE"
            if lic.exists():
                shutil.copy2(lic, staging / f"LICENSE.{name.replace('/', '__')}")

        shutil.rmtree(web, ignore_errors=True)
        staging.rename(web)
        versions = {name: version for name, (version, _) in PACKAGES.items()}
        (dest / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(f"fetch_web_assets: assets in {web}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
