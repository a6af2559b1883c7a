"""Crawl options fail loudly on typos and bad values."""

from __future__ import annotations

import pytest

from lakebed.crawl import CrawlOptions
from lakebed.errors import ConfigError


def test_defaults() -> None:
    options = CrawlOptions()
    assert (options.convert, options.schema_policy, options.removed_policy) == (
        False,
        "update",
        "deprecate",
    )


def test_unknown_keys_and_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="shema_policy"):
        CrawlOptions(shema_policy="log")
    with pytest.raises(ConfigError, match="removed_policy"):
        CrawlOptions(removed_policy="purge")
    with pytest.raises(ConfigError, match="sample_rows"):
        CrawlOptions(sample_rows=0)
