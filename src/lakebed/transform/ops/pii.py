"""PII: hash, mask, redact, replace with random values, shuffle.

Randomness is seeded (``seed``, a lakebed parameter, 0 by default) and derived from each row's
position, so DuckDB and Spark produce the same values. Hashes are lower-case hex of the value's
text in UTF-8; HMAC keys come from the environment variable named by ``secretId``, so they stay
out of the recipe (the lakebed parameter ``secret`` puts the key in the recipe: for tests and
throw-away data only). Masks keep the value's length.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import (
    SPECIAL,
    char_class,
    check_regex,
    escape_regex,
    regex_replace,
    replacement,
    text_of,
)
from lakebed.transform.ops.base import Ctx, Operation, Param, literal

CATEGORY = "pii"
_HASHES = {"MD5": ("md5", 64), "SHA1": ("sha1", 64), "SHA256": ("sha256", 64)}
_SOURCES = Param("columns", doc="the columns to change")
_SYMBOL = Param("str", required=False, default="#", doc="the masking character")
_ALPHABET = Param("json", required=False, doc='character sets to keep: ["SYMBOLS", "WHITESPACE"]')


def _hash(fn: str, blob: str) -> str:
    return f"{fn}({blob})"


@register
class CryptographicHash(Operation):
    name = "CRYPTOGRAPHIC_HASH"
    category = CATEGORY
    doc = (
        "Replace values with a hash of their text: MD5, SHA1, SHA256, or keyed HMAC_MD5, "
        "HMAC_SHA1, HMAC_SHA256 (the default). The HMAC key is read from the environment "
        "variable named by secretId (or given as the lakebed parameter secret)."
    )
    params = {
        "sourceColumns": _SOURCES,
        "algorithm": Param(
            "choice",
            required=False,
            default="HMAC_SHA256",
            choices=(*_HASHES, *(f"HMAC_{h}" for h in _HASHES)),
        ),
        "secretId": Param("str", required=False, doc="environment variable holding the key"),
        "secret": Param("str", required=False, doc="the key itself (lakebed)"),
        "secretVersion": Param("str", required=False, doc="ignored"),
        "createSecretIfMissing": Param("bool", required=False, default=False),
    }
    examples = (
        {"parameters": {"sourceColumns": '["email", "qty"]', "algorithm": "SHA256"}},
        {
            "parameters": {
                "sourceColumns": '["email"]',
                "algorithm": "HMAC_SHA256",
                "secret": "s3cr3t",
            }
        },
        {"parameters": {"sourceColumns": '["name"]', "algorithm": "MD5"}},
    )

    def _key(self, p: Mapping[str, Any]) -> bytes:
        if p.get("secret"):
            return str(p["secret"]).encode()
        ident = p.get("secretId")
        if not ident:
            raise ConfigError(
                f"{p['algorithm']} needs a key",
                fix="set secretId to the name of an environment variable holding the key",
            )
        var = ident[4:] if ident.startswith("env:") else ident
        value = os.environ.get(var)
        if not value:
            raise ConfigError(
                f"secretId {ident!r}: environment variable {var!r} is not set",
                fix=f"export {var}=<key> before running the recipe",
            )
        return value.encode()

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p["algorithm"].startswith("HMAC_"):
            self._key(p)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        algorithm = p["algorithm"]
        fn, block = _HASHES[algorithm.removeprefix("HMAC_")]
        replace = {}
        for col in p["sourceColumns"]:
            message = f"encode({text_of(ctx, col)})"
            if algorithm.startswith("HMAC_"):
                key = self._key(p)
                if len(key) > block:
                    key = hashlib.new(fn, key).digest()
                key = key.ljust(block, b"\0")
                ipad = bytes(b ^ 0x36 for b in key).hex()
                opad = bytes(b ^ 0x5C for b in key).hex()
                inner = _hash(fn, f"(unhex('{ipad}') || {message})")
                expr = _hash(fn, f"(unhex('{opad}') || unhex({inner}))")
            else:
                expr = _hash(fn, message)
            replace[col] = f"lower({expr})"
        return ctx.project(replace=replace)


def _keep_class(alphabet: Any) -> str:
    """A regex matching one character to mask (everything but the kept sets)."""
    kept = ""
    for name in alphabet or []:
        upper = str(name).upper()
        if upper == "SYMBOLS":
            kept += char_class(SPECIAL)
        elif upper == "WHITESPACE":
            kept += " \\t\\n\\r\\f"
        else:
            raise ConfigError(
                f"alphabet entry {name!r} is not SYMBOLS or WHITESPACE",
                fix='give alphabet as ["SYMBOLS", "WHITESPACE"] or leave it out',
            )
    return f"[^{kept}]" if kept else "(?s:.)"


def _mask(ctx: Ctx, expr: str, symbol: str, alphabet: Any) -> str:
    return regex_replace(ctx, expr, _keep_class(alphabet), replacement(ctx, symbol))


class _Masking(Operation):
    category = CATEGORY

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        raise NotImplementedError

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if len(p.get("maskSymbol") or "") != 1:
            raise ConfigError("maskSymbol must be one character", fix='give maskSymbol as "#"')
        _keep_class(p.get("alphabet"))

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return ctx.project(
            replace={c: self.expr(p, ctx, text_of(ctx, c)) for c in p["sourceColumns"]}
        )


@register
class MaskCustom(_Masking):
    name = "MASK_CUSTOM"
    doc = (
        "Mask every occurrence of customValue (character by character), or with regex true "
        "every match of customValue as a regular expression (one symbol per match)."
    )
    params = {
        "sourceColumns": _SOURCES,
        "maskSymbol": _SYMBOL,
        "customValue": Param("str"),
        "regex": Param("bool", required=False, default=False),
    }
    examples = (
        {"parameters": {"sourceColumns": '["email"]', "customValue": "example"}},
        {
            "parameters": {
                "sourceColumns": '["phone"]',
                "customValue": "[0-9]",
                "regex": "true",
                "maskSymbol": "*",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["regex"]:
            check_regex(p["customValue"], "customValue", self.name)
        elif not p["customValue"]:
            raise ConfigError("MASK_CUSTOM: customValue is empty", fix="give the text to mask")

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        value, symbol = p["customValue"], p["maskSymbol"]
        if p["regex"]:
            return regex_replace(ctx, s, value, replacement(ctx, symbol))
        return f"replace({s}, {literal(value)}, {literal(symbol * len(value))})"


@register
class MaskRange(_Masking):
    name = "MASK_RANGE"
    doc = (
        "Mask characters from start (counted from 0, inclusive) to stop (exclusive); negative "
        "positions count from the end; keep characters of the alphabet sets."
    )
    params = {
        "sourceColumns": _SOURCES,
        "maskSymbol": _SYMBOL,
        "start": Param("int", required=False),
        "stop": Param("int", required=False),
        "alphabet": _ALPHABET,
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["phone"]',
                "start": "0",
                "stop": "-4",
                "alphabet": '["SYMBOLS", "WHITESPACE"]',
            }
        },
        {"parameters": {"sourceColumns": '["name", "city"]', "maskSymbol": "*", "start": "1"}},
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        n = f"length({s})"

        def bound(value: int | None, default: str) -> str:
            if value is None:
                return default
            raw = str(value) if value >= 0 else f"{n} - {-value}"
            return f"greatest(least({raw}, {n}), 0)"

        a = bound(p.get("start"), "0")
        b = f"greatest({bound(p.get('stop'), n)}, {a})"
        middle = _mask(ctx, f"substr({s}, {a} + 1, {b} - {a})", p["maskSymbol"], p.get("alphabet"))
        return f"(substr({s}, 1, {a}) || {middle} || substr({s}, {b} + 1))"


@register
class MaskDelimiter(_Masking):
    name = "MASK_DELIMITER"
    doc = (
        "Mask the characters between startDelimiter and endDelimiter (first occurrence; from "
        "the start or to the end when one is left out). preserveDelimiters (default true) "
        "leaves the delimiters visible. Values without the delimiters are unchanged."
    )
    params = {
        "sourceColumns": _SOURCES,
        "maskSymbol": _SYMBOL,
        "startDelimiter": Param("str", required=False),
        "endDelimiter": Param("str", required=False),
        "preserveDelimiters": Param("bool", required=False, default=True),
        "alphabet": _ALPHABET,
    }
    examples = (
        {"parameters": {"sourceColumns": '["email"]', "startDelimiter": "@", "endDelimiter": "."}},
        {
            "parameters": {
                "sourceColumns": '["phone"]',
                "startDelimiter": "(",
                "endDelimiter": ")",
                "preserveDelimiters": "false",
            }
        },
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        start, end = p.get("startDelimiter") or "", p.get("endDelimiter") or ""
        any_ = "(?s:.)"
        pattern = (
            f"^({any_}*?)({escape_regex(start) if start else '^'})({any_}*?)"
            f"({escape_regex(end) if end else '$'})({any_}*)$"
        )
        lit = literal(pattern)

        def g(n: int) -> str:
            return f"regexp_extract({s}, {lit}, {n})"

        sym, alphabet = p["maskSymbol"], p.get("alphabet")
        delims = (g(2), g(4))
        if not p["preserveDelimiters"]:
            delims = (_mask(ctx, g(2), sym, alphabet), _mask(ctx, g(4), sym, alphabet))
        masked = (
            f"({g(1)} || {delims[0]} || {_mask(ctx, g(3), sym, alphabet)} || {delims[1]} || {g(5)})"
        )
        return f"CASE WHEN regexp_matches({s}, {lit}) THEN {masked} ELSE {s} END"
