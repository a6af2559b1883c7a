"""Telling media from tables by their first bytes."""

from __future__ import annotations

import pytest

from lakebed.crawl.inspect import media_type


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"ID3\x03\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x00", "audio/mpeg"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"%PDF-1.7", "application/pdf"),
        (b"ID3,name\n1,a\n", None),  # a CSV whose first column is called ID3
        (b"\xff\xfei\x00d\x00", None),  # UTF-16 text
        (b"id,name\n1,a\n", None),
        (b"PAR1\x15\x04", None),
    ],
)
def test_media_type(head: bytes, expected: str | None) -> None:
    assert media_type(head) == expected
