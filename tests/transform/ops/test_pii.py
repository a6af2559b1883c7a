"""PII operations (pii.py, pii_more.py): hashes, masks, random replacement, shuffling, redaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import Counter

import pytest
from tests.transform.ops.g_helpers import run, values

from lakebed.transform.recipe import RecipeError

D = {"e": ["ann@example.com", "bob@test.org", None], "n": [7, 8, 9]}


def test_plain_hashes_match_hashlib() -> None:
    for algorithm, fn in (("SHA256", hashlib.sha256), ("SHA1", hashlib.sha1), ("MD5", hashlib.md5)):
        out = run(D, "CRYPTOGRAPHIC_HASH", sourceColumns='["e", "n"]', algorithm=algorithm)
        assert out.column("e").to_pylist() == [
            fn(b"ann@example.com").hexdigest(),
            fn(b"bob@test.org").hexdigest(),
            None,
        ]
        assert out.column("n").to_pylist()[0] == fn(b"7").hexdigest()


def test_hmac_uses_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "k" * 80  # longer than a block: hashed first, as RFC 2104 says
    monkeypatch.setenv("LB_TEST_HASH_KEY", key)
    got = values(D, "CRYPTOGRAPHIC_HASH", "e", sourceColumns='["e"]', secretId="LB_TEST_HASH_KEY")
    assert got[0] == hmac.new(key.encode(), b"ann@example.com", hashlib.sha256).hexdigest()
    got = values(
        D, "CRYPTOGRAPHIC_HASH", "e", sourceColumns='["e"]', algorithm="HMAC_MD5", secret="abc"
    )
    assert got[1] == hmac.new(b"abc", b"bob@test.org", hashlib.md5).hexdigest()


def test_hmac_without_a_key_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LB_NO_SUCH_KEY", raising=False)
    with pytest.raises(RecipeError, match="LB_NO_SUCH_KEY"):
        run(D, "CRYPTOGRAPHIC_HASH", sourceColumns='["e"]', secretId="LB_NO_SUCH_KEY")
    with pytest.raises(RecipeError, match="needs a key"):
        run(D, "CRYPTOGRAPHIC_HASH", sourceColumns='["e"]')


def test_masks() -> None:
    assert values(D, "MASK_CUSTOM", "e", sourceColumns='["e"]', customValue="example") == [
        "ann@#######.com",
        "bob@test.org",
        None,
    ]
    assert (
        values(
            D,
            "MASK_CUSTOM",
            "e",
            sourceColumns='["e"]',
            customValue="[a-z]+",
            regex="true",
            maskSymbol="*",
        )[0]
        == "*@*.*"
    )
    assert values(
        D, "MASK_RANGE", "e", sourceColumns='["e"]', start="1", stop="-4", alphabet='["SYMBOLS"]'
    ) == ["a##@#######.com", "b##@####.org", None]
    assert values(
        D, "MASK_DELIMITER", "e", sourceColumns='["e"]', startDelimiter="@", endDelimiter="."
    ) == ["ann@#######.com", "bob@####.org", None]
    assert (
        values(
            D,
            "MASK_DELIMITER",
            "e",
            sourceColumns='["e"]',
            startDelimiter="@",
            preserveDelimiters="false",
        )[1]
        == "bob#########"
    )
    with pytest.raises(RecipeError, match="maskSymbol"):
        run(D, "MASK_RANGE", sourceColumns='["e"]', maskSymbol="##")


def test_mask_date() -> None:
    data = {
        "d": [dt.date(2024, 3, 5), None],
        "t": [dt.datetime(2024, 3, 5, 14, 7, 9), None],
        "s": ["2024-03-05", "bad"],
    }
    out = run(data, "MASK_DATE", sourceColumns='["d", "t", "s"]', redact='["YEAR", "SECOND"]')
    assert out.to_pydict() == {
        "d": ["####-03-05", None],
        "t": ["####-03-05 14:07:##", None],
        "s": ["####-03-05", None],
    }


def test_random_replacements_are_seeded_and_in_range() -> None:
    data = {"n": [*range(200), None]}
    first = values(
        data,
        "REPLACE_WITH_RANDOM_BETWEEN",
        "n",
        sourceColumns='["n"]',
        lowerBound="1",
        upperBound="6",
    )
    again = values(
        data,
        "REPLACE_WITH_RANDOM_BETWEEN",
        "n",
        sourceColumns='["n"]',
        lowerBound="1",
        upperBound="6",
    )
    other = values(
        data,
        "REPLACE_WITH_RANDOM_BETWEEN",
        "n",
        sourceColumns='["n"]',
        lowerBound="1",
        upperBound="6",
        seed="9",
    )
    assert first == again != other
    assert set(first[:-1]) == {1, 2, 3, 4, 5, 6} and first[-1] is None
    dates = values(
        data,
        "REPLACE_WITH_RANDOM_DATE_BETWEEN",
        "n",
        sourceColumns='["n"]',
        startDate="2020-01-01",
        endDate="2020-01-03",
    )
    assert set(dates[:-1]) == {dt.date(2020, 1, d) for d in (1, 2, 3)}
    stamps = values(
        data,
        "REPLACE_WITH_RANDOM_DATE_BETWEEN",
        "n",
        sourceColumns='["n"]',
        startDate="2020-01-01 00:00:00",
        endDate="2020-01-01 00:00:30",
    )
    assert all(
        dt.datetime(2020, 1, 1) <= s <= dt.datetime(2020, 1, 1, 0, 0, 30) for s in stamps[:-1]
    )


def test_shuffle_rows_permutes_values_within_groups() -> None:
    data = {"v": list(range(40)), "g": ["a", "b"] * 20, "k": list(range(40))}
    out = run(data, "SHUFFLE_ROWS", sourceColumns='["v"]', groupByColumns='["g"]', seed="1")
    v, g, k = (out.column(c).to_pylist() for c in ("v", "g", "k"))
    assert k == list(range(40))  # other columns stay
    assert v != list(range(40))
    assert Counter(v) == Counter(range(40))
    assert all((x % 2 == 0) == (grp == "a") for x, grp in zip(v, g, strict=True))


def test_redact() -> None:
    assert values(D, "REDACT", "e", sourceColumns='["e"]') == ["[REDACTED]", "[REDACTED]", None]
    assert values(D, "REDACT", "e", sourceColumns='["e"]', pattern="@[^.]+", replacement="@…") == [
        "ann@….com",
        "bob@….org",
        None,
    ]
