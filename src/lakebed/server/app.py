"""``create_app(lake)``: health, catalog, SQL and ingestion endpoints, and one error handler.

Routers stay thin: they parse the request, call the library and return plain data. Every
:class:`~lakebed.errors.LakebedError` becomes a JSON error with a status that fits its kind.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

import lakebed
from lakebed.errors import (
    AlreadyExistsError,
    ConfigError,
    ConflictError,
    LakebedError,
    MissingDependencyError,
    NotFoundError,
    StorageError,
)
from lakebed.lake import Lake
from lakebed.server.recipes import recipes_router
from lakebed.server.streams import streams_router

_STATUS: list[tuple[type[LakebedError], int]] = [
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (MissingDependencyError, 501),
    (ConflictError, 409),
    (StorageError, 503),
    (ConfigError, 400),
    (LakebedError, 400),
]


def status_for(error: LakebedError) -> int:
    """The HTTP status for a lakebed error (most specific class first)."""
    return next(code for kind, code in _STATUS if isinstance(error, kind))


class SqlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    dialect: str | None = None
    format: Literal["json", "csv", "parquet"] = "json"
    limit: int | None = None


def _catalog_router(lake: Lake) -> APIRouter:
    router = APIRouter(tags=["catalog"])

    @router.get("/databases")
    def databases() -> list[str]:
        return lake.databases()

    @router.get("/databases/{database}/tables")
    def tables(database: str) -> list[str]:
        return lake.tables(database)

    @router.get("/tables/{ident}")
    def describe(ident: str) -> dict[str, Any]:
        return lake.describe(ident)

    return router


def _sql_router(lake: Lake) -> APIRouter:
    router = APIRouter(tags=["sql"])

    @router.post("/sql", response_model=None)
    def sql(request: SqlRequest) -> Response | dict[str, Any]:
        result = lake.sql(request.query, dialect=request.dialect)
        if request.limit is not None:
            result = result.slice(0, request.limit)
        if request.format == "csv":
            import pyarrow.csv as pacsv

            sink = io.BytesIO()
            pacsv.write_csv(result, sink)
            return Response(sink.getvalue(), media_type="text/csv")
        if request.format == "parquet":
            import pyarrow.parquet as pq

            sink = io.BytesIO()
            pq.write_table(result, sink)
            return Response(sink.getvalue(), media_type="application/vnd.apache.parquet")
        return {
            "columns": [{"name": f.name, "type": str(f.type)} for f in result.schema],
            "rows": result.to_pylist(),
            "row_count": result.num_rows,
        }

    return router


class IngestRequest(BaseModel):
    """A load: ``source`` and ``into`` as for ``lake.ingest``; ``options`` its keyword options."""

    model_config = ConfigDict(extra="forbid")

    source: str
    into: str
    job: str | None = None
    options: dict[str, Any] = {}


def _ingest_router(lake: Lake) -> APIRouter:
    router = APIRouter(tags=["ingest"])

    @router.post("/ingest")
    def ingest(request: IngestRequest) -> dict[str, Any]:
        """Run a load to the end and return its report (rows, snapshots, bookmark)."""
        report = lake.ingest(request.source, into=request.into, job=request.job, **request.options)
        return report.to_dict()

    @router.get("/runs")
    def runs(
        job: str | None = None, table: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Recorded load runs, newest first."""
        return [asdict(run) for run in lake.runs(job=job, target=table, limit=limit)]

    @router.get("/tables/{ident}/bookmarks")
    def bookmarks(ident: str) -> list[dict[str, Any]]:
        """The table's incremental-load bookmarks."""
        return [asdict(bookmark) for bookmark in lake.bookmarks(ident)]

    return router


def _stream_admin_router(lake: Lake) -> APIRouter:
    router = APIRouter(tags=["streams"])

    @router.get("/streams")
    def list_streams() -> list[dict[str, Any]]:
        """Every delivery stream's configuration."""
        return [config.to_dict() for config in lake.streams.list()]

    @router.get("/streams/{name}")
    def get_stream(name: str) -> dict[str, Any]:
        """One stream's configuration."""
        return lake.streams.get(name).to_dict()

    @router.get("/streams/{name}/status")
    def stream_status(name: str) -> dict[str, Any]:
        """Running or not; records in/out/errored, bytes, lag, last commit, latency p50/p99."""
        return lake.streams.status(name).to_dict()

    return router


def create_app(lake: Lake) -> FastAPI:
    """The HTTP API over ``lake``; later features add their routers here."""
    app = FastAPI(title="lakebed", version=lakebed.__version__)

    @app.exception_handler(LakebedError)
    async def _lakebed_error(_request: Request, exc: LakebedError) -> JSONResponse:
        body = {"error": type(exc).__name__, "message": exc.message, "fix": exc.fix}
        return JSONResponse(body, status_code=status_for(exc))

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "lake": lake.config.root, "version": lakebed.__version__}

    app.include_router(_catalog_router(lake))
    app.include_router(_sql_router(lake))
    app.include_router(_ingest_router(lake))
    app.include_router(streams_router(lake))
    app.include_router(_stream_admin_router(lake))
    app.include_router(recipes_router(lake))
    return app
