"""The devnet stand-ins' "reported" figures: what a company, an analyst or a dashboard would
publish about them, written beside the ledger as reported_figures.csv (the seed's header).

They are simulated and labelled so (basis `simulated`), and built so that the gap to the chain
is known: a rounded on-chain statistic (Render burns), a company figure with a declared off-chain
part (Aethir's fiat contracts), an annualized estimate that counts payments the chain never sees
(io.net buys back and burns half of them), and an accrued figure (Akash lease spend).
`depinrev build --reported-csv data/devnet/reported_figures.csv` loads them; the mart
fct_reported_vs_onchain sets them beside the indexed figures.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from devnet.scenario import AETHIR_NET_USD, IONET_WEEKLY_USD, YEAR_START, month_bounds

REPORTED_FILE = "reported_figures.csv"
COLUMNS = (
    "network", "period_kind", "period", "period_start", "period_end", "metric", "compare_with",
    "value", "unit", "basis", "source", "source_date", "notes",
)
SOURCE = "depinrev devnet simulator"

# Aethir-devnet: enterprise contracts invoiced and paid in fiat, on top of the on-chain service
# fees (AETHIR_NET_USD is what the simulator settles on chain each quarter).
AETHIR_OFFCHAIN_USD = (3_000_000, 3_600_000, 4_400_000, 5_200_000)
# io.net-devnet: the buy-and-burn spends this share of compute payments (the rest stays off chain).
IONET_BURN_SHARE = Decimal("0.5")
IONET_ESTIMATE_AS_OF = dt.date(2026, 1, 20)
# Akash-devnet: Console-style accrued lease spend for 2025Q3 (the simulator settles about this).
AKASH_ACCRUED_Q3_USD = 850_000


def _row(network: str, kind: str, period: str, start: dt.date, end: dt.date, metric: str,
         compare_with: str, value: Decimal | int, unit: str, notes: str) -> dict[str, str]:
    return {
        "network": network, "period_kind": kind, "period": period,
        "period_start": start.isoformat(), "period_end": end.isoformat(), "metric": metric,
        "compare_with": compare_with, "value": format(Decimal(value), "f"), "unit": unit,
        "basis": "simulated", "source": SOURCE, "source_date": "", "notes": notes,
    }


def _month(m: int) -> tuple[dt.date, dt.date]:
    lo, hi = month_bounds(m)
    return (dt.datetime.fromtimestamp(lo, dt.UTC).date(),
            dt.datetime.fromtimestamp(hi - 1, dt.UTC).date())


def _burned(ledger: list[dict[str, Any]], network: str, lo: int, hi: int) -> Decimal:
    raw = sum(int(r["amount"]) for r in ledger
              if r["network"] == network and r["event"] == "burn"
              and lo <= r["block_timestamp"] < hi)
    return Decimal(raw)


def simulated_figures(ledger: Iterable[dict[str, Any]], decimals: dict[str, int]
                      ) -> list[dict[str, str]]:
    """The reported figures of the devnet stand-ins, from the ledger and the scenario."""
    rows = list(ledger)
    out: list[dict[str, str]] = []
    # Render-devnet: burns per month and January-September, rounded to whole tokens as a
    # dashboard would publish them (the gap is the dropped fraction, under half a token).
    scale = Decimal(10) ** -decimals["rndr-dev"]
    for m in (1, 9):
        lo, hi = month_bounds(m)
        start, end = _month(m)
        whole = (_burned(rows, "render-devnet", lo, hi) * scale).quantize(
            Decimal(1), rounding=ROUND_HALF_UP)
        out.append(_row("render-devnet", "month", start.strftime("%Y-%m"), start, end,
                        "tokens_burned", "holders_revenue", whole, "RNDR",
                        "the month's burns, rounded to whole tokens"))
    lo, hi = month_bounds(1)[0], month_bounds(9)[1]
    whole = (_burned(rows, "render-devnet", lo, hi) * scale).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    out.append(_row("render-devnet", "range", "2025-01..2025-09", dt.date(2025, 1, 1),
                    dt.date(2025, 9, 30), "tokens_burned", "holders_revenue", whole, "RNDR",
                    "January-September burns, rounded to whole tokens"))
    # Aethir-devnet: quarterly revenue Q1-Q3 and the year, each the on-chain target plus the
    # fiat contracts; Q4 is published only inside the year.
    quarters = [("2025Q1", (1, 1), (3, 31)), ("2025Q2", (4, 1), (6, 30)),
                ("2025Q3", (7, 1), (9, 30))]
    for q, (label, (m0, d0), (m1, d1)) in enumerate(quarters):
        out.append(_row("aethir-devnet", "quarter", label, dt.date(2025, m0, d0),
                        dt.date(2025, m1, d1), "revenue", "fees",
                        AETHIR_NET_USD[q] + AETHIR_OFFCHAIN_USD[q], "USD",
                        f"includes {AETHIR_OFFCHAIN_USD[q]} USD of fiat contracts (off chain)"))
    out.append(_row("aethir-devnet", "year", "2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31),
                    "revenue", "fees", sum(AETHIR_NET_USD) + sum(AETHIR_OFFCHAIN_USD), "USD",
                    f"includes {sum(AETHIR_OFFCHAIN_USD)} USD of fiat contracts (off chain)"))
    # io.net-devnet: an analyst's annualized revenue: Q4 compute payments x 4, where the
    # payments are the scenario's weekly buy-and-burn (middle of its range) / IONET_BURN_SHARE.
    lo_usd, hi_usd = IONET_WEEKLY_USD
    q4_start = month_bounds(10)[0]
    q4_burn = sum(Decimal(lo_usd) + Decimal(hi_usd - lo_usd) * week / 52 for week in range(53)
                  if q4_start <= YEAR_START + week * 7 * 86_400)
    estimate = (q4_burn / IONET_BURN_SHARE * 4).quantize(Decimal(1))
    out.append(_row("ionet-devnet", "annualized", f"annualized as of {IONET_ESTIMATE_AS_OF}",
                    IONET_ESTIMATE_AS_OF, IONET_ESTIMATE_AS_OF, "annualized_revenue", "fees",
                    estimate, "USD", "compute payments, of which half is bought back and burned"))
    # Akash-devnet: accrued lease spend of Q3 (settled on chain as providers withdraw).
    out.append(_row("akash-devnet", "quarter", "2025Q3", dt.date(2025, 7, 1),
                    dt.date(2025, 9, 30), "lease_income", "fees", AKASH_ACCRUED_Q3_USD, "USD",
                    "accrued lease spend"))
    return out


def write_reported_figures(rows: list[dict[str, str]], path: Path) -> int:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)
    return len(rows)
