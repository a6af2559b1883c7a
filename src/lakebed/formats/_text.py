"""Text helpers for the delimited formats: decoding, re-encoding, and typing string cells.

CSV has no types, so a reader decides them. A cell is typed by the narrowest of int64, float64,
bool, date, timestamp (naive, or UTC when it carries a zone) that every non-missing cell of its
column casts to; otherwise it stays a string. The tokens in :data:`MISSING` count as missing in
typed columns (they stay text in string columns).
"""

from __future__ import annotations

import codecs
import io
import re
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from lakebed.errors import FormatError

MISSING = ("NA", "N/A", "n/a", "#N/A", "null", "NULL", "None", "none", "nil", "-")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_ZONED = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_BOOL = {"true", "false"}
NAIVE_TS = pa.timestamp("us")
UTC_TS = pa.timestamp("us", tz="UTC")


def decode_head(head: bytes, name: str) -> str:
    """``head`` as UTF-8 text (a character cut at the end is dropped); else a FormatError."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                raise not_utf8(name, exc.start) from exc
    raise not_utf8(name, 0)


def not_utf8(name: str, offset: int | None = None) -> FormatError:
    """The error for text that is not UTF-8: names the file and the options that read it."""
    where = f" at byte {offset}" if offset is not None else ""
    return FormatError(
        f"{name}: not valid UTF-8{where}",
        fix="pass encoding='latin-1' (or the file's real encoding), "
        "or encoding_errors='replace' to read it with U+FFFD for the bad bytes",
    )


class Recoder(io.RawIOBase):
    """Bytes of ``stream`` in ``encoding`` re-encoded as UTF-8, decoding errors per ``errors``."""

    def __init__(self, stream: IO[bytes], encoding: str, errors: str) -> None:
        super().__init__()
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            chunk = self._stream.read(1 << 16)
            self._done = not chunk
            self._pending = self._decoder.decode(chunk, final=self._done).encode("utf-8")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def cell_type(value: str) -> pa.DataType:
    """The type one cell suggests (string when nothing narrower fits); cheap, for sniffing."""
    text = value.strip()
    if not text or text in MISSING:
        return pa.string()
    if _INT.match(text):
        return pa.int64()
    if _FLOAT.match(text):
        return pa.float64()
    if text.lower() in _BOOL:
        return pa.bool_()
    if _DATE.match(text):
        return pa.date32()
    if _TIMESTAMP.match(text):
        return UTC_TS if _ZONED.search(text) else NAIVE_TS
    return pa.string()


def infer_type(strings: pa.Array) -> pa.DataType:
    """The narrowest type every non-missing cell of a string column casts to."""
    values = pc.drop_null(blank_missing(strings))
    if len(values) == 0:
        return pa.string()
    for typ in (pa.int64(), pa.float64()):
        if _casts(values, typ):
            return typ
    if pc.all(pc.is_in(pc.utf8_lower(values), pa.array(sorted(_BOOL)))).as_py():
        return pa.bool_()
    # Patterns are matched in Arrow (vectorised), not value by value in Python.
    if _all_match(values, _DATE) and _casts(values, pa.date32()):
        return pa.date32()
    if _all_match(values, _TIMESTAMP):
        zoned = pc.match_substring_regex(values, _ZONED.pattern)
        if pc.all(zoned).as_py() and _casts(values, UTC_TS):
            return UTC_TS
        if not pc.any(zoned).as_py() and _casts(values, NAIVE_TS):
            return NAIVE_TS
    return pa.string()


def _all_match(values: pa.Array, pattern: re.Pattern[str]) -> bool:
    return bool(pc.all(pc.match_substring_regex(values, pattern.pattern)).as_py())


def blank_missing(strings: pa.Array) -> pa.Array:
    """The column with the missing-value tokens as nulls."""
    return pc.if_else(
        pc.is_in(strings, pa.array(MISSING)), pa.nulls(len(strings), pa.string()), strings
    )


def cast_cells(strings: pa.Array, typ: pa.DataType) -> tuple[pa.Array, list[tuple[int, str]]]:
    """The column cast to ``typ`` and the (row, value) cells that do not cast (left null)."""
    if typ == pa.string():
        return strings, []
    if typ != pa.bool_():
        try:  # the common case: no missing-value tokens, every cell casts
            return strings.cast(typ), []
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    source = blank_missing(strings)
    if typ == pa.bool_():
        source = pc.utf8_lower(source)
    try:
        return source.cast(typ), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    bad: list[tuple[int, str]] = []
    cleaned: list[str | None] = []
    for row, text in enumerate(source.to_pylist()):
        if text is not None and not _casts(pa.array([text]), typ):
            bad.append((row, text))
            text = None
        cleaned.append(text)
    return pa.array(cleaned, pa.string()).cast(typ), bad


#: Values tried first: most columns that will not cast fail within them, and a failed cast
#: of a whole column costs about as much as a successful one.
_SAMPLE = 512


def _casts(values: pa.Array, typ: pa.DataType) -> bool:
    try:
        if len(values) > _SAMPLE:
            values.slice(0, _SAMPLE).cast(typ)
        values.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True
