"""The recipe routes of the HTTP API, in process."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import lakebed
from lakebed.server import create_app
from lakebed.transform.sample import sample_table

STEPS = [
    {
        "Action": {
            "Operation": "DUPLICATE",
            "Parameters": {"sourceColumn": "price", "targetColumn": "p2"},
        }
    },
    {"sql": "SELECT id, p2 FROM input WHERE p2 > 12"},
]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    lake = lakebed.open(str(tmp_path / "lake"))
    lake.create_table("raw.people", sample_table())
    return TestClient(create_app(lake))


def test_operations_are_listed_with_examples(client: TestClient) -> None:
    ops = {op["operation"]: op for op in client.get("/recipes/operations").json()}
    assert ops["RENAME"]["parameters"]["sourceColumn"] == {"kind": "column", "required": True}
    assert all(op["example"] for op in ops.values())


def test_publish_preview_apply_and_split(client: TestClient) -> None:
    published = client.post("/recipes/tidy/versions", json={"steps": STEPS}).json()
    assert published["version"] == 1
    assert client.get("/recipes").json() == [{"name": "tidy", "latest": 1}]
    preview = client.post(
        "/recipes/apply", json={"recipe": "tidy", "source": "raw.people", "preview": 5}
    ).json()
    assert len(preview["before"]) == 5 and preview["after"] == []
    run = client.post(
        "/recipes/apply", json={"recipe": "tidy", "source": "raw.people", "into": "cur.p"}
    ).json()
    assert run["rows_out"] == 3 and run["into"] == "cur.p"
    split = client.post(
        "/tables/raw.people/split", json={"into": "ml.p", "ratios": {"a": 0.5, "b": 0.5}}
    ).json()
    assert split["rows"] == {"a": 10, "b": 10}


def test_bad_recipes_get_a_400_with_the_step(client: TestClient) -> None:
    response = client.post(
        "/recipes/apply",
        json={"steps": [{"Action": {"Operation": "NOPE"}}], "source": "raw.people"},
    )
    assert response.status_code == 400
    assert "step 1: operation 'NOPE'" in response.json()["message"]
    missing = client.get("/recipes/ghost")
    assert missing.status_code == 404
