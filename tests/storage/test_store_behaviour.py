"""What every object store does, checked the same way on every backend (local, moto, Ceph)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed.errors import ConfigError, NotFoundError
from lakebed.storage import ObjectStore, open_store


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_put_and_get_bytes(store: ObjectStore) -> None:
    data = b"hello, lake\n" * 100
    info = store.put("greetings/hello.txt", data)
    assert info.key == "greetings/hello.txt"
    assert info.size == len(data)
    assert info.checksum == sha256(data)
    assert store.get("greetings/hello.txt") == data
    assert store.exists("greetings/hello.txt")
    assert not store.exists("greetings/other.txt")


def test_put_empty_object(store: ObjectStore) -> None:
    info = store.put("empty", b"")
    assert info.size == 0
    assert store.get("empty") == b""
    assert info.checksum == sha256(b"")


def test_put_from_file_and_from_stream(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(3 << 20)
    source.write_bytes(data)

    from_path = store.put("from/path.bin", source)
    with source.open("rb") as handle:
        from_file = store.put("from/file.bin", handle)
    from_stream = store.put("from/stream.bin", io.BytesIO(data))

    for info in (from_path, from_file, from_stream):
        assert info.size == len(data)
        assert info.checksum == sha256(data)
        assert store.get(info.key) == data

    # A stream is stored from where it stands, as file.write(stream.read()) would.
    with source.open("rb") as handle:
        handle.seek(100)
        rest = store.put("from/rest.bin", handle)
    assert rest.size == len(data) - 100
    assert store.get("from/rest.bin") == data[100:]

    class Pipe:  # a stream that cannot seek, like a socket
        def __init__(self) -> None:
            self._source = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self._source.read(min(size, 65536) if size > 0 else 65536)

        def seekable(self) -> bool:
            return False

    piped = store.put("from/pipe.bin", cast(IO[bytes], Pipe()))
    assert piped.checksum == sha256(data)
    assert store.get("from/pipe.bin") == data


def test_head_reports_size_type_checksum_and_time(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    store.put("labels.csv", b"id,label\n1,cat\n")
    store.put("blob", b"PAR1 pretend parquet")
    store.put("notes", b"anything", content_type="text/x-custom")

    csv = store.head("labels.csv")
    assert csv.size == len(b"id,label\n1,cat\n")
    assert csv.content_type == "text/csv"
    assert csv.checksum == sha256(b"id,label\n1,cat\n")
    assert csv.modified.tzinfo is not None
    assert before < csv.modified < datetime.now(UTC) + timedelta(minutes=5)
    assert store.head("blob").content_type == "application/vnd.apache.parquet"
    assert store.head("notes").content_type == "text/x-custom"


def test_list_is_sorted_recursive_and_exact(store: ObjectStore) -> None:
    keys = ["b", "a/x", "a/b/c.txt", "ab", "a/b.txt", "a/b/d/e.bin"]
    for key in keys:
        store.put(key, key.encode())

    listed = list(store.list())
    assert [info.key for info in listed] == sorted(keys)
    assert {info.key: info.size for info in listed} == {key: len(key) for key in keys}
    assert all(info.modified.tzinfo is not None for info in listed)

    def keys_under(prefix: str) -> list[str]:
        return [info.key for info in store.list(prefix)]

    assert keys_under("a/") == ["a/b.txt", "a/b/c.txt", "a/b/d/e.bin", "a/x"]
    assert keys_under("a") == ["a/b.txt", "a/b/c.txt", "a/b/d/e.bin", "a/x", "ab"]
    assert keys_under("a/b") == ["a/b.txt", "a/b/c.txt", "a/b/d/e.bin"]
    assert keys_under("a/b/") == ["a/b/c.txt", "a/b/d/e.bin"]
    assert keys_under("missing/") == []


def test_delete_and_missing_keys(store: ObjectStore) -> None:
    store.put("doomed/file.txt", b"bye")
    store.put("doomed/keep.txt", b"stay")
    store.delete("doomed/file.txt")

    assert not store.exists("doomed/file.txt")
    assert [info.key for info in store.list()] == ["doomed/keep.txt"]
    for action in (store.head, store.get, store.open, store.delete):
        with pytest.raises(NotFoundError, match=r"doomed/file\.txt"):
            action("doomed/file.txt")
    with pytest.raises(NotFoundError, match="never/was"):
        store.get("never/was")


def test_overwrite_replaces_whole_object(store: ObjectStore) -> None:
    store.put("model.bin", b"a" * 1000)
    info = store.put("model.bin", b"b" * 10)
    assert info.size == 10
    assert store.get("model.bin") == b"b" * 10
    assert store.head("model.bin").checksum == sha256(b"b" * 10)
    assert [i.key for i in store.list()] == ["model.bin"]


def test_readers_see_old_or_new_object_never_a_mix(store: ObjectStore) -> None:
    versions = [b"a" * (1 << 20), b"b" * (2 << 20)]
    store.put("shared.bin", versions[0])
    seen: set[int] = set()
    failures: list[bytes] = []

    def writer() -> None:
        for round_ in range(12):
            store.put("shared.bin", versions[round_ % 2])

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        data = store.get("shared.bin")
        if data in versions:
            seen.add(versions.index(data))
        else:
            failures.append(data[:20])
    thread.join()
    assert failures == []
    assert seen


def test_large_object_multipart_with_progress(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(40 << 20)
    source = tmp_path / "large.bin"
    source.write_bytes(data)
    uploaded: list[int] = []

    info = store.put("big/large.bin", source, progress=uploaded.append)

    assert sum(uploaded) == len(data)
    assert info.size == len(data)
    assert info.checksum == sha256(data)
    downloaded: list[int] = []
    target = tmp_path / "back" / "large.bin"
    store.download("big/large.bin", target, progress=downloaded.append)
    assert sum(downloaded) == len(data)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_open_is_seekable(store: ObjectStore) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    store.put("seek.bin", data)
    with store.open("seek.bin") as stream:
        assert stream.seekable()
        stream.seek(1000)
        assert stream.read(10) == data[1000:1010]
        assert stream.tell() == 1010
        stream.seek(-5, io.SEEK_END)
        assert stream.read() == data[-5:]
        stream.seek(0)
        assert stream.read() == data


def test_unicode_keys(store: ObjectStore) -> None:
    keys = ["données/été/naïve ☃.txt", "日本/データ.json", "emoji/🦆 duck.bin"]
    for key in keys:
        store.put(key, key.encode())
    assert [info.key for info in store.list()] == sorted(keys)
    for key in keys:
        assert store.get(key) == key.encode()
        assert store.head(key).size == len(key.encode())
    assert [info.key for info in store.list("données/")] == ["données/été/naïve ☃.txt"]


@pytest.mark.parametrize(
    "key", ["../escape", "/etc/passwd", "a//b", "", "a/./b", "a/../b", "dir/", "a\\b", "x\x00y"]
)
def test_invalid_keys_are_rejected(store: ObjectStore, key: str) -> None:
    with pytest.raises(ConfigError, match="invalid object key") as raised:
        store.put(key, b"x")
    assert repr(key) in str(raised.value)
    for action in (store.head, store.get, store.delete):
        with pytest.raises(ConfigError):
            action(key)
    assert list(store.list()) == []


def test_reserved_names_are_rejected(store: ObjectStore) -> None:
    with pytest.raises(ConfigError, match="reserved"):
        store.put(".lakebed-meta/x", b"x")


def test_arrow_filesystem_reads_and_writes_the_same_objects(store: ObjectStore) -> None:
    store.put("raw/data.csv", b"id,value\n1,2.5\n2,3.5\n")
    filesystem, root = store.arrow_filesystem()

    with filesystem.open_input_stream(f"{root}/raw/data.csv") as stream:
        assert stream.read() == b"id,value\n1,2.5\n2,3.5\n"

    table = pa.table({"id": [1, 2, 3], "name": ["a", "b", "ü"]})
    pq.write_table(table, f"{root}/tables/t.parquet", filesystem=filesystem)
    with store.open("tables/t.parquet") as stream:
        assert pq.read_table(stream).equals(table)
    assert [info.key for info in store.list()] == ["raw/data.csv", "tables/t.parquet"]
    written = filesystem.get_file_info(f"{root}/tables/t.parquet")
    assert store.head("tables/t.parquet").size == written.size


def test_download_to_a_new_folder(store: ObjectStore, tmp_path: Path) -> None:
    store.put("exports/report.json", b'{"ok": true}')
    target = tmp_path / "out" / "nested" / "report.json"
    info = store.download("exports/report.json", target)
    assert target.read_bytes() == b'{"ok": true}'
    assert info.size == 12
    assert info.content_type == "application/json"
    with pytest.raises(NotFoundError, match=r"exports/missing\.json"):
        store.download("exports/missing.json", tmp_path / "missing.json")
    assert not (tmp_path / "missing.json").exists()


def test_url_reopens_the_same_store(store: ObjectStore) -> None:
    store.put("a/b.txt", b"same")
    assert store.uri("a/b.txt") == store.url + "/a/b.txt"
    config = getattr(store, "config", None)
    again = open_store(store.url, config)
    assert again.get("a/b.txt") == b"same"
    assert [info.key for info in again.list()] == ["a/b.txt"]
