"""Database drivers for :class:`~lakebed.ingest.sources.database.DatabaseSource`, one module
per backend, chosen by the URL's backend name and imported only when used.

| backend | client | module |
|---|---|---|
| ``postgresql`` | ADBC (Arrow over ``COPY``) | :mod:`.postgres` |
| ``mysql``, ``mariadb`` | connectorx (Arrow), pymysql fallback | :mod:`.mysql` |
| ``sqlite`` | :mod:`sqlite3` | :mod:`.sqlite` |
| anything else SQLAlchemy knows | SQLAlchemy + the DBAPI driver | :mod:`.generic` |
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa

from lakebed.ingest.sources.drivers.base import Chunk, Column, Driver

__all__ = ["Chunk", "Column", "Driver", "driver_for"]

_DRIVERS = {
    "postgresql": "lakebed.ingest.sources.drivers.postgres:PostgresDriver",
    "mysql": "lakebed.ingest.sources.drivers.mysql:MySQLDriver",
    "mariadb": "lakebed.ingest.sources.drivers.mysql:MySQLDriver",
    "sqlite": "lakebed.ingest.sources.drivers.sqlite:SQLiteDriver",
}
_GENERIC = "lakebed.ingest.sources.drivers.generic:GenericDriver"


def driver_for(url: sa.URL, uri: str) -> Driver:
    """The driver for ``url``'s backend (the generic SQLAlchemy one for unlisted backends)."""
    module, _, name = _DRIVERS.get(url.get_backend_name(), _GENERIC).partition(":")
    cls: type[Driver] = getattr(importlib.import_module(module), name)
    return cls(url, uri)
