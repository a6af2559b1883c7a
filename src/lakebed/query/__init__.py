"""SQL over the lake: DuckDB in process, Athena/Trino/Spark dialects through sqlglot.

```python
engine = QueryEngine(catalog)
engine.sql("SELECT country, count(*) FROM web.clicks GROUP BY 1", dialect="athena")
engine.sql("SELECT * FROM web.clicks FOR VERSION AS OF 123", dialect="trino")
engine.sql("CREATE TABLE web.daily AS SELECT ...")            # a new Iceberg table
engine.select_object("raw/events.jsonl", "SELECT s.id FROM s3object s WHERE s.n > 3")
```
"""

from lakebed.query.engine import QueryEngine, QueryResult
from lakebed.query.resolve import TablePlan

__all__ = ["QueryEngine", "QueryResult", "TablePlan"]
