"""Which format a file is in, decided by its content as a Glue crawler's classifiers do.

Every sniffable format scores the first bytes (decompressed when they are gzip, bzip2 or zstd);
the most certain wins. The file name's extension only breaks near-ties, so a Parquet file named
``data.csv`` is still Parquet. Protobuf needs a schema and is never guessed.
"""

from __future__ import annotations

from lakebed.errors import FormatError
from lakebed.formats._registry import FORMAT_NAMES, format_for_path, get_format
from lakebed.formats.base import Format
from lakebed.formats.compression import decompress_head

#: Bytes of a file's start that :func:`detect` needs to decide.
SNIFF_BYTES = 1 << 16
_MIN_SCORE = 0.25
_EXTENSION_BONUS = 0.1
_UNSNIFFABLE = ("protobuf",)


def detect(head: bytes, filename: str | None = None) -> Format:
    """The format of a file starting with ``head``; a FormatError when none fits.

    ``filename`` names the file in errors and lends its extension as a tiebreak.
    """
    name = filename or "<stream>"
    head = decompress_head(head)
    hinted = format_for_path(filename) if filename else None
    if not head.strip():
        if hinted is not None and hinted.name not in _UNSNIFFABLE:
            return hinted
        raise FormatError(
            f"{name} is empty, so its format cannot be told",
            fix="skip empty files, or name the format explicitly",
        )
    scores: list[tuple[float, str]] = []
    for fmt_name in FORMAT_NAMES:
        if fmt_name in _UNSNIFFABLE:
            continue
        score = get_format(fmt_name).sniff(head)
        if score > 0 and hinted is not None and hinted.name == fmt_name:
            score += _EXTENSION_BONUS
        scores.append((score, fmt_name))
    best_score, best = max(scores)
    if best_score < _MIN_SCORE:
        raise FormatError(
            f"{name} is not a supported tabular format (first bytes {head[:8]!r})",
            fix=f"files must be one of {', '.join(FORMAT_NAMES)}; "
            "skip this file, or name the format explicitly if it is protobuf",
        )
    return get_format(best)
