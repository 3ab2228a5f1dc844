"""qnb.fetch_stored_data: the list of stored files is the book's, and a fetch yields exactly those files.

Downloads are exercised against a small HTTP server on 127.0.0.1 standing in for
raw.githubusercontent.com (``RAW_GITHUB`` is pointed at it), so no test needs the network.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

import qnb
from qnb import stored_data

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "book" / "data"
SMALL = ["threshold_scaling.npz", "recovery_thresholds.npz"]  # the two smallest files


def test_the_list_is_book_data():
    on_disk = {p.name: stored_data.file_digest(p) for p in sorted(DATA.glob("*.npz"))}
    assert on_disk, "no book/data/*.npz found"
    assert qnb.STORED_DATA == on_disk, (
        "qnb.STORED_DATA does not list book/data/*.npz with their sizes and sha256 (a file was added, "
        "removed or regenerated): run .venv/bin/python tools/stored_data_manifest.py and commit qnb/stored_data.py")


def test_the_default_source_is_the_repository_of_config():
    repository = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    assert stored_data.REPOSITORY == repository["url"].rstrip("/")
    assert stored_data.BRANCH == repository["branch"]
    assert stored_data.DEFAULT_SOURCE == f"{repository['url'].rstrip('/')}@{repository['branch']}"


def assert_stored_files(folder, names):
    assert sorted(p.name for p in Path(folder).iterdir()) == sorted(names)
    for name in names:
        assert (Path(folder) / name).read_bytes() == (DATA / name).read_bytes()
        with np.load(Path(folder) / name) as f:
            assert "command" in f.files


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "file-url"])
def test_fetch_from_a_checkout_copies_every_missing_file(tmp_path, as_url):
    source = ROOT.as_uri() if as_url else ROOT
    dest = tmp_path / "nested" / "data"
    written = qnb.fetch_stored_data(dest, source)
    assert written == [dest / name for name in qnb.STORED_DATA]
    assert_stored_files(dest, qnb.STORED_DATA)


def test_files_present_are_left_alone(tmp_path):
    (tmp_path / SMALL[0]).write_bytes(b"not the stored file")  # present: neither read nor replaced
    os.utime(tmp_path / SMALL[0], (1_000_000, 1_000_000))
    assert qnb.fetch_stored_data(tmp_path, ROOT, names=SMALL) == [tmp_path / SMALL[1]]
    assert (tmp_path / SMALL[0]).read_bytes() == b"not the stored file"
    assert (tmp_path / SMALL[0]).stat().st_mtime == 1_000_000
    assert qnb.fetch_stored_data(tmp_path, ROOT, names=SMALL) == []


def test_nothing_is_created_when_nothing_is_missing(tmp_path):
    assert qnb.fetch_stored_data(tmp_path / "absent", ROOT, names=[]) == []
    assert not (tmp_path / "absent").exists()
    assert qnb.fetch_stored_data(DATA, ROOT) == []  # a checkout: every file is there


def test_a_source_with_other_data_is_refused_and_leaves_nothing(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(DATA, checkout / "book" / "data", ignore=shutil.ignore_patterns("*.py", ".*"))
    (checkout / "book" / "data" / SMALL[1]).write_bytes(b"regenerated, but the list is older")
    dest = tmp_path / "data"
    with pytest.raises(OSError, match=f"is not the stored {SMALL[1]}"):
        qnb.fetch_stored_data(dest, checkout, names=SMALL)
    assert sorted(p.name for p in dest.iterdir()) == [SMALL[0]]  # the good one kept, no partial file


# --- downloads, from a local stand-in for raw.githubusercontent.com ---------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncate: bool = False
    requested: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.requested.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # An interrupted transfer: the header promised the whole file, half of it arrives.
        self.wfile.write(body[: len(body) // 2] if self.truncate else body)

    def log_message(self, *args):
        pass


@pytest.fixture
def raw_server(monkeypatch):
    """A server with book/data/ of owner/repo at branch 'some/branch'; yields the handler class."""
    handler = type("Handler", (_Handler,), {"files": {}, "requested": [], "truncate": False})
    for name in qnb.STORED_DATA:
        handler.files[f"/owner/repo/some/branch/book/data/{name}"] = (DATA / name).read_bytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setattr(stored_data, "RAW_GITHUB", f"http://127.0.0.1:{server.server_address[1]}")
    yield handler
    server.shutdown()
    server.server_close()


def test_download_from_github_raw_files(tmp_path, raw_server):
    written = qnb.fetch_stored_data(tmp_path, "git+https://github.com/owner/repo.git@some/branch", names=SMALL)
    assert written == [tmp_path / name for name in SMALL]
    assert raw_server.requested == [f"/owner/repo/some/branch/book/data/{name}" for name in SMALL]
    assert_stored_files(tmp_path, SMALL)


def test_an_interrupted_download_leaves_nothing(tmp_path, raw_server):
    raw_server.truncate = True
    with pytest.raises(OSError, match=SMALL[0]):
        qnb.fetch_stored_data(tmp_path, "https://github.com/owner/repo@some/branch", names=SMALL)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_branch_names_the_url(tmp_path, raw_server):
    with pytest.raises(OSError, match=r"cannot fetch http://127\.0\.0\.1:\d+/owner/repo/other/book/data/"):
        qnb.fetch_stored_data(tmp_path, "https://github.com/owner/repo@other", names=SMALL)
    assert list(tmp_path.iterdir()) == []


def test_without_a_branch_the_default_branch_is_asked(tmp_path, raw_server):
    with pytest.raises(OSError):
        qnb.fetch_stored_data(tmp_path, "https://github.com/owner/repo", names=SMALL[:1])
    assert raw_server.requested == [f"/owner/repo/HEAD/book/data/{SMALL[0]}"]


# --- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(dest=3), TypeError, "dest"),
    (dict(source=3), TypeError, "source"),
    (dict(source="https://gitlab.com/owner/repo@main"), ValueError, "source"),
    (dict(source="https://github.com/owner@main"), ValueError, "source"),
    (dict(source="ftp://github.com/owner/repo"), ValueError, "source"),
    (dict(source="/nonexistent/checkout"), ValueError, "source"),
    (dict(names="string_profiles.npz"), TypeError, "names"),
    (dict(names=[3]), TypeError, "names"),
    (dict(names=["other.npz"]), ValueError, "names"),
    (dict(names=5), TypeError, "names"),
    (dict(timeout=0), ValueError, "timeout"),
    (dict(timeout="60"), TypeError, "timeout"),
])
def test_bad_arguments_name_themselves(tmp_path, kwargs, error, message):
    kwargs = {"dest": tmp_path, "source": ROOT, **kwargs}
    with pytest.raises(error, match=message):
        qnb.fetch_stored_data(**kwargs)


def test_dest_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="dest"):
        qnb.fetch_stored_data(tmp_path / "file", ROOT)
