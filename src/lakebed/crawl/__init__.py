"""Crawling: infer tables (format, schema, partitions) from folders of files, as Glue does.

```python
from lakebed.crawl import Crawler, CrawlOptions

report = Crawler(catalog).crawl(store, "raw", database="web", options=CrawlOptions())
report.summary_rows()       # one row per table: created / updated / unchanged / ...
report.skipped              # [(key, reason)] for corrupt, unreadable and non-tabular files
report.bad_records          # convert=True: records quarantined in <database>._quarantine
```

Re-crawls are incremental: the state of each crawled file lives in the catalog's SQL database,
and only new or changed files are opened again.
"""

from lakebed.crawl.crawler import Crawler
from lakebed.crawl.options import CrawlOptions
from lakebed.crawl.report import CrawlReport, TableResult

__all__ = ["CrawlOptions", "CrawlReport", "Crawler", "TableResult"]
