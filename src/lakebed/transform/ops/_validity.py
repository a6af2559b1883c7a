"""What makes a value *invalid* for a DataBrew ``columnDataType`` / ``advancedDataType``.

A missing value (NULL, blank) is never invalid: it is missing. Otherwise, per type:

- ``number``: text that is not a plain decimal number (``12``, ``-3.5``, ``1e3``; no thousands
  separators); in a numeric column, NaN and infinities.
- ``boolean``: text other than true/false (any case).
- ``date`` / ``timestamp``: text that the date parser (see ``_dates``) cannot read.
- ``string``: nothing, unless ``advancedDataType`` names a pattern (email, URL, IP address,
  phone number, zip code, SSN, credit card, date/time, currency, gender), and then text not
  matching it.

Patterns use only syntax that RE2 (DuckDB) and Java (Spark) read alike.
"""

from __future__ import annotations

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops._dates import parse_text
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops._stats import is_missing
from lakebed.transform.ops.base import Ctx, literal, quote

NUMBER = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
ADVANCED: dict[str, str] = {
    "EMAIL": "^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}$",
    "URL": "^(https?|ftp)://[A-Za-z0-9.-]+(:[0-9]+)?(/[^ ]*)?$",
    "IP_ADDRESS": "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}"
    "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$",
    "PHONE_NUMBER": "^[+]?[0-9 ().-]{7,20}$",
    "ZIP_CODE": "^[0-9]{5}(-[0-9]{4})?$",
    "SSN": "^[0-9]{3}-?[0-9]{2}-?[0-9]{4}$",
    "CREDIT_CARD": "^[0-9]([ -]?[0-9]){12,18}$",
    "CURRENCY": "^[$€£¥]? ?[+-]?[0-9]{1,3}(,?[0-9]{3})*([.][0-9]+)?$",
    "GENDER": "^(?i)(m|f|male|female|man|woman|non-binary|other)$",
}
_ALIASES = {
    "IP": "IP_ADDRESS",
    "IPADDRESS": "IP_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "PHONENUMBER": "PHONE_NUMBER",
    "ZIPCODE": "ZIP_CODE",
    "ZIP": "ZIP_CODE",
    "CREDITCARD": "CREDIT_CARD",
    "EMAILADDRESS": "EMAIL",
    "DATETIME": "DATE_TIME",
    "DATE": "DATE_TIME",
}
DATA_TYPES = ("string", "number", "boolean", "date", "timestamp", "unsupported")


def advanced_name(raw: str) -> str:
    """The canonical advanced type for a DataBrew spelling (``Email``, ``Phone Number``...)."""
    key = raw.strip().upper().replace(" ", "_")
    key = _ALIASES.get(key.replace("_", ""), key)
    if key not in ADVANCED and key != "DATE_TIME":
        raise ConfigError(
            f"advancedDataType {raw!r} is not one lakebed checks",
            fix="use one of " + ", ".join([*ADVANCED, "DATE_TIME"]),
        )
    return key


def matches(d: Dual, text: str, kind: str) -> str:
    """Predicate: text expression ``text`` is a value of advanced type ``kind``."""
    if kind == "DATE_TIME":
        return f"({parse_text(d, text)} IS NOT NULL)"
    return f"coalesce(regexp_matches(trim({text}), {literal(ADVANCED[kind])}), FALSE)"


def invalid(d: Dual, ctx: Ctx, col: str, data_type: str, advanced: str | None = None) -> str:
    """Predicate: the non-missing value of ``col`` is invalid for ``data_type``."""
    c = quote(col)
    missing = is_missing(ctx, col)
    t = ctx.type_of(col)
    text = f"CAST({c} AS VARCHAR)"
    if advanced:
        test = f"NOT {matches(d, text, advanced_name(advanced))}"
    elif data_type == "number":
        if pa.types.is_floating(t):
            return f"coalesce(abs({c}) = CAST('Infinity' AS DOUBLE), FALSE)"
        if ctx.is_numeric(col):
            return "FALSE"
        test = f"NOT coalesce(regexp_matches(trim({text}), {literal(NUMBER)}), FALSE)"
    elif data_type == "boolean":
        if pa.types.is_boolean(t):
            return "FALSE"
        test = f"lower(trim({text})) NOT IN ('true', 'false')"
    elif data_type in ("date", "timestamp"):
        if ctx.is_temporal(col):
            return "FALSE"
        test = f"({parse_text(d, text)} IS NULL)"
    else:
        return "FALSE"
    return f"(NOT {missing} AND {test})"


def valid_number(ctx: Ctx, col: str) -> str:
    """``col`` as DOUBLE where it is a valid number, else NULL."""
    c = quote(col)
    if ctx.is_numeric(col):
        return f"CAST({c} AS DOUBLE)"
    text = f"trim(CAST({c} AS VARCHAR))"
    return (
        f"CASE WHEN regexp_matches({text}, {literal(NUMBER)}) THEN TRY_CAST({text} AS DOUBLE) END"
    )
