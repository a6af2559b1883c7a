"""The lake's catalog: databases, Iceberg tables and external tables.

```python
from lakebed.catalog import Catalog

catalog = Catalog("sqlite:///lake/_catalog/catalog.db", "file:///lake/warehouse")
catalog.create_database("web")
clicks = catalog.create_table("web.clicks", schema, partition_by=["day(ts)"])
clicks.append(batch)                          # one atomic snapshot; the schema may evolve
clicks.scan(filter="ts >= '2024-01-01'")      # or as_of=datetime(...) for time travel
```
"""

from lakebed.catalog.catalog import Catalog, s3_io_properties
from lakebed.catalog.describe import describe_table
from lakebed.catalog.external import ExternalTable
from lakebed.catalog.models import ScanPlan, SnapshotInfo, TableStats
from lakebed.catalog.naming import TableRef, safe_name
from lakebed.catalog.streaming import PendingWrite
from lakebed.catalog.table import Table

__all__ = [
    "Catalog",
    "ExternalTable",
    "PendingWrite",
    "ScanPlan",
    "SnapshotInfo",
    "Table",
    "TableRef",
    "TableStats",
    "describe_table",
    "s3_io_properties",
    "safe_name",
]
