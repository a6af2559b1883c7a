"""HTTP put endpoints for delivery streams, as Firehose's PutRecord and PutRecordBatch.

- ``POST /streams/{name}/records``: one record, ``{"Data": "<base64>"}`` (or Firehose's
  ``{"Record": {"Data": ...}}``) or ``{"json": {...}}``, optional ``"RecordId"``; answers
  ``{"RecordId", "SequenceNumber"}`` once the record is fsynced to the stream's write-ahead log.
- ``POST /streams/{name}/records:batch``: ``{"Records": [...]}``, up to 500 records and 4 MiB,
  or an NDJSON body (``Content-Type: application/x-ndjson``, one JSON record per line);
  answers per record, Firehose style: ``{"FailedPutCount", "RequestResponses": [...]}``.

A record id given by the client deduplicates retries within the stream's dedupe window; without
one, the answer's ``RecordId`` is the sequence number. One :class:`WriteAheadLog` per stream stays
open for the app's life and closes at shutdown.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lakebed.errors import NotFoundError
from lakebed.streams.records import RecordError
from lakebed.streams.wal import HttpSourceConfig, WriteAheadLog
from lakebed.streams.wal.log import DiskFullError

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * (1 << 20)
_MAX_BODY_BYTES = 8 * (1 << 20)  # base64 and JSON around 4 MiB of records
_NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_RECORD_KEYS = {"Data", "Record", "json", "RecordId"}


class BadRequest(Exception):
    """The request cannot be read; becomes a 400 (or ``status``) naming the record and the fix."""

    def __init__(
        self, message: str, fix: str, status: int = 400, error: str = "BadRequest"
    ) -> None:
        super().__init__(message)
        self.message, self.fix, self.status, self.error = message, fix, status, error


class StreamWriters:
    """The open write-ahead logs of the app's HTTP streams, one per stream name."""

    def __init__(self, lake: Any) -> None:
        self.lake = lake
        self._logs: dict[str, WriteAheadLog] = {}
        self._lock = threading.Lock()

    def log(self, name: str) -> WriteAheadLog:
        """The stream's log; raises NotFoundError (404) or BadRequest (409, not http)."""
        try:
            config = self.lake.streams.get(name)
        except NotFoundError:
            self._forget(name)
            raise
        source = config.source
        if getattr(source, "type", None) != "http":
            raise BadRequest(
                f"stream {name!r} reads from a {getattr(source, 'type', '?')} source, so it "
                "takes no HTTP puts",
                fix="send the records to the stream's source, or create a stream with "
                'source {"type": "http"} to put records over HTTP',
                status=409,
                error="NotAnHttpStream",
            )
        with self._lock:
            wal = self._logs.get(name)
            if wal is not None and not wal.is_current():  # dropped and created again
                wal.close()
                wal = None
            if wal is None:
                state_dir = Path(self.lake.streams.state_dir(name))
                if isinstance(source, HttpSourceConfig):
                    wal = source.open_log(state_dir)
                else:
                    wal = WriteAheadLog(state_dir / "wal")
                self._logs[name] = wal
            return wal

    def _forget(self, name: str) -> None:
        with self._lock:
            wal = self._logs.pop(name, None)
        if wal is not None:
            wal.close()

    def close(self) -> None:
        """Close every open log (releasing their writer locks)."""
        with self._lock:
            logs, self._logs = list(self._logs.values()), {}
        for wal in logs:
            wal.close()


def streams_router(lake: Any) -> APIRouter:
    """The put-record endpoints over ``lake.streams``; the logs close with the app."""
    writers = StreamWriters(lake)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            writers.close()

    router = APIRouter(tags=["streams"], lifespan=lifespan)

    @router.post("/streams/{name}/records", response_model=None)
    async def put_record(name: str, request: Request) -> dict[str, Any] | JSONResponse:
        """PutRecord: store one record durably and return its sequence number."""
        try:
            body = _json_body(await _read(request))
            value, record_id = _record(body, None, allow_stream_name=True, stream=name)
            wal = await run_in_threadpool(writers.log, name)
            (result,) = await run_in_threadpool(wal.append, [value], [record_id])
        except BadRequest as exc:
            return _error(exc.status, exc.error, exc.message, exc.fix)
        except DiskFullError as exc:
            return _error(507, type(exc).__name__, exc.message, exc.fix)
        if isinstance(result, RecordError):
            return _error(413, "RecordTooLarge", result.reason, "send a smaller record")
        return {"RecordId": record_id or str(result), "SequenceNumber": result}

    @router.post("/streams/{name}/records:batch", response_model=None)
    async def put_record_batch(name: str, request: Request) -> dict[str, Any] | JSONResponse:
        """PutRecordBatch: store up to 500 records; a result (or error) per record, in order."""
        try:
            raw = await _read(request)
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type in _NDJSON:
                values, ids = _ndjson_records(raw)
            else:
                values, ids = _batch_records(_json_body(raw), name)
            wal = await run_in_threadpool(writers.log, name)
            results = await run_in_threadpool(wal.append, values, ids)
        except BadRequest as exc:
            return _error(exc.status, exc.error, exc.message, exc.fix)
        except DiskFullError as exc:
            return _error(507, type(exc).__name__, exc.message, exc.fix)
        responses: list[dict[str, Any]] = []
        for result, record_id in zip(results, ids, strict=True):
            if isinstance(result, RecordError):
                responses.append({"ErrorCode": "RecordTooLarge", "ErrorMessage": result.reason})
            else:
                responses.append({"RecordId": record_id or str(result), "SequenceNumber": result})
        failed = sum(1 for r in responses if "ErrorCode" in r)
        return {"FailedPutCount": failed, "RequestResponses": responses}

    return router


