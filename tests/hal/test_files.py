"""Output paths are checked before any work starts: a directory, a file in the way, a missing parent."""

from __future__ import annotations

import pytest

from hal.errors import FileFormatError
from hal.files import writable_output


def test_a_directory_is_refused_naming_it(tmp_path):
    with pytest.raises(FileFormatError, match=rf"{tmp_path}: is a directory; give a file name for the recording"):
        writable_output(tmp_path, what="recording")


def test_a_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("keep me")
    with pytest.raises(FileFormatError, match=r"is not a directory"):
        writable_output(tmp_path / "f" / "out.json")
    assert (tmp_path / "f").read_text() == "keep me"


def test_no_silent_overwrite_when_asked(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(FileFormatError, match=r"out.json: exists; the report would replace it"):
        writable_output(target, what="report", overwrite=False)
    assert writable_output(target) == target and target.read_text() == "old"


def test_missing_parents_are_created_but_not_the_file(tmp_path):
    target = tmp_path / "a" / "b" / "out.npz"
    assert writable_output(target) == target
    assert target.parent.is_dir() and not target.exists()
