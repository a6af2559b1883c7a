"""``lakebed stream``: define, run, watch and drop delivery streams.

Thin over :class:`lakebed.streams.manager.Streams`: options come from flags and/or a YAML file
(``--config``; flags win), are validated by :class:`~lakebed.streams.config.StreamConfig`, and
the results are rendered as tables (or JSON with ``--json``).
"""

from __future__ import annotations

import signal
import threading
import typing
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from lakebed.cli import render
from lakebed.cli.app import app, state
from lakebed.errors import ConfigError

stream_app = typer.Typer(
    name="stream",
    help="Delivery streams: Kafka, Redis Streams or HTTP puts into lake tables, exactly once.",
    no_args_is_help=True,
)
app.add_typer(stream_app, name="stream")


def _streams(ctx: typer.Context) -> Any:
    return state(ctx).lake.streams


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=flag)
        out[key.strip()] = value.strip()
    return out


def _source(pairs: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The source mapping: the file's, updated by ``--source KEY=VALUE`` (YAML values; a
    comma-separated value for a list field becomes a list)."""
    import yaml

    from lakebed.streams.config import source_config_class

    source = dict(base)
    for key, text in pairs.items():
        source[key] = yaml.safe_load(text) if text else text
    kind = source.get("type")
    if not isinstance(kind, str):
        raise ConfigError(
            "the stream's source has no type",
            fix="pass --source type=http (or kafka, redis) or set source.type in --config",
        )
    fields = source_config_class(kind).model_fields
    for key, value in source.items():
        field = fields.get(key)
        is_list = field is not None and typing.get_origin(field.annotation) is list
        if is_list and isinstance(value, str):
            source[key] = [v.strip() for v in value.split(",") if v.strip()]
    return source


def _config_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", fix="check the path") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of stream options")
    return loaded


@stream_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Stream name.")],
    into: Annotated[str | None, typer.Option(help="Target table, DB.TABLE.")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Source setting KEY=VALUE (repeatable): type=kafka|redis|http, "
            "bootstrap_servers=..., topics=a,b, url=redis://..., streams=...",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file of stream options.")
    ] = None,
    format: Annotated[str | None, typer.Option(help="json, avro or protobuf.")] = None,
    schema_subject: Annotated[str | None, typer.Option(help="Schema registry subject.")] = None,
    schema_file: Annotated[
        Path | None, typer.Option(help="Writer schema (Avro JSON, JSON Schema, .proto).")
    ] = None,
    message: Annotated[str | None, typer.Option(help="Protobuf message name.")] = None,
    wire: Annotated[str | None, typer.Option(help="auto, confluent or plain.")] = None,
    buffer_size: Annotated[
        str | None, typer.Option(help="Deliver at this many bytes (1MB-128MB; default 5MB).")
    ] = None,
    buffer_interval: Annotated[
        float | None, typer.Option(help="... or after this many seconds (0-900; default 300).")
    ] = None,
    partition_by: Annotated[
        list[str] | None,
        typer.Option("--partition-by", help="Field, nested.field or day(ts) (repeatable)."),
    ] = None,
    max_record_size: Annotated[str | None, typer.Option(help="Larger records fail.")] = None,
    unknown_fields: Annotated[str | None, typer.Option(help="error or ignore.")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", help="NAME=TYPE for a new table, e.g. ts=timestamp[us]."),
    ] = None,
    errors_table: Annotated[str | None, typer.Option(help="Error output table.")] = None,
) -> None:
    """Define a delivery stream (it does not run until started)."""
    options = _config_file(config)
    options.pop("name", None)
    flags: dict[str, Any] = {
        "into": into,
        "format": format,
        "schema_subject": schema_subject,
        "schema": schema_file.read_text() if schema_file else None,
        "message": message,
        "wire": wire,
        "buffer_size_bytes": buffer_size,
        "buffer_interval_s": buffer_interval,
        "partition_by": partition_by or None,
        "max_record_bytes": max_record_size,
        "unknown_fields": unknown_fields,
        "table_schema": _pairs(column, "--column") or None,
        "errors_table": errors_table,
    }
    options.update({k: v for k, v in flags.items() if v is not None})
    options["source"] = _source(_pairs(source, "--source"), options.get("source") or {})
    if "into" not in options:
        raise typer.BadParameter("give --into DB.TABLE (or 'into' in --config)")
    target = options.pop("into")
    created = _streams(ctx).create(name, source=options.pop("source"), into=target, **options)
    st = state(ctx)
    if st.as_json:
        render.emit_json(created.to_dict())
    else:
        render.console.print(
            f"stream [bold]{name}[/bold] created: {created.source.type} → {created.into}; "
            f"start it with `lakebed stream start {name}`"
        )


@stream_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every stream, with where it reads and writes and whether it runs."""
    streams = _streams(ctx)
    rows = []
    for config in streams.list():
        status = streams.status(config.name)
        rows.append(
            {
                "name": config.name,
                "source": config.source.type,
                "into": config.into,
                "format": config.format,
                "running": status.running,
                "state": status.state,
                "records out": status.records_out,
            }
        )
    if state(ctx).as_json:
        render.emit_json(rows)
    else:
        render.emit_rows(rows, title="streams")


