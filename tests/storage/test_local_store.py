"""What only the local folder backend does: plain files, hidden bookkeeping, folder limits."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from lakebed.errors import StorageError
from lakebed.storage.local import LocalStore


def test_objects_are_plain_files_and_bookkeeping_stays_hidden(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("raw/a.csv", b"x,y\n")
    assert (tmp_path / "raw" / "a.csv").read_bytes() == b"x,y\n"
    assert (tmp_path / ".lakebed-meta").is_dir()
    (tmp_path / "raw" / ".lakebed-tmp-0000-b.csv").write_bytes(b"half a write")
    assert [info.key for info in store.list()] == ["raw/a.csv"]
    assert store.url == f"file://{tmp_path.resolve()}"


def test_a_file_changed_behind_our_back_loses_its_recorded_checksum(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("notes.txt", b"first")
    (tmp_path / "notes.txt").write_bytes(b"edited by hand")
    info = store.head("notes.txt")
    assert info.size == len(b"edited by hand")
    assert info.checksum is None  # not the stale checksum of "first"
    assert info.content_type == "text/plain"


def test_files_copied_in_by_other_tools_are_objects(tmp_path: Path) -> None:
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "photo.png").write_bytes(b"\x89PNG....")
    store = LocalStore(tmp_path)
    info = store.head("incoming/photo.png")
    assert (info.size, info.content_type, info.checksum) == (8, "image/png", None)


def test_failed_put_keeps_the_old_object_and_leaves_no_debris(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("model.bin", b"good")

    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("network dropped")
            return b"new" * 1000

    with pytest.raises(OSError, match="network dropped"):
        store.put("model.bin", Broken())
    assert store.get("model.bin") == b"good"
    assert store.head("model.bin").checksum == "sha256:" + hashlib.sha256(b"good").hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lakebed-meta", "model.bin"]


def test_a_key_cannot_be_both_object_and_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("a", b"file")
    with pytest.raises(StorageError, match="cannot store 'a/b'"):
        store.put("a/b", b"nested")
    store.put("c/d", b"nested")
    with pytest.raises(StorageError, match="objects exist under 'c/'"):
        store.put("c", b"file")


def test_delete_removes_emptied_folders(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    store.put("x/y/z.txt", b"1")
    store.put("x/keep.txt", b"2")
    store.delete("x/y/z.txt")
    assert not (tmp_path / "lake" / "x" / "y").exists()
    assert (tmp_path / "lake" / "x" / "keep.txt").exists()


def test_listing_a_store_that_does_not_exist_yet_is_empty(tmp_path: Path) -> None:
    assert list(LocalStore(tmp_path / "not-yet").list()) == []


def test_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="is a file, not a folder"):
        LocalStore(tmp_path / "file")