def _error(status: int, error: str, message: str, fix: str | None) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, "fix": fix}, status_code=status)


async def _read(request: Request) -> bytes:
    body = await request.body()
    if len(body) > _MAX_BODY_BYTES:
        raise BadRequest(
            f"request body of {len(body)} bytes is larger than {_MAX_BODY_BYTES}",
            fix="send at most 500 records and 4 MiB per batch; split the batch",
            status=413,
            error="RequestTooLarge",
        )
    return body


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(
            f"request body is not valid JSON: {exc}", fix="send a JSON object"
        ) from None


def _record(
    body: Any, index: int | None, *, allow_stream_name: bool = False, stream: str = ""
) -> tuple[bytes, str | None]:
    """The payload and record id of one record object (``index`` for messages in a batch)."""
    where = "the record" if index is None else f"record {index}"
    if not isinstance(body, dict):
        raise BadRequest(
            f"{where} is not a JSON object",
            fix='send {"Data": "<base64>"} or {"json": {...}}',
        )
    keys = set(body)
    if allow_stream_name and "DeliveryStreamName" in body:
        if body["DeliveryStreamName"] != stream:
            raise BadRequest(
                f"DeliveryStreamName {body['DeliveryStreamName']!r} differs from the stream "
                f"{stream!r} in the URL",
                fix="leave DeliveryStreamName out or make it match the URL",
            )
        keys.discard("DeliveryStreamName")
    unknown = keys - _RECORD_KEYS
    if unknown:
        raise BadRequest(
            f"{where} has unknown keys {sorted(unknown)}",
            fix="use Data (base64), Record ({Data}), json (an object) and RecordId",
        )
    record_id = body.get("RecordId")
    if record_id is not None and not isinstance(record_id, str):
        raise BadRequest(f"{where}: RecordId must be a string", fix="send the id as a string")
    payloads = [k for k in ("Data", "Record", "json") if k in body]
    if len(payloads) != 1:
        raise BadRequest(
            f"{where} needs exactly one of Data, Record or json (got {payloads or 'none'})",
            fix='send {"Data": "<base64>"} or {"json": {...}}',
        )
    if "json" in body:
        if not isinstance(body["json"], dict):
            raise BadRequest(f"{where}: json must be an object", fix='send {"json": {...}}')
        return json.dumps(body["json"], separators=(",", ":")).encode(), record_id
    data = body.get("Data")
    if "Record" in body:
        inner = body["Record"]
        if not isinstance(inner, dict) or set(inner) != {"Data"}:
            raise BadRequest(
                f"{where}: Record must be an object with only Data",
                fix='send {"Record": {"Data": "<base64>"}}',
            )
        data = inner["Data"]
    return _base64(data, where), record_id


def _base64(data: Any, where: str) -> bytes:
    if not isinstance(data, str):
        raise BadRequest(f"{where}: Data must be a base64 string", fix="base64-encode the bytes")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(
            f"{where}: Data is not valid base64", fix="base64-encode the record's bytes"
        ) from None


def _batch_records(body: Any, stream: str) -> tuple[list[bytes], list[str | None]]:
    if not isinstance(body, dict) or not isinstance(body.get("Records"), list):
        raise BadRequest(
            'the batch body needs a "Records" list',
            fix='send {"Records": [{"Data": "<base64>"}, {"json": {...}}, ...]}',
        )
    if body.get("DeliveryStreamName", stream) != stream:
        raise BadRequest(
            f"DeliveryStreamName {body['DeliveryStreamName']!r} differs from the stream "
            f"{stream!r} in the URL",
            fix="leave DeliveryStreamName out or make it match the URL",
        )
    unknown = set(body) - {"Records", "DeliveryStreamName"}
    if unknown:
        raise BadRequest(f"the batch has unknown keys {sorted(unknown)}", fix="send Records only")
    records = [_record(item, i) for i, item in enumerate(body["Records"])]
    _check_limits([v for v, _ in records])
    return [v for v, _ in records], [rid for _, rid in records]


def _ndjson_records(raw: bytes) -> tuple[list[bytes], list[str | None]]:
    values: list[bytes] = []
    for i, line in enumerate(raw.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(
                f"record {len(values)} (line {i + 1}) is not valid JSON: {exc}",
                fix="send one JSON record per line",
            ) from None
        values.append(line)
    _check_limits(values)
    return values, [None] * len(values)


def _check_limits(values: list[bytes]) -> None:
    if not values:
        raise BadRequest("the batch has no records", fix="send at least one record")
    if len(values) > MAX_BATCH_RECORDS:
        raise BadRequest(
            f"the batch has {len(values)} records, more than {MAX_BATCH_RECORDS}",
            fix=f"split it into batches of at most {MAX_BATCH_RECORDS} records",
            status=413,
            error="RequestTooLarge",
        )
    size = sum(len(v) for v in values)
    if size > MAX_BATCH_BYTES:
        raise BadRequest(
            f"the batch holds {size} bytes of records, more than {MAX_BATCH_BYTES} (4 MiB)",
            fix="split it into smaller batches",
            status=413,
            error="RequestTooLarge",
        )
