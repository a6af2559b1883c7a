"""Column formatting: numbers as formatted text, phone numbers in E.164.

NUMBER_FORMAT rounds half away from zero to ``decimalPlaces`` and then writes the digits with the
chosen separators, so both engines give the same text. FORMAT_PHONE_NUMBER is a dependency-free
E.164 formatter: it keeps the digits, adds the country calling code of ``defaultRegion`` (or the
region in ``defaultRegionColumn``) when the number has no leading ``+``, and checks the length
(8 to 15 digits; 10 national digits for North American numbers). Numbers that cannot be
formatted are left unchanged, as DataBrew does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import regex_replace, text_of
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote

CATEGORY = "formatting"

_UNITS = {"THOUSAND": 1e3, "MILLION": 1e6, "BILLION": 1e9, "TRILLION": 1e12}
_MARK = "\u0001"


@register
class NumberFormat(Operation):
    name = "NUMBER_FORMAT"
    category = CATEGORY
    doc = (
        "Format numbers as text: decimalPlaces, numericDecimalSeparator (. or ,), "
        "numericThousandSeparator (none, ',', ' ', '.', '\\\\'), and optionally divide by a "
        "numericAbbreviatedUnit (THOUSAND, MILLION, BILLION, TRILLION) and append "
        "numericUnitAbbreviation (e.g. K)."
    )
    params = {
        "sourceColumn": Param("column"),
        "decimalPlaces": Param("int", required=False, default=2),
        "numericDecimalSeparator": Param("choice", required=False, default=".", choices=(".", ",")),
        "numericThousandSeparator": Param("str", required=False),
        "numericAbbreviatedUnit": Param("str", required=False),
        "numericUnitAbbreviation": Param("str", required=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "price",
                "decimalPlaces": "1",
                "numericDecimalSeparator": ",",
                "numericThousandSeparator": ".",
            }
        },
        {
            "parameters": {
                "sourceColumn": "price",
                "decimalPlaces": "2",
                "numericAbbreviatedUnit": "THOUSAND",
                "numericUnitAbbreviation": "K",
                "numericThousandSeparator": ",",
            }
        },
    )

    @staticmethod
    def _thousands(p: Mapping[str, Any]) -> str:
        sep = p.get("numericThousandSeparator")
        return "" if sep in (None, "", "null") else str(sep).replace("\\\\", "\\")

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        t = schema.field(p["sourceColumn"]).type
        if not any(f(t) for f in (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)):
            raise ConfigError(
                f"NUMBER_FORMAT: column {p['sourceColumn']!r} is {t}, not a number",
                fix="convert it first with CHANGE_DATA_TYPE double",
            )
        if not 0 <= p["decimalPlaces"] <= 15:
            raise ConfigError("decimalPlaces must be 0..15", fix="give decimalPlaces 0 to 15")
        unit = p.get("numericAbbreviatedUnit")
        if unit not in (None, "", "null") and str(unit).upper() not in _UNITS:
            raise ConfigError(
                f"numericAbbreviatedUnit {unit!r} is not one of {', '.join(_UNITS)}",
                fix="pick one of " + ", ".join(_UNITS) + " or leave it out",
            )
        if self._thousands(p) == p["numericDecimalSeparator"]:
            raise ConfigError(
                "the thousand and decimal separators are the same",
                fix="pick different numericThousandSeparator and numericDecimalSeparator",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = p["decimalPlaces"]
        value = f"CAST({quote(p['sourceColumn'])} AS DOUBLE)"
        unit = p.get("numericAbbreviatedUnit")
        if unit not in (None, "", "null"):
            value = f"({value} / {_UNITS[str(unit).upper()]!r})"
        rounded = f"round({value}, {d})"
        rounded = f"CASE WHEN {rounded} = 0 THEN CAST(0 AS DOUBLE) ELSE {rounded} END"  # no -0
        if ctx.dialect == "spark":
            pattern = "#,##0" + ("." + "0" * d if d else "")
            text = f"format_number({rounded}, {literal(pattern)})"
        else:
            text = f"format({literal('{:,.' + str(d) + 'f}')}, {rounded})"
        # the engines write 1,234.5; swap in the requested separators
        decimal, thousands = literal(p["numericDecimalSeparator"]), literal(self._thousands(p))
        text = f"replace(replace({text}, ',', '{_MARK}'), '.', {decimal})"
        text = f"replace({text}, '{_MARK}', {thousands})"
        suffix = p.get("numericUnitAbbreviation")
        if suffix not in (None, "", "null"):
            text = f"({text} || {literal(suffix)})"
        return ctx.project(replace={p["sourceColumn"]: text})


# Country calling codes by ISO 3166 region (a common subset; NANP regions share code 1).
CALLING_CODES = {
    "US": "1", "CA": "1", "PR": "1", "GB": "44", "IE": "353", "FR": "33", "DE": "49",
    "ES": "34", "IT": "39", "PT": "351", "NL": "31", "BE": "32", "LU": "352", "CH": "41",
    "AT": "43", "DK": "45", "SE": "46", "NO": "47", "FI": "358", "IS": "354", "PL": "48",
    "CZ": "420", "SK": "421", "HU": "36", "RO": "40", "BG": "359", "GR": "30", "TR": "90",
    "RU": "7", "UA": "380", "IL": "972", "AE": "971", "SA": "966", "EG": "20", "ZA": "27",
    "NG": "234", "KE": "254", "IN": "91", "PK": "92", "CN": "86", "HK": "852", "TW": "886",
    "JP": "81", "KR": "82", "SG": "65", "MY": "60", "TH": "66", "VN": "84", "ID": "62",
    "PH": "63", "AU": "61", "NZ": "64", "MX": "52", "BR": "55", "AR": "54", "CL": "56",
    "CO": "57", "PE": "51",
}  # fmt: skip


@register
class FormatPhoneNumber(Operation):
    name = "FORMAT_PHONE_NUMBER"
    category = CATEGORY
    doc = (
        "Format phone numbers as E.164 (+<country code><number>). Numbers without a leading + "
        "get the calling code of defaultRegion (or of the ISO region code in "
        "defaultRegionColumn). Values that cannot be formatted stay as they are."
    )
    params = {
        "sourceColumn": Param("column"),
        "phoneNumberFormat": Param("choice", required=False, default="E164", choices=("E164",)),
        "defaultRegion": Param("str", required=False, doc="e.g. US"),
        "defaultRegionColumn": Param("column", required=False),
    }
    examples = (
        {"parameters": {"sourceColumn": "phone", "defaultRegion": "US"}},
        {"parameters": {"sourceColumn": "phone"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p.get("defaultRegion") and p.get("defaultRegionColumn"):
            raise ConfigError(
                "give at most one of defaultRegion and defaultRegionColumn",
                fix="drop one of them",
            )
        region = p.get("defaultRegion")
        if region and region.upper() not in CALLING_CODES:
            raise ConfigError(
                f"defaultRegion {region!r} is not a region lakebed knows",
                fix="use an ISO 3166 code such as "
                + ", ".join(sorted(CALLING_CODES)[:12])
                + ", ...",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        raw = text_of(ctx, col)
        digits = regex_replace(ctx, raw, "[^0-9]", "''")
        plus = f"regexp_matches(trim({raw}), '^[+]')"
        e164 = f"('+' || {digits})"
        valid = f"length({digits}) BETWEEN 8 AND 15"
        if p.get("defaultRegion"):
            code: str | None = literal(CALLING_CODES[p["defaultRegion"].upper()])
        elif p.get("defaultRegionColumn"):
            region = f"upper(trim({text_of(ctx, p['defaultRegionColumn'])}))"
            whens = " ".join(
                f"WHEN {literal(r)} THEN {literal(c)}" for r, c in CALLING_CODES.items()
            )
            code = f"CASE {region} {whens} END"
        else:
            code = None
        cases = [f"WHEN {plus} AND {valid} THEN {e164}"]
        if code is not None:
            national = f"regexp_replace({digits}, '^0', '')"
            nanp = (
                f"WHEN {code} = '1' AND length({digits}) = 11 AND left({digits}, 1) = '1' "
                f"THEN ('+' || {digits}) "
                f"WHEN {code} = '1' AND length({digits}) = 10 THEN ('+1' || {digits}) "
                f"WHEN {code} = '1' THEN NULL "
            )
            full = f"({code} || {national})"
            other = f"WHEN length({full}) BETWEEN 8 AND 15 THEN ('+' || {full})"
            cases.append(f"WHEN NOT {plus} THEN CASE {nanp}{other} END")
        expr = f"coalesce(CASE {' '.join(cases)} END, {raw})"
        return ctx.project(replace={col: expr})
