"""hal_trainers.datasets.download: mirrors in order, checksums before anything is saved, clear offline errors.

The "mirrors" are local: ``file://`` folders and a local HTTP server.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import urllib.error

import pytest

from hal.errors import HalError
from hal_trainers import datasets as D
from hal_trainers.datasets import download, mnist


def _forbid(*_args, **_kwargs):
    raise AssertionError("nothing should have been downloaded")


def test_official_checksums_are_well_formed():
    assert set(D.MNIST_FILES) == {f"{stem}.gz" for stem in mnist._MNIST_STEMS.values()}
    for digest in D.MNIST_FILES.values():
        assert len(digest.sha256) == 64 and int(digest.sha256, 16) >= 0
        assert len(digest.md5) == 32 and int(digest.md5, 16) >= 0
        assert digest.size_bytes > 0


@pytest.fixture
def served(tmp_path, fake_mnist):
    """A folder of small fake MNIST files and their digests, as a file:// base URL."""
    folder = fake_mnist.write(tmp_path / "server")
    digests = {}
    for path in sorted(folder.iterdir()):
        content = path.read_bytes()
        digests[path.name] = D.FileDigest(len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest())
    return folder, folder.as_uri() + "/", digests


def test_download_from_file_url(served, tmp_path, monkeypatch):
    folder, url, digests = served
    dest = tmp_path / "dest"
    paths = D.download_mnist(dest, base_url=url, files=digests)
    assert sorted(p.name for p in paths) == sorted(digests)
    for path in paths:
        assert path.read_bytes() == (folder / path.name).read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == sorted(digests)  # no temporary files
    # already present and verified: nothing is fetched again
    monkeypatch.setattr(download, "_urlopen", _forbid)
    assert len(D.download_mnist(dest, base_url=url, files=digests)) == 4


def test_download_falls_back_to_next_mirror(served, tmp_path):
    _, url, digests = served
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    paths = D.download_mnist(tmp_path / "dest", base_url=[empty.as_uri(), url], files=digests)
    assert len(paths) == 4


def test_download_checksum_mismatch_saves_nothing(served, tmp_path):
    _, url, digests = served
    name = "train-labels-idx1-ubyte.gz"
    wrong = dict(digests)
    wrong[name] = D.FileDigest(digests[name].size_bytes, "0" * 64)
    dest = tmp_path / "dest"
    with pytest.raises(D.ChecksumMismatchError) as info:
        D.download_mnist(dest, base_url=url, files=wrong)
    message = str(info.value)
    assert f"could not download {name}" in message and "checksum mismatch: SHA-256" in message
    assert info.value.expected == "0" * 64 and info.value.actual == digests[name].sha256
    assert isinstance(info.value, D.DownloadError) and isinstance(info.value, HalError)
    assert not (dest / name).exists()
    assert not list(dest.glob("*.part")) and not list(dest.glob(".*"))


def test_download_size_mismatch_and_replaces_a_bad_local_copy(served, tmp_path):
    _, url, digests = served
    name = "t10k-labels-idx1-ubyte.gz"
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / name).write_bytes(b"half a file")
    one = {name: digests[name]}
    assert D.download_mnist(dest, base_url=url, files=one) == [dest / name]
    assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digests[name].sha256
    short = {name: D.FileDigest(digests[name].size_bytes - 1, digests[name].sha256)}
    with pytest.raises(D.ChecksumMismatchError, match="checksum mismatch: size"):
        D.download_mnist(tmp_path / "other", base_url=url, files=short)


def test_download_offline_is_a_clear_error(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(download, "_urlopen", offline)
    with pytest.raises(D.DownloadError) as info:
        D.download_mnist(tmp_path / "dest")
    message = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    for mirror in D.MNIST_MIRRORS:
        assert f"{mirror}train-images-idx3-ubyte.gz: unreachable (" in message
    assert "download the files on an online machine" in message
    assert isinstance(info.value, OSError)
    assert not list((tmp_path / "dest").iterdir())


def test_download_over_local_http(served, tmp_path):
    folder, _, digests = served
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        paths = D.download_mnist(tmp_path / "dest", base_url=[f"{base}/missing/", base], files=digests, timeout_s=5)
        assert len(paths) == 4
        with pytest.raises(D.DownloadError, match=r"/missing/\S+-ubyte.gz: HTTP 404"):
            D.download_mnist(tmp_path / "dest2", base_url=f"{base}/missing/", files=digests, timeout_s=5)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.usefixtures("needs_torch")
def test_downloaded_files_load(served, tmp_path):
    _, url, digests = served
    dest = tmp_path / "dest"
    D.download_mnist(dest, base_url=url, files=digests)
    assert D.load_mnist(dest, cache_dir=tmp_path / "cache").n_test == 6


def test_a_killed_downloads_temporary_is_removed_but_a_fresh_one_stays(served, tmp_path):
    """kill -9 during a download leaves `.NAME.*.tmp`; the next download removes it unless it is still being written."""
    import os
    import time

    _, url, digests = served
    dest = tmp_path / "dest"
    dest.mkdir()
    name = sorted(digests)[0]
    stale, fresh = dest / f".{name}.abc123.tmp", dest / f".{name}.def456.tmp"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"being written")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    D.download_mnist(dest, base_url=url, files=digests)
    assert not stale.exists()
    assert fresh.exists()  # modified just now: maybe another download's
    assert sorted(p.name for p in dest.iterdir()) == sorted([*digests, fresh.name])
