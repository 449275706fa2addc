"""The row digest the second-endpoint reconciliation compares: order- and encoding-blind,
sensitive to every value of the lake columns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa

from depinrev.lake import DATASETS
from warehouse.audit.second_endpoint import rows_digest


def _rows() -> list[dict[str, Any]]:
    base = {"chain_id": 1, "network": "n", "source": "fees", "token": "t", "address": "0xaa",
            "block_hash": "0xbb", "block_timestamp": 100, "transaction_hash": "0xcc",
            "transaction_index": 0, "developer": "0xdd"}
    return [
        {**base, "event": "deposit", "block_number": 5, "log_index": 1, "nonce": 0,
         "amount": Decimal(10), "amount_str": "10"},
        {**base, "event": "withdraw", "block_number": 5, "log_index": 3, "nonce": 1,
         "amount": Decimal(4), "amount_str": "4"},
        {**base, "event": "deposit", "block_number": 9, "log_index": 0, "nonce": 2,
         "amount": None, "amount_str": str(10**40)},
    ]


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=DATASETS["service_fees"])


def test_digest_ignores_row_order_encoding_and_extra_columns() -> None:
    rows = _rows()
    a = rows_digest(_table(rows), "service_fees")
    shuffled = _table([rows[2], rows[0], rows[1]])
    encoded = shuffled.set_column(1, "network", shuffled["network"].dictionary_encode())
    with_file = encoded.append_column("lake_file", pa.array(["x.parquet"] * 3))
    assert rows_digest(with_file, "service_fees") == a


def test_digest_changes_with_any_value_or_a_missing_row() -> None:
    rows = _rows()
    a = rows_digest(_table(rows), "service_fees")
    changed = [dict(r) for r in rows]
    changed[1]["amount_str"] = "5"
    assert rows_digest(_table(changed), "service_fees") != a
    moved = [dict(r) for r in rows]
    moved[0]["block_hash"] = "0xee"
    assert rows_digest(_table(moved), "service_fees") != a
    assert rows_digest(_table(rows[:2]), "service_fees") != a
    empty = rows_digest(_table([]), "service_fees")
    assert empty != a and empty == rows_digest(_table([]), "service_fees")
