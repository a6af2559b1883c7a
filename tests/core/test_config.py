"""Configuration resolves arguments over environment over file, and rejects unknown keys."""

from pathlib import Path

import pytest

from lakebed import ConfigError, resolve_config


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lakebed.toml"
    path.write_text(text)
    return path


def test_defaults_are_a_local_folder_with_a_sqlite_catalog(tmp_path: Path) -> None:
    config = resolve_config(tmp_path / "lake", env={})
    assert config.is_local
    assert config.local_root == (tmp_path / "lake").resolve()
    assert (
        config.catalog_url()
        == f"sqlite:///{(tmp_path / 'lake' / '_catalog' / 'catalog.db').resolve()}"
    )


def test_arguments_beat_environment_which_beats_the_file(tmp_path: Path) -> None:
    file = write_toml(
        tmp_path,
        'root = "/from/file"\ncatalog = "sqlite:///file.db"\n'
        '[s3]\nregion = "eu-west-1"\nendpoint_url = "http://file:1"\n',
    )
    env = {"LAKEBED_LAKE": "s3://env-bucket/lake", "LAKEBED_S3_ENDPOINT_URL": "http://env:2"}
    config = resolve_config(config_file=file, env=env)
    assert config.root == "s3://env-bucket/lake"
    assert config.catalog == "sqlite:///file.db"
    assert config.s3.endpoint_url == "http://env:2"
    assert config.s3.region == "eu-west-1"

    config = resolve_config("/from/argument", config_file=file, env=env, catalog="postgresql://x/y")
    assert config.root == "/from/argument"
    assert config.catalog == "postgresql://x/y"


def test_environment_names_the_config_file(tmp_path: Path) -> None:
    file = write_toml(tmp_path, '[query]\ndialect = "athena"\n')
    config = resolve_config(env={"LAKEBED_CONFIG": str(file)})
    assert config.query.dialect == "athena"


def test_unknown_keys_are_rejected_with_their_name(tmp_path: Path) -> None:
    file = write_toml(tmp_path, '[s3]\nendpoint = "http://typo"\n')
    with pytest.raises(ConfigError, match=r"s3\.endpoint"):
        resolve_config(config_file=file, env={})


def test_bad_values_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_concurrency"):
        resolve_config(env={"LAKEBED_S3_MAX_CONCURRENCY": "many"})
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_config(env={"LAKEBED_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigError, match="unsupported storage URL"):
        resolve_config("gs://bucket", env={})


def test_object_store_lake_keeps_its_default_catalog_outside_the_bucket() -> None:
    config = resolve_config("s3://bucket/prefix", env={})
    assert not config.is_local
    assert config.catalog_url().startswith("sqlite:///")
    assert "/.lakebed/catalogs/" in config.catalog_url()
