"""The foundation summary: per network and quarter, what the lake holds, read with DuckDB.

Amounts are summed as exact integers (HUGEINT over the lossless decimal strings) and scaled
by the token's decimals with Python's Decimal, so no float ever touches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path

import duckdb

from depinrev.config import Config
from depinrev.lake import DATASETS

# (dataset, amount column) pairs the summary totals.
_AMOUNTS: list[tuple[str, str]] = [
    ("lease_payments", "amount"),
    ("lease_payments", "take_amount"),
    ("service_fees", "amount"),
    ("token_burns", "amount"),
    ("token_mints", "amount"),
]


@dataclass(frozen=True)
class SummaryRow:
    network: str
    quarter: str
    dataset: str
    event: str
    measure: str
    token: str
    events: int
    raw_amount: int
    amount: Decimal


def summarize(lake_root: str | Path, config: Config) -> list[SummaryRow]:
    root = Path(lake_root)
    con = duckdb.connect()
    rows: list[SummaryRow] = []
    for dataset, column in _AMOUNTS:
        if not any((root / dataset).glob("network=*/chain_id=*/*.parquet")):
            continue
        assert dataset in DATASETS
        glob = str(root / dataset / "network=*" / "chain_id=*" / "*.parquet")
        result = con.execute(
            f"""
            SELECT network,
                   strftime(to_timestamp(block_timestamp) AT TIME ZONE 'UTC', '%Y')
                     || 'Q' || quarter(to_timestamp(block_timestamp) AT TIME ZONE 'UTC') AS q,
                   event, token, count(*) AS n,
                   sum(CAST({column}_str AS HUGEINT))::VARCHAR AS total
            FROM read_parquet(?, hive_partitioning = false)
            WHERE {column}_str IS NOT NULL
            GROUP BY ALL ORDER BY ALL
            """,
            [glob],
        ).fetchall()
        for network, quarter, event, token, n, total in result:
            decimals = config.tokens[token].decimals if token in config.tokens else 0
            raw = int(total)
            with localcontext() as ctx:
                ctx.prec = 100
                amount = Decimal(raw).scaleb(-decimals)
            rows.append(SummaryRow(network, quarter, dataset, event, column, token, n, raw, amount))
    con.close()
    return sorted(rows, key=lambda r: (r.network, r.quarter, r.dataset, r.event, r.measure))
