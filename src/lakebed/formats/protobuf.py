"""Protobuf: a stream of length-delimited messages of one type, as ``writeDelimitedTo`` writes.

Each message is prefixed by its length as a varint. The type comes from options:
``proto_file=`` (a ``.proto`` path) and ``message=`` (the full name, e.g. ``shop.Order``);
``include_paths=`` adds import roots. The ``.proto`` is compiled at run time by grpcio-tools'
``protoc`` into a descriptor set (no generated code is imported) and cached per file version.
Field mapping: :mod:`lakebed.formats._proto_arrow`. A message that does not parse goes to
``on_bad_record`` as ``record N``; a stream cut inside a message reports its last record.
Protobuf cannot be recognised from its bytes, so it is only used when named.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any, ClassVar

import pyarrow as pa
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from lakebed.errors import ConfigError, FormatError, LakebedError
from lakebed.formats._common import batched, conform, empty_batch, report_bad, take_options
from lakebed.formats._proto_arrow import fill, message_schema, to_row
from lakebed.formats.base import DEFAULT_BATCH_ROWS, BadRecord, Format, OnBadRecord

_OPTIONS = {"proto_file": None, "message": None, "include_paths": ()}


class ProtobufFormat(Format):
    """Length-delimited protobuf messages of a type named by options."""

    name: ClassVar[str] = "protobuf"
    extensions: ClassVar[tuple[str, ...]] = (".pb", ".protobuf")
    content_type: ClassVar[str] = "application/x-protobuf"

    def sniff(self, head: bytes) -> float:
        """Never: protobuf bytes carry no schema or magic, so the format must be named."""
        return 0.0

    def read(
        self,
        source: IO[bytes],
        *,
        name: str = "<stream>",
        schema: pa.Schema | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        on_bad_record: OnBadRecord | None = None,
        **options: Any,
    ) -> Iterator[pa.RecordBatch]:
        """Batches of the messages, one row each."""
        cls = message_class(**take_options(self.name, options, _OPTIONS))
        arrow_schema = message_schema(cls.DESCRIPTOR)
        emitted = False
        for chunk in batched(_messages(source, name, cls, on_bad_record), batch_rows):
            batch = pa.RecordBatch.from_pylist(chunk, schema=arrow_schema)
            yield conform(batch, schema, name) if schema is not None else batch
            emitted = True
        if not emitted:
            yield empty_batch(schema if schema is not None else arrow_schema)

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """Write each row as one length-prefixed message."""
        cls = message_class(**take_options(self.name, options, _OPTIONS))
        rows = 0
        for batch in batches:
            for row in batch.to_pylist():
                payload = fill(cls(), row).SerializeToString(deterministic=True)
                sink.write(encode_varint(len(payload)) + payload)
                rows += 1
        return rows


def message_class(
    proto_file: str | Path | None, message: str | None, include_paths: Sequence[str | Path] = ()
) -> type[Message]:
    """The message class named ``message`` in ``proto_file``, compiled at run time."""
    if proto_file is None or message is None:
        missing = "proto_file" if proto_file is None else "message"
        raise ConfigError(
            f"the protobuf format needs the {missing}= option",
            fix="pass proto_file='path/to/schema.proto' and message='package.MessageName'",
        )
    path = Path(proto_file).resolve()
    if not path.is_file():
        raise ConfigError(f"proto file {str(path)!r} does not exist", fix="pass an existing .proto")
    roots = tuple(str(Path(p).resolve()) for p in include_paths)
    return _compiled(str(path), path.stat().st_mtime_ns, roots, message)


@functools.lru_cache(maxsize=32)
def _compiled(path: str, mtime: int, roots: tuple[str, ...], message: str) -> type[Message]:
    pool = descriptor_pool.DescriptorPool()
    for proto in _descriptor_set(path, roots).file:
        pool.Add(proto)
    try:
        descriptor = pool.FindMessageTypeByName(message)
    except KeyError as exc:
        names = [m for f in _descriptor_set(path, roots).file for m in _message_names(f)]
        raise ConfigError(
            f"message {message!r} is not defined in {path}",
            fix=f"pass message= one of: {', '.join(names)}",
        ) from exc
    return message_factory.GetMessageClass(descriptor)


def _message_names(proto: descriptor_pb2.FileDescriptorProto) -> list[str]:
    prefix = f"{proto.package}." if proto.package else ""
    return [prefix + m.name for m in proto.message_type]


@functools.lru_cache(maxsize=32)
def _descriptor_set(path: str, roots: tuple[str, ...]) -> descriptor_pb2.FileDescriptorSet:
    well_known = str(resources.files("grpc_tools") / "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        args = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{Path(path).parent}",
            *(f"-I{root}" for root in roots),
            f"-I{well_known}",
            f"--descriptor_set_out={out}",
            "--include_imports",
            path,
        ]
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ConfigError(
                f"protoc cannot compile {path}: {done.stderr.strip() or done.stdout.strip()}",
                fix="fix the .proto file, or pass include_paths= for its imports",
            )
        result = descriptor_pb2.FileDescriptorSet()
        result.ParseFromString(out.read_bytes())
        return result


def encode_varint(value: int) -> bytes:
    """``value`` as a protobuf base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(source: IO[bytes]) -> int | None:
    """The next varint of ``source``; None at a clean end of stream."""
    result = shift = 0
    while True:
        byte = source.read(1)
        if not byte:
            if shift == 0:
                return None
            raise EOFError("stream ends inside a length prefix")
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("length prefix is longer than 10 bytes")


def _messages(
    source: IO[bytes], name: str, cls: type[Message], on_bad_record: OnBadRecord | None
) -> Iterator[dict[str, Any]]:
    number = 0
    offset = 0
    while True:
        number += 1
        where = f"record {number} (byte {offset})"
        try:
            length = read_varint(source)
        except (EOFError, ValueError) as exc:
            report_bad(on_bad_record, BadRecord(name, where, str(exc)))
            return
        if length is None:
            return
        payload = source.read(length)
        offset += len(encode_varint(length)) + len(payload)
        if len(payload) < length:
            reason = f"stream ends inside the message ({len(payload)} of {length} bytes)"
            report_bad(on_bad_record, BadRecord(name, where, reason, payload))
            return
        try:
            message = cls.FromString(payload)
            yield to_row(message)
        except DecodeError as exc:
            reason = f"not a valid {cls.DESCRIPTOR.full_name}: {exc}"
            report_bad(on_bad_record, BadRecord(name, where, reason, payload))
        except LakebedError:
            raise
        except (ValueError, KeyError) as exc:
            raise FormatError(f"{name}: {where}: {exc}") from exc
