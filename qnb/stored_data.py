"""The book's stored data files, for a notebook opened on its own.

The chapters read paper-scale runs from ``data/*.npz`` beside them (the repository's
``book/data/``). In a checkout, on Binder and in the book build those files are there; a
notebook opened alone (Colab's launch button) has only itself, so its first cell installs
``qnb`` and calls :func:`fetch_stored_data` to bring the files next to it.

``STORED_DATA`` lists every stored file with its size and sha256. A fetched file is kept
only if it matches, so it is complete and it is the file the book was built with.
``tests/test_stored_data.py`` checks the list against ``book/data/*.npz`` and
``tools/stored_data_manifest.py`` rewrites it after a file is regenerated.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from ._validation import check_positive

# The public repository (repository.url and repository.branch of _config.yml; a test
# checks that they agree) and where the files lie in it.
REPOSITORY = "https://github.com/qnb-book/qnb"
BRANCH = "main"
DEFAULT_SOURCE = f"{REPOSITORY}@{BRANCH}"
DATA_FOLDER = "book/data"
# Raw files of a GitHub repository: RAW_GITHUB/<owner>/<repo>/<ref>/<path>.
RAW_GITHUB = "https://raw.githubusercontent.com"

# BEGIN STORED_DATA (written by tools/stored_data_manifest.py; do not edit by hand)
STORED_DATA = {
    "fig2_gd_runs.npz": (445692, "d48e65772178212fce9e4c95b78c00d97230db4d309f5839412e9d5ca54baa86"),
    "fig3_gd_runs.npz": (880811, "96bd52cd39d064a5a9a185542f3685daf2209c802e4a4bbebd86bfd57ed0651e"),
    "global_convergence.npz": (57948, "c92d6a176cbfaf2335b4cf6f59dc6732746b96d9908c91f3a92a960da78cbce2"),
    "landscape_census.npz": (125861, "e62a142c155e7d275310bc43ff2fe27acd83fdab202231a86afe8ee93488df72"),
    "recovery_thresholds.npz": (39782, "8bb9e2cd89eda3af9537a20bc24e5e3d89a6c3f535a6fb16dbeb52ea30f9e599"),
    "string_profiles.npz": (286002, "5edad9313d12e3f8caad233089542c89bdd3d37cf3f0e0be025352c49f5dbc67"),
    "threshold_scaling.npz": (30514, "d098afd66c7a550fe09ec47163a8f8cfd7e3b3b2b971719e6618a2bf831be370"),
}
# END STORED_DATA

_CHUNK = 1 << 16


def fetch_stored_data(dest="data", source=DEFAULT_SOURCE, names=None, *, timeout=60.0):
    """Copy or download the book's stored data files that are missing from ``dest``.

    Files already in ``dest`` are left as they are (not even read), so in a checkout, where
    ``data/`` holds every file, nothing happens. A missing file is written under a
    temporary name in ``dest``, checked against its size and sha256 in ``STORED_DATA``
    and only then renamed, so an interrupted or corrupted transfer leaves nothing behind
    and a second call fetches what is still missing.

    Parameters
    ----------
    dest : str or os.PathLike, default "data"
        Folder to fill (created if absent). The notebooks read ``data/`` relative to
        their own folder, the kernel's working directory.
    source : str or os.PathLike, default ``DEFAULT_SOURCE``
        Where the files come from: a GitHub repository URL, optionally with ``@<branch>``
        (or tag or commit; without it, the default branch) as pip writes it, for example
        ``"https://github.com/qnb-book/qnb@main"`` (a leading ``git+`` and a trailing
        ``.git`` are accepted); the files are then downloaded from
        ``https://raw.githubusercontent.com/<owner>/<repo>/<branch>/book/data/<name>``.
        Or a local checkout of the repository, as a path or a ``file://`` URL; the files
        are copied from its ``book/data/``.
    names : iterable of str, optional
        File names to make available, each a key of ``STORED_DATA``. Default: all.
    timeout : float, default 60
        Seconds to wait for the server, per download (a download only).

    Returns
    -------
    list of pathlib.Path
        The files written, in ``names`` order; empty when nothing was missing.

    Raises
    ------
    OSError
        A file could not be read or downloaded, or what arrived is not the stored file
        (wrong size or sha256; for example a branch whose data differ from the installed
        ``qnb``). Files fetched before the failure are kept.

    Examples
    --------
    >>> import tempfile
    >>> sorted(STORED_DATA)[0]
    'fig2_gd_runs.npz'
    >>> fetch_stored_data(tempfile.mkdtemp(), names=[])  # nothing asked, nothing fetched
    []
    >>> fetch_stored_data("data", "https://github.com/qnb-book/qnb@main")  # doctest: +SKIP
    [PosixPath('data/fig2_gd_runs.npz'), PosixPath('data/fig3_gd_runs.npz'), ...]
    """
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"dest must be a str or os.PathLike folder, got {type(dest).__name__} {dest!r}")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"dest must be a folder, got the file {str(dest)!r}")
    where = _parse_source(source)
    names = _check_names(names)
    timeout = check_positive(timeout, "timeout")

    missing = [name for name in names if not (dest / name).exists()]
    if missing:
        dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in missing:
        origin = _origin(where, name)
        with _open(origin, timeout) as stream:
            _write_verified(stream, dest / name, origin)
        written.append(dest / name)
    return written


def file_digest(path):
    """(size in bytes, sha256 hex digest) of a file: one entry of ``STORED_DATA``."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _parse_source(source):
    """("local", folder of the files) or ("github", owner, repo, ref) for ``source``."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise TypeError(f"source must be a repository URL or a local path, got {type(source).__name__} {source!r}")
    if source.startswith("git+"):
        source = source[len("git+"):]
    parts = urllib.parse.urlsplit(source)
    if parts.scheme == "file":
        root = Path(urllib.request.url2pathname(parts.path))
    elif parts.scheme in ("https", "http"):
        path, ref = parts.path, "HEAD"     # HEAD: the default branch, as pip without @ref
        if "@" in path:
            path, ref = path.rsplit("@", 1)
        segments = [s for s in path.split("/") if s]
        if parts.netloc.lower() not in ("github.com", "www.github.com") or len(segments) != 2 or not ref:
            raise ValueError("source must be a GitHub repository URL such as "
                             f"'https://github.com/owner/repo@branch' or a local checkout, got {source!r}")
        owner, repo = segments
        return "github", owner, repo.removesuffix(".git"), ref
    elif len(parts.scheme) > 1:            # (a one-letter scheme is a Windows drive)
        raise ValueError(f"source must be an https:// GitHub URL, a file:// URL or a path, got {source!r}")
    else:
        root = Path(source)
    folder = root / DATA_FOLDER
    if not folder.is_dir():
        raise ValueError(f"source must be a checkout of the repository (a folder holding {DATA_FOLDER}/), "
                         f"got {source!r}")
    return "local", folder


def _check_names(names):
    if names is None:
        return list(STORED_DATA)
    if isinstance(names, (str, bytes, os.PathLike)):
        raise TypeError(f"names must be a list of file names, not a single {type(names).__name__} {names!r}")
    try:
        names = list(names)
    except TypeError:
        raise TypeError(f"names must be an iterable of file names, got {type(names).__name__}") from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"names must hold str file names, got {type(name).__name__} {name!r}")
        if name not in STORED_DATA:
            raise ValueError(f"names: {name!r} is not a stored data file; they are {sorted(STORED_DATA)}")
    return list(dict.fromkeys(names))


def _origin(where, name):
    """The file's path (local source) or URL (GitHub)."""
    if where[0] == "local":
        return where[1] / name
    _, owner, repo, ref = where
    quoted = "/".join(urllib.parse.quote(part, safe="") for part in (owner, repo, *ref.split("/")))
    return f"{RAW_GITHUB}/{quoted}/{DATA_FOLDER}/{name}"


