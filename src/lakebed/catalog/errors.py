"""Turning pyiceberg and database exceptions into lakebed errors that say the fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationError,
    ValidationException,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError as _SQLAlchemyError

from lakebed.errors import AlreadyExistsError, ConflictError, NotFoundError, StorageError


@contextmanager
def mapped_errors(subject: str) -> Iterator[None]:
    """Re-raise pyiceberg/SQLAlchemy failures about ``subject`` as lakebed errors."""
    try:
        yield
    except (CommitFailedException, ValidationException) as exc:
        raise ConflictError(
            f"{subject} was changed by another writer and the commit kept conflicting: {exc}",
            fix="retry the write",
        ) from exc
    except (NoSuchTableError, NoSuchNamespaceError) as exc:
        raise NotFoundError(f"{subject} does not exist: {exc}", fix="check the name") from exc
    except (TableAlreadyExistsError, NamespaceAlreadyExistsError) as exc:
        raise AlreadyExistsError(f"{subject} already exists", fix="pick another name") from exc
    except NamespaceNotEmptyError as exc:
        raise AlreadyExistsError(
            f"{subject} is not empty", fix="drop its tables first or pass cascade=True"
        ) from exc
    except ValidationError as exc:
        raise StorageError(f"{subject}: the catalog rejected the change: {exc}") from exc
    except OperationalError as exc:
        raise StorageError(
            f"the catalog database failed while working on {subject}: {exc.orig}",
            fix="check that the catalog database is reachable, then retry",
            transient=True,
        ) from exc
    except _SQLAlchemyError as exc:
        raise StorageError(
            f"the catalog database failed while working on {subject}: {exc}",
            fix="check the catalog database",
        ) from exc
