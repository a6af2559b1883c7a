"""Every error lakebed raises, under one root.

```
LakebedError
├── ConfigError            (also ValueError)    bad configuration or argument
├── NotFoundError          (also LookupError)   object, table, database, snapshot
├── AlreadyExistsError     (also ValueError)    create over something that exists
├── FormatError            (also ValueError)    unreadable, corrupt or unknown file format
├── SchemaError            (also ValueError)    schemas that cannot be reconciled
├── QueryError             (also ValueError)    invalid or failing SQL
├── StorageError           (also OSError)       the object store failed; ``transient`` says retry
│   └── ConflictError                            a concurrent commit conflicts; redo the work
└── MissingDependencyError (also ImportError)   an optional extra is not installed
```

Each message says what was wrong and, in ``fix``, how to put it right; ``str(err)`` shows both.
"""

from __future__ import annotations


class LakebedError(Exception):
    """Root of every lakebed error."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})" if self.fix else self.message


class ConfigError(LakebedError, ValueError):
    """Configuration or an argument is invalid."""


class NotFoundError(LakebedError, LookupError):
    """An object, table, database or snapshot does not exist."""


class AlreadyExistsError(LakebedError, ValueError):
    """Something with that name already exists."""


class FormatError(LakebedError, ValueError):
    """A file cannot be read or written in the format asked for."""


class SchemaError(LakebedError, ValueError):
    """Schemas cannot be merged or data does not fit a table's schema."""


class QueryError(LakebedError, ValueError):
    """A SQL statement is invalid or failed."""


class StorageError(LakebedError, OSError):
    """The object store failed; ``transient`` is True when retrying may succeed."""

    def __init__(self, message: str, *, fix: str | None = None, transient: bool = False) -> None:
        super().__init__(message, fix=fix)
        self.transient = transient


class ConflictError(StorageError):
    """Another writer's commit conflicts with this one (e.g. it removed files this write
    replaces); the work must be redone against the table's new state. Always transient."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message, fix=fix or "run it again", transient=True)


class MissingDependencyError(LakebedError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str | None = None) -> None:
        target = f"lakebed[{extra}]" if extra else package
        super().__init__(f"{package} is not installed", fix=f"pip install '{target}'")
