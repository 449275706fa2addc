"""Bulk decoding: exact uint256/int256, response parsing on both paths."""

from __future__ import annotations

import numpy as np
import orjson
import polars as pl
import pytest

from indexers.evm.decode import (
    DecodeError,
    int256_columns,
    normalize,
    parse_logs_body,
    uint256_columns,
    words,
)


def _words(values: list[int], signed: bool = False) -> np.ndarray:
    hexes = [(v % (1 << 256)).to_bytes(32, "big").hex() for v in values]
    return words(pl.Series(hexes))


@pytest.mark.parametrize(
    "value",
    [0, 1, 10**18, 10**38 - 1, 10**38, 2**127, 2**128, 2**255, 2**256 - 1],
)
def test_uint256_is_exact_and_never_truncated(value):
    dec, strings = uint256_columns(_words([value, 7]))
    assert strings.to_pylist() == [str(value), "7"]
    if value < 10**38:
        assert int(dec[0].as_py()) == value
    else:
        assert dec[0].as_py() is None  # too large for decimal128(38,0): NULL, string exact
    assert int(dec[1].as_py()) == 7


def test_int256_keeps_sign():
    dec, strings = int256_columns(_words([-5, 2**200, -(2**255)]))
    assert strings.to_pylist() == ["-5", str(2**200), str(-(2**255))]
    assert int(dec[0].as_py()) == -5
    assert dec[1].as_py() is None


def test_invalid_hex_is_an_error_not_a_zero():
    with pytest.raises(Exception, match=r"(?i)hex|decode"):
        words(pl.Series(["zz" * 32]))


LOG = {
    "address": "0xAbC0000000000000000000000000000000000001",
    "topics": ["0x" + "ab" * 32, "0x" + "00" * 12 + "11" * 20],
    "data": "0x" + "00" * 31 + "05",
    "blockNumber": "0x10",
    "blockHash": "0x" + "cd" * 32,
    "transactionHash": "0x" + "ef" * 32,
    "transactionIndex": "0x2",
    "logIndex": "0x1f",
    "removed": False,
}


def test_compact_and_pretty_bodies_parse_the_same():
    compact = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": [LOG, LOG]})
    pretty = orjson.dumps(
        {"id": 1, "result": [LOG, LOG], "jsonrpc": "2.0"}, option=orjson.OPT_INDENT_2
    )
    a, b = normalize(parse_logs_body(compact)), normalize(parse_logs_body(pretty))
    assert a.equals(b)
    row = a.row(0, named=True)
    assert row["block_number"] == 16 and row["log_index"] == 31 and row["transaction_index"] == 2
    assert row["address"] == LOG["address"].lower()
    assert row["n_topics"] == 2 and row["topic2"] is None


def test_a_compact_body_is_read_in_place_by_arrow_with_the_exact_parsers_result(monkeypatch):
    import indexers.evm.decode as decode

    other = {**LOG, "logIndex": "0x20", "topics": [LOG["topics"][0]], "removed": True}
    body = orjson.dumps({"jsonrpc": "2.0", "id": 7, "result": [LOG, other, LOG]})
    exact = decode._parse_logs_slow(body, 7)

    def no_slow_path(body: bytes, request_id: int | None) -> None:
        raise AssertionError("a compact body took the exact (orjson) path")

    monkeypatch.setattr(decode, "_parse_logs_slow", no_slow_path)
    fast = parse_logs_body(body, 7)
    assert fast.schema == exact.schema and fast.equals(exact) and fast.num_rows == 3


@pytest.mark.parametrize("element", [None, 1, "0x1", [], {"data": {"nested": 1}}])
def test_a_result_element_that_is_not_a_log_object_is_refused(element):
    body = orjson.dumps({"jsonrpc": "2.0", "id": 3, "result": [LOG, element, LOG]})
    with pytest.raises(DecodeError, match=r"not a list of objects|wrong shape"):
        parse_logs_body(body, 3)


def test_empty_result_and_missing_result():
    assert parse_logs_body(b'{"jsonrpc":"2.0","id":1,"result":[]}').num_rows == 0
    with pytest.raises(DecodeError, match="no result"):
        parse_logs_body(b'{"jsonrpc":"2.0","id":1}')
