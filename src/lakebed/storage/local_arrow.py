"""A pyarrow filesystem over a local store that behaves like an object store for writers.

pyarrow's ``LocalFileSystem`` refuses to open ``a/b/file`` for writing until folder ``a/b``
exists, while S3 has no folders; code written against one store must work on the other, so
this handler creates missing parent folders on write and otherwise delegates to
``LocalFileSystem`` (streams stay native, so reads and writes run at pyarrow's speed).
"""

from __future__ import annotations

import posixpath
from typing import Any

import pyarrow.fs as pafs


class AutoFolderHandler(pafs.FileSystemHandler):
    """``LocalFileSystem`` that creates parent folders when a file is opened for writing."""

    def __init__(self) -> None:
        self._local = pafs.LocalFileSystem()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AutoFolderHandler)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(AutoFolderHandler)

    def _parent(self, path: str) -> None:
        parent = posixpath.dirname(path)
        if parent:
            self._local.create_dir(parent, recursive=True)

    def get_type_name(self) -> str:
        return "lakebed-local"

    def normalize_path(self, path: str) -> str:
        return str(self._local.normalize_path(path))

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return list(self._local.get_file_info(paths))

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return list(self._local.get_file_info(selector))

    def create_dir(self, path: str, recursive: bool) -> None:
        self._local.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self._local.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self._local.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise OSError("refusing to delete the contents of the filesystem root")

    def delete_file(self, path: str) -> None:
        self._local.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        self._parent(dest)
        self._local.move(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self._parent(dest)
        self._local.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        return self._local.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        return self._local.open_input_file(path)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        self._parent(path)
        return self._local.open_output_stream(path, metadata=metadata)

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        self._parent(path)
        return self._local.open_append_stream(path, metadata=metadata)


def local_filesystem() -> pafs.FileSystem:
    """The local filesystem, creating parent folders on write like an object store does."""
    return pafs.PyFileSystem(AutoFolderHandler())
