"""Protobuf schemas in the registry: compiling ``.proto`` text and the wire-compatibility rules.

The text is compiled by ``protoc`` from grpcio-tools (a dependency), run as a subprocess so its
error messages are captured cleanly and nothing is written to this process's stderr. The result
is a ``FileDescriptorSet`` (imports such as ``google/protobuf/timestamp.proto`` included), from
which the decoders build message classes. Compilation is cached by text.

Compatibility is about the wire: fields are matched by number. A field whose number now carries
another type (outside the wire-compatible groups), another label (repeated vs singular) or
another message type breaks it; a field keeping its name but changing its number breaks it; a
new field taking a number or name the other version reserved breaks it; a message removed breaks
it. Removing a field, or adding one, is fine.
"""

from __future__ import annotations

import functools
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

from lakebed.streams.registry.compat import Pair

FDP = descriptor_pb2.FieldDescriptorProto
_TYPE_NAMES = {value: name.removeprefix("TYPE_").lower() for name, value in FDP.Type.items()}
_WIRE_GROUPS = [
    {FDP.TYPE_INT32, FDP.TYPE_UINT32, FDP.TYPE_INT64, FDP.TYPE_UINT64, FDP.TYPE_BOOL},
    {FDP.TYPE_SINT32, FDP.TYPE_SINT64},
    {FDP.TYPE_FIXED32, FDP.TYPE_SFIXED32},
    {FDP.TYPE_FIXED64, FDP.TYPE_SFIXED64},
    {FDP.TYPE_STRING, FDP.TYPE_BYTES},
]


class ProtoSchema:
    """A compiled ``.proto``: the file set, the main file, and its messages by full name."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.files = _compile(text)
        self.file = self.files.file[-1]
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        prefix = f".{self.file.package}" if self.file.package else ""
        for message in self.file.message_type:
            self._collect(message, prefix)
        self.canonical = self.file.SerializeToString(deterministic=True).hex()

    def _collect(self, message: descriptor_pb2.DescriptorProto, prefix: str) -> None:
        name = f"{prefix}.{message.name}"
        self.messages[name] = message
        for nested in message.nested_type:
            self._collect(nested, name)

    def message_names(self) -> list[str]:
        """Full names (without the leading dot) of every message, in file order."""
        return [n.lstrip(".") for n in self.messages]


def parse(text: str) -> ProtoSchema:
    """Compile ``.proto`` text; ``ValueError`` carries protoc's message."""
    return ProtoSchema(text)


def _proto_include() -> Path:
    import grpc_tools

    return Path(grpc_tools.__file__).parent / "_proto"


@functools.lru_cache(maxsize=256)
def _compile_bytes(text: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="lakebed-proto-") as tmp:
        name = "schema_" + hashlib.sha256(text.encode()).hexdigest()[:12] + ".proto"
        source = Path(tmp) / name
        out = Path(tmp) / "out.pb"
        source.write_text(
            text
            if re.search(r"^\s*(syntax|edition)\b", text, re.M)
            else 'syntax = "proto3"; ' + text
        )
        command = [
            sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp}", f"-I{_proto_include()}",
            "--include_imports", f"--descriptor_set_out={out}", name,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp)
        if result.returncode != 0:
            lines = [
                line.replace(f"{source}:", "line ").replace(f"{name}:", "line ")
                for line in result.stderr.splitlines()
                if line.strip() and "absl::" not in line and not re.match(r"[IWEF]\d{4} ", line)
            ]
            raise ValueError("; ".join(lines) or f"protoc failed ({result.returncode})")
        return out.read_bytes()


def _compile(text: str) -> descriptor_pb2.FileDescriptorSet:
    files = descriptor_pb2.FileDescriptorSet()
    files.ParseFromString(_compile_bytes(text))
    return files


def can_read(pair: Pair[ProtoSchema]) -> list[str]:
    """Reasons why data written with ``pair.writer`` does not read with ``pair.reader``."""
    reasons: list[str] = []
    reader, writer = pair.reader, pair.writer
    old, new = (writer, reader) if pair.reader_is_new else (reader, writer)
    for name, old_msg in old.messages.items():
        new_msg = new.messages.get(name)
        if new_msg is None:
            reasons.append(f"message '{name.lstrip('.')}' was removed")
            continue
        reasons.extend(_message(name.lstrip("."), old_msg, new_msg, pair))
    return reasons


def _describe(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM):
        text = field.type_name.lstrip(".")
    else:
        text = _TYPE_NAMES[field.type]
    return f"repeated {text}" if field.label == FDP.LABEL_REPEATED else text


def _compatible(
    a: descriptor_pb2.FieldDescriptorProto, b: descriptor_pb2.FieldDescriptorProto
) -> bool:
    if (a.label == FDP.LABEL_REPEATED) != (b.label == FDP.LABEL_REPEATED):
        return False
    if a.type == b.type:
        return a.type not in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM) or a.type_name == b.type_name
    if {a.type, b.type} <= {FDP.TYPE_ENUM, FDP.TYPE_INT32}:
        return True
    return any(a.type in group and b.type in group for group in _WIRE_GROUPS)


def _reserved(message: descriptor_pb2.DescriptorProto) -> tuple[list[range], set[str]]:
    ranges = [range(r.start, r.end) for r in message.reserved_range]
    return ranges, set(message.reserved_name)


def _message(
    name: str,
    old: descriptor_pb2.DescriptorProto,
    new: descriptor_pb2.DescriptorProto,
    pair: Pair[ProtoSchema],
) -> list[str]:
    reasons: list[str] = []
    old_by_number = {f.number: f for f in old.field}
    old_by_name = {f.name: f for f in old.field}
    ranges, names = _reserved(old)
    for field in new.field:
        label = f"field '{name}.{field.name}'"
        before = old_by_number.get(field.number)
        if before is not None and not _compatible(before, field):
            reasons.append(
                f"{label} (number {field.number}) changed type from "
                f"{_describe(before)} to {_describe(field)}"
            )
        same_name = old_by_name.get(field.name)
        if same_name is not None and same_name.number != field.number:
            reasons.append(f"{label} changed number from {same_name.number} to {field.number}")
        if before is None and any(field.number in r for r in ranges):
            reasons.append(f"{label} reuses number {field.number}, reserved in the old version")
        if same_name is None and field.name in names:
            reasons.append(f"{label} reuses a name reserved in the old version")
    return reasons
