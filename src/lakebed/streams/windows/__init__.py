"""Windowed aggregations over event time (tumbling and sliding windows, watermark, lateness).

A delivery stream with a :class:`WindowSpec` feeds its decoded rows to a
:class:`WindowAggregator` and writes what :meth:`WindowAggregator.emit` returns to the table;
the aggregator's :meth:`~WindowAggregator.state` is committed with the source positions so a
restarted stream continues exactly where it stopped. See :mod:`.aggregator` for the semantics.
"""

from lakebed.streams.windows.aggregator import WindowAggregator
from lakebed.streams.windows.spec import FUNCTIONS, Aggregation, WindowSpec, parse_aggregation

__all__ = ["FUNCTIONS", "Aggregation", "WindowAggregator", "WindowSpec", "parse_aggregation"]