@stream_app.command("start")
def start(
    ctx: typer.Context,
    name: str,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run here until Ctrl-C / SIGTERM.")
    ] = False,
) -> None:
    """Run a stream: in a background process, or here with --foreground."""
    streams = _streams(ctx)
    if not foreground:
        status = streams.start(name)
        render.console.print(f"stream {name} running (pid {status.pid})")
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        render.errors.print(f"stream {name} running; Ctrl-C stops it after a last delivery")
        status = streams.run(name, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    render.errors.print(f"stream {name} {status.state}: {status.records_out} records delivered")


@stream_app.command("stop")
def stop(ctx: typer.Context, name: str) -> None:
    """Stop a running stream (it delivers what it buffered first)."""
    status = _streams(ctx).stop(name)
    render.console.print(f"stream {name} stopped ({status.state})")


@stream_app.command("status")
def status(ctx: typer.Context, name: str) -> None:
    """A stream's health: records in/out/errored, lag, last commit, latency."""
    found = _streams(ctx).status(name)
    if state(ctx).as_json:
        render.emit_json(found.to_dict())
        return
    render.emit_rows(status_rows(found), title=f"stream {name}")
    if found.lag or found.positions:
        parts = sorted(set(found.lag) | set(found.positions))
        render.emit_rows(
            [
                {"partition": p, "delivered up to": found.positions.get(p), "lag": found.lag.get(p)}
                for p in parts
            ],
            title="partitions",
        )


def status_rows(found: Any) -> list[dict[str, Any]]:
    """A status as property/value rows."""
    commit = found.last_commit
    errored = ", ".join(f"{k} {v}" for k, v in sorted(found.errored_by_kind.items()))
    latency = (
        f"p50 {found.latency_p50_ms:.0f} ms, p99 {found.latency_p99_ms:.0f} ms"
        if found.latency_p50_ms is not None
        else None
    )
    rows = [
        ("state", found.state),
        ("running", f"yes (pid {found.pid})" if found.running else "no"),
        ("records in", found.records_in),
        ("records out", found.records_out),
        ("records errored", f"{found.records_errored}" + (f" ({errored})" if errored else "")),
        ("bytes in", render.human_size(found.bytes_in)),
        (
            "buffered",
            f"{found.buffered_records} records, {render.human_size(found.buffered_bytes)}",
        ),
        (
            "last commit",
            f"{commit.at:%Y-%m-%d %H:%M:%S} UTC, snapshot {commit.snapshot_id}, "
            f"{commit.records} records, {commit.errors} errors"
            if commit
            else None,
        ),
        ("delivery latency", latency),
    ]
    return [{"": key, "value": value} for key, value in rows]


@stream_app.command("drop")
def drop(ctx: typer.Context, name: str) -> None:
    """Forget a stream and its local state; its table and error output stay."""
    _streams(ctx).drop(name)
    render.console.print(f"stream {name} dropped")