def _open(origin, timeout):
    """A binary stream of ``origin``; any failure is an OSError that says what was asked."""
    try:
        if isinstance(origin, Path):
            return open(origin, "rb")
        return urllib.request.urlopen(origin, timeout=timeout)
    except OSError as exc:   # urllib's URLError and HTTPError are OSErrors too
        raise OSError(f"cannot fetch {origin}: {exc}") from exc


def _write_verified(stream, target, origin):
    """Write ``stream`` to ``target`` if it is the stored file; never leave a partial file."""
    size, sha256 = STORED_DATA[target.name]
    # A unique hidden name in the same folder, so the final rename is atomic and two
    # processes fetching at once do not write into one file.
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(partial, "xb") as out:
            try:
                shutil.copyfileobj(stream, out, _CHUNK)
            except (OSError, http.client.HTTPException) as exc:  # IncompleteRead is not an OSError
                raise OSError(f"cannot fetch {origin}: {exc!r}; nothing was written") from exc
        got = file_digest(partial)
        if got != (size, sha256):
            raise OSError(f"{origin} is not the stored {target.name}: {got[0]} bytes, sha256 {got[1][:16]}..., "
                          f"expected {size} bytes, sha256 {sha256[:16]}... (an interrupted download, or "
                          "a source whose data differ from the installed qnb); nothing was written")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
