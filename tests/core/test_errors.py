"""One exception root; each error also behaves as the builtin it resembles."""

import pytest

import lakebed
from lakebed import errors


@pytest.mark.parametrize(
    ("kind", "builtin"),
    [
        (errors.ConfigError, ValueError),
        (errors.NotFoundError, LookupError),
        (errors.FormatError, ValueError),
        (errors.SchemaError, ValueError),
        (errors.QueryError, ValueError),
        (errors.StorageError, OSError),
        (errors.AlreadyExistsError, ValueError),
    ],
)
def test_errors_share_one_root_and_their_builtin(kind: type, builtin: type) -> None:
    err = kind("table db.t does not exist", fix="run `lakebed tables db`")
    assert isinstance(err, lakebed.LakebedError)
    assert isinstance(err, builtin)
    assert str(err) == "table db.t does not exist (fix: run `lakebed tables db`)"


def test_missing_dependency_names_the_extra() -> None:
    err = errors.MissingDependencyError("polars", extra="polars")
    assert isinstance(err, ImportError)
    assert "pip install 'lakebed[polars]'" in str(err)


def test_public_api_is_curated() -> None:
    assert sorted(lakebed.__all__) == sorted(set(lakebed.__all__))
    for name in lakebed.__all__:
        assert hasattr(lakebed, name), name
    assert lakebed.open.__doc__


def test_import_is_light_and_has_no_side_effects(tmp_path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, lakebed; "
        "print(sorted(m for m in ('pyarrow', 'duckdb', 'pyiceberg', 'boto3', 'fastapi') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []  # opening nothing, writing nothing
