"""What a crawl may do: the options a user passes, checked once (unknown keys are errors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakebed.config import validation_problems
from lakebed.errors import ConfigError

SchemaPolicy = Literal["update", "log", "add_columns"]
RemovedPolicy = Literal["delete", "deprecate", "log"]


class CrawlOptions(BaseModel):
    """Options of one crawl, as a Glue crawler has them.

    ``schema_policy`` says what a re-crawl does when a table's files show a new schema:
    ``update`` the table, only ``log`` the change, or ``add_columns`` (new columns only, existing
    types kept). ``removed_policy`` says what happens when files of a table disappear:
    ``delete`` the table's references (and the table when it is empty), ``deprecate`` (mark the
    table deprecated when all its files are gone), or ``log`` only. ``convert`` writes Iceberg
    tables instead of registering the files in place. ``new_folders_only`` inspects only files
    in folders the previous crawl did not see.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    convert: bool = False
    schema_policy: SchemaPolicy = "update"
    removed_policy: RemovedPolicy = "deprecate"
    table_prefix: str = ""
    sample_rows: int = Field(default=1000, ge=1)
    new_folders_only: bool = False
    #: Sibling folders whose column names overlap at least this much form one table.
    similarity: float = Field(default=0.7, gt=0.0, le=1.0)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise ConfigError(
                f"invalid crawl options: {validation_problems(err, 'options')}",
                fix="use convert, schema_policy (update|log|add_columns), removed_policy "
                "(delete|deprecate|log), table_prefix, sample_rows, new_folders_only, similarity",
            ) from None
