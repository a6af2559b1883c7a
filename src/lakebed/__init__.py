"""lakebed: a self-hosted data lake for machine learning.

```python
import lakebed

lake = lakebed.open("./lake")                       # a folder; or "s3://bucket/prefix"
lake.put("raw/clicks/day1.jsonl", "clicks.jsonl")   # raw zone: any file, as it came
lake.crawl("raw", database="web")                   # infer formats, schemas, partitions
lake.sql("SELECT count(*) FROM web.clicks")         # DuckDB over Iceberg and raw tables
```
"""

from lakebed.config import LakeConfig, resolve_config
from lakebed.errors import (
    AlreadyExistsError,
    ConfigError,
    ConflictError,
    FormatError,
    LakebedError,
    MissingDependencyError,
    NotFoundError,
    QueryError,
    SchemaError,
    StorageError,
)
from lakebed.lake import Lake
from lakebed.lake import open_lake as open

__version__ = "0.1.0"

__all__ = [
    "AlreadyExistsError",
    "ConfigError",
    "ConflictError",
    "FormatError",
    "Lake",
    "LakeConfig",
    "LakebedError",
    "MissingDependencyError",
    "NotFoundError",
    "QueryError",
    "SchemaError",
    "StorageError",
    "__version__",
    "open",
    "resolve_config",
]
