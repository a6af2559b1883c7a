"""SQL over the lake: DuckDB in process, Athena/Trino/Spark dialects through sqlglot.

```python
engine = QueryEngine(catalog)
engine.sql("SELECT country, count(*) FROM web.clicks GROUP BY 1", dialect="athena")
engine.sql("SELECT * FROM web.clicks FOR VERSION AS OF 123", dialect="trino")
engine.sql("CREATE TABLE web.daily AS SELECT ...")            # a new Iceberg table
engine.select_object("raw/events.jsonl", "SELECT s.id FROM s3object s WHERE s.n > 3")
```

A query over an external CSV/TSV table skips rows with a missing or an extra field; it says so
with a :class:`SkippedRowsWarning` and in the result's schema metadata under
:data:`SKIPPED_ROWS_KEY` (see :mod:`lakebed.query.external`).
"""

from lakebed.query.engine import QueryEngine, QueryResult
from lakebed.query.external import SKIPPED_ROWS_KEY, SkippedRowsWarning
from lakebed.query.resolve import TablePlan

__all__ = ["SKIPPED_ROWS_KEY", "QueryEngine", "QueryResult", "SkippedRowsWarning", "TablePlan"]
