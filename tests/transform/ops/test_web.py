"""WEB operations on DuckDB."""

from __future__ import annotations

from tests.transform.ops.f_helpers import column


def test_ip_to_int_and_back() -> None:
    ips = {"ip": ["192.168.1.1", " 10.0.0.250 ", "256.1.1.1", "1.2.3", "x", None]}
    ints = column(ips, "IP_TO_INT", sourceColumn="ip")
    assert ints == [3232235777, 167772410, None, None, None, None]
    back = column({"n": [3232235777, 167772410, -1, 4294967296, None]}, "INT_TO_IP",
                  sourceColumn="n")  # fmt: skip
    assert back == ["192.168.1.1", "10.0.0.250", None, None, None]
    assert column({"n": [1]}, "INT_TO_IP", value="167772410") == ["10.0.0.250"]
    assert column({"n": [1]}, "IP_TO_INT", value="0.0.1.0") == [256]


def test_url_params_as_json_lists_in_first_seen_order() -> None:
    urls = {
        "u": [
            "https://example.com/?firstParam=answer&secondParam=42",
            "https://x.org/p?b=2&a=1&b=3#frag",
            "https://x.org/p?flag&e=",
            "https://x.org/p",
            None,
        ]
    }
    assert column(urls, "URL_PARAMS", sourceColumn="u") == [
        '{"firstParam":["answer"],"secondParam":["42"]}',
        '{"b":["2","3"],"a":["1"]}',
        '{"flag":[""],"e":[""]}',
        "{}",
        None,
    ]
