"""Iceberg table maintenance: compaction, snapshot expiry, orphan-file removal.

```python
from lakebed.maintenance import expire_snapshots, optimize, remove_orphan_files

optimize(table, target_file_size=256 << 20)          # small files → right-sized ones
expire_snapshots(table, older_than=timedelta(days=7)) # forget old snapshots, free their files
remove_orphan_files(table, older_than=timedelta(days=3), dry_run=True)
```

Each takes a :class:`lakebed.catalog.Table` and returns a report dataclass (``to_dict()``).
"""

from lakebed.maintenance.compaction import optimize
from lakebed.maintenance.expire import expire_snapshots
from lakebed.maintenance.orphans import remove_orphan_files
from lakebed.maintenance.reports import ExpireReport, OptimizeReport, OrphanReport

__all__ = [
    "ExpireReport",
    "OptimizeReport",
    "OrphanReport",
    "expire_snapshots",
    "optimize",
    "remove_orphan_files",
]
