"""Where loads read from: files (local or S3) and databases (by SQLAlchemy URL)."""

from lakebed.ingest.sources.base import Part, Plan, Source, State

__all__ = ["Part", "Plan", "Source", "State"]
