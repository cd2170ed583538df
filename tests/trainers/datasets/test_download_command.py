"""`hal data download mnist`: the four files from local mirrors (file:// and a local HTTP server -- no internet
here), verified by checksum, placed atomically; a killed download leaves nothing under a final name.

The real MNIST digests are replaced by those of small fake files (``download.MNIST_FILES``, which the command
reads when it runs).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from hal.cli import main
from hal_trainers import datasets as D
from hal_trainers.datasets import download


def _digest(content: bytes) -> D.FileDigest:
    return D.FileDigest(len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest())


@pytest.fixture
def mirror(tmp_path, fake_mnist, monkeypatch):
    """A file:// mirror of small fake MNIST files, whose digests the command takes for MNIST's."""
    folder = fake_mnist.write(tmp_path / "mirror")
    digests = {p.name: _digest(p.read_bytes()) for p in sorted(folder.iterdir())}
    monkeypatch.setattr(download, "MNIST_FILES", digests)
    return folder, folder.as_uri() + "/"


def _forbid(*_args, **_kwargs):
    raise AssertionError("nothing should have been downloaded")


def test_the_command_is_registered(capsys):
    assert main(["plugins", "--json"]) == 0
    commands = {c["name"]: c for c in json.loads(capsys.readouterr().out)["commands"]}
    assert commands["data download"]["description"].startswith("download a data set's files, verified by checksum")


def test_download_verifies_reports_and_keeps_verified_files(tmp_path, capsys, mirror, monkeypatch):
    folder, url = mirror
    dest = tmp_path / "data"
    assert main(["data", "download", "mnist", "--dir", str(dest), "--mirror", url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dir"] == str(dest) and report["dataset"] == "mnist"
    assert sorted(f["name"] for f in report["files"]) == sorted(download.MNIST_FILES)
    assert {f["status"] for f in report["files"]} == {"downloaded"}
    for f in report["files"]:
        assert (dest / f["name"]).read_bytes() == (folder / f["name"]).read_bytes()
        assert f["sha256"] == download.MNIST_FILES[f["name"]].sha256
    assert sorted(p.name for p in dest.iterdir()) == sorted(download.MNIST_FILES)  # no temporary files left
    # a second time: everything verified in place, nothing fetched
    monkeypatch.setattr(download, "_urlopen", _forbid)
    assert main(["data", "download", "mnist", "--dir", str(dest), "--mirror", url]) == 0
    assert capsys.readouterr().out.startswith(f"MNIST in {dest}: 0 file(s) downloaded, 4 already there, all verified by SHA-256")


def test_a_tampered_file_is_not_saved(tmp_path, capsys, mirror):
    folder, url = mirror
    name = "t10k-labels-idx1-ubyte.gz"
    (folder / name).write_bytes(b"\x00" + (folder / name).read_bytes()[1:])
    dest = tmp_path / "data"
    assert main(["data", "download", "mnist", "--dir", str(dest), "--mirror", url, "--log-level", "warning"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hal: error: could not download {name}: {url}{name}: checksum mismatch: SHA-256") and err.count("\n") == 1
    assert not (dest / name).exists() and not list(dest.glob(f".{name}*"))


def test_a_foreign_file_under_a_final_name_is_refused_before_any_download(tmp_path, capsys, mirror, monkeypatch):
    _, url = mirror
    dest = tmp_path / "data"
    dest.mkdir()
    name = "train-labels-idx1-ubyte.gz"
    (dest / name).write_bytes(b"my own labels")
    with monkeypatch.context() as patch:
        patch.setattr(download, "_urlopen", _forbid)
        assert main(["data", "download", "mnist", "--dir", str(dest), "--mirror", url]) == 2
    err = capsys.readouterr().err
    assert err == (f"hal: error: {dest / name}: exists but is not the MNIST file (size 13 bytes, expected "
                   f"{download.MNIST_FILES[name].size_bytes:,}, or another SHA-256); --overwrite replaces it, or give another --dir\n")
    assert [p.name for p in dest.iterdir()] == [name] and (dest / name).read_bytes() == b"my own labels"
    assert main(["data", "download", "mnist", "--dir", str(dest), "--mirror", url, "--overwrite"]) == 0
    assert download.verified_on_disk(dest / name, download.MNIST_FILES[name])


def test_a_dir_that_is_a_file_is_refused(tmp_path, capsys, mirror):
    _, url = mirror
    (tmp_path / "f").write_text("x")
    assert main(["data", "download", "mnist", "--dir", str(tmp_path / "f"), "--mirror", url]) == 2
    assert capsys.readouterr().err == f"hal: error: {tmp_path / 'f'}: is a file; --dir names the folder for the downloaded files\n"


class _Slow(http.server.SimpleHTTPRequestHandler):
    """Serves files 4 KiB at a time, 20 ms apart, while ``throttle`` is set."""

    throttle = threading.Event()

    def copyfile(self, source, outputfile):
        for block in iter(lambda: source.read(4096), b""):
            try:
                outputfile.write(block)
                outputfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client was killed
                return
            if self.throttle.is_set():
                time.sleep(0.02)

    def log_message(self, *args):
        pass


#: The command in a fresh interpreter, with the digests of the test's files.
COMMAND = """
import json, sys
from hal_trainers.datasets import download
download.MNIST_FILES = {name: download.FileDigest(*d) for name, d in json.loads(sys.argv[1]).items()}
from hal.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_killed_download_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    # The first file is large enough (256 KiB, ~1.3 s throttled) to be killed in the middle of its download.
    contents = {name: os.urandom(256 * 1024 if name == "train-images-idx3-ubyte.gz" else 1024) for name in download.MNIST_FILES}
    for name, content in contents.items():
        (served / name).write_bytes(content)
    digests = {name: _digest(content) for name, content in contents.items()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Slow, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Slow.throttle.set()
    dest = tmp_path / "data"
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        proc = subprocess.Popen([sys.executable, "-c", COMMAND, json.dumps({n: list(map(getattr, [d] * 3, ("size_bytes", "sha256", "md5")))
                                                                           for n, d in digests.items()}),
                                 "--log-level", "warning", "data", "download", "mnist", "--dir", str(dest), "--mirror", url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not (dest.is_dir() and any(dest.glob(".train-images-idx3-ubyte.gz.*.tmp"))):  # its temporary file: fetching
            assert proc.poll() is None, f"the download ended before it could be killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no download started within 60 s"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
        proc.stderr.close()
        left = sorted(p.name for p in dest.iterdir())
        assert not set(left) & set(digests), f"a file under its final name after the kill: {left}"
        # Run again (unthrottled, in this process): all four verified under their names.
        _Slow.throttle.clear()
        monkeypatch.setattr(download, "MNIST_FILES", digests)
        assert main(["data", "download", "mnist", "--dir", str(dest), "--mirror", url]) == 0
        for name, digest in digests.items():
            assert download.verified_on_disk(dest / name, digest)
    finally:
        server.shutdown()
        server.server_close()


def test_importing_the_command_needs_neither_torch_nor_scikit_learn():
    code = ("import sys, hal_trainers.data_command, hal_trainers.plugin;"
            "print([m for m in ('torch', 'sklearn', 'dask', 'matplotlib') if m in sys.modules])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
