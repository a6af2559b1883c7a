"""A table described as plain, JSON-ready data, for the CLI, the HTTP API and the console."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lakebed.catalog.external import ExternalTable
from lakebed.catalog.table import DESCRIPTION_PROPERTY, Table

#: Snapshots listed by a full description, newest first.
MAX_SNAPSHOTS = 20


def _columns(
    schema: pa.Schema, partition_columns: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    out = [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]
    for name, type_name in (partition_columns or {}).items():
        if name not in schema.names:
            out.append({"name": name, "type": type_name, "nullable": True, "partition": True})
    return out


def describe_table(table: Table | ExternalTable, *, brief: bool = False) -> dict[str, Any]:
    """Kind, size and description; unless ``brief``, also columns, partitioning, snapshots.

    A brief description has only flat values, one row of a table listing.
    """
    if isinstance(table, ExternalTable):
        info: dict[str, Any] = {
            "table": table.ident,
            "kind": table.kind,
            "format": table.format,
            "rows": None,
            "files": len(table.files),
            "description": table.description,
        }
        if brief:
            return info
        info.update(
            location=table.location,
            options=dict(table.options),
            properties=dict(table.properties),
            updated_at=table.updated_at.isoformat() if table.updated_at else None,
            columns=_columns(table.schema, table.partition_columns),
            partitioning=list(table.partition_columns),
            snapshots=[],
        )
        return info

    stats = table.stats()
    info = {
        "table": table.ident,
        "kind": table.kind,
        "format": "iceberg",
        "rows": stats.rows,
        "files": stats.data_files,
        "description": table.description,
    }
    if brief:
        return info
    snapshots = table.snapshots()[-MAX_SNAPSHOTS:]
    info.update(
        location=table.location,
        bytes=stats.total_bytes,
        snapshot_count=stats.snapshots,
        current_snapshot=stats.snapshot_id,
        properties={k: v for k, v in table.properties.items() if k != DESCRIPTION_PROPERTY},
        columns=_columns(table.schema),
        partitioning=table.partition_by,
        sort_order=table.sort_by,
        snapshots=[
            {
                "snapshot_id": s.snapshot_id,
                "timestamp": s.timestamp.isoformat(),
                "operation": s.operation,
                "added_rows": s.added_rows,
                "total_rows": s.total_rows,
            }
            for s in reversed(snapshots)
        ],
    )
    return info
