"""Advanced data types: flag, filter, extract details, detect the column's type."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table(
    {
        "url": ["https://shop.example.co.uk/a?b=1", "ftp://files.test.org", "not a url", None],
        "card": ["4111 1111 1111 1111", "3782-822463-10005", "5500000000000004", "12"],
        "phone": ["+1 (555) 123-4567", "555.987.6543", "+44 20 7946 0958", "12345"],
        "mail": ["a@Example.com", "b@test.org", "nope", None],
    }
)


def extract(column: str, kind: str, pattern: str) -> list[str | None]:
    return col(
        [
            step(
                "EXTRACT_ADVANCED_DATATYPE_DETAILS",
                sourceColumn=column,
                advancedDataType=kind,
                pattern=pattern,
                targetColumn="d",
            )
        ],
        "d",
        DATA,
    )


def test_url_details() -> None:
    assert extract("url", "URL", "PROTOCOL") == ["https", "ftp", None, None]
    assert extract("url", "URL", "DOMAIN") == ["co.uk", "test.org", None, None]
    assert extract("url", "URL", "TLD") == ["uk", "org", None, None]


def test_credit_card_and_phone_details() -> None:
    assert extract("card", "Credit Card", "NETWORK") == [
        "Visa",
        "American Express",
        "Mastercard",
        None,
    ]
    assert extract("card", "Credit Card", "LENGTH") == ["16", "15", "16", None]
    assert extract("phone", "Phone Number", "AREA_CODE") == ["555", "555", None, None]
    assert extract("phone", "Phone", "COUNTRY_CODE") == ["1", None, "44", None]
    assert extract("mail", "Email", "DOMAIN") == ["example.com", "test.org", None, None]


def test_flag_with_filter_values() -> None:
    out = col(
        [
            step(
                "ADVANCED_DATATYPE_FLAG",
                sourceColumn="card",
                advancedDataType="Credit Card",
                pattern="NETWORK",
                filterValues='["Visa", "Mastercard"]',
                targetColumn="f",
            )
        ],
        "f",
        DATA,
    )
    assert out == ["True", "False", "True", "False"]


def test_filter_strategies() -> None:
    kept = run(
        [step("ADVANCED_DATATYPE_FILTER", sourceColumn="mail", advancedDataType="Email")], DATA
    )
    assert kept.column("mail").to_pylist() == ["a@Example.com", "b@test.org"]
    cleared = col(
        [
            step(
                "ADVANCED_DATATYPE_FILTER",
                sourceColumn="mail",
                advancedDataType="Email",
                strategy="CLEAR_OTHERS",
            )
        ],
        "mail",
        DATA,
    )
    assert cleared == ["a@Example.com", "b@test.org", None, None]


def test_get_advanced_datatype_detects_the_majority_type() -> None:
    out = run([step("GET_ADVANCED_DATATYPE", sourceColumn="mail")], DATA)
    assert out.column("mail_advanced_data_type").to_pylist() == ["EMAIL"] * 4


def test_details_needing_reference_data_are_rejected() -> None:
    with pytest.raises(RecipeError, match="reference data"):
        extract("phone", "Phone", "TIME_ZONE")
