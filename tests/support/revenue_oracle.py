"""The tests' own statement of the devnet revenue rules, independent of the code under test.

The shares are written out here (not read from the configuration or warehouse.rules), with the
label that takes each event's rounding remainder, and `split` applies them the documented way
(docs/networks.md, "Exact splits"): each label's share truncated toward zero, and the remainder
label gets the rest of trunc(amount x the sum of the split labels' shares), so the split labels
add up to fees exactly. Quarters come from timestamps with the calendar, not depinrev.quarters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction as F

Shares = tuple[dict[str, F], str | None]

# (network, event, amount field) -> (label -> share, the label taking the remainder)
DEVNET_SHARES: dict[tuple[str, str, str], Shares] = {
    ("akash-devnet", "payment_withdrawn", "amount"): (
        {"fees": F(1), "supply_side_revenue": F(1)}, "supply_side_revenue"),
    ("akash-devnet", "payment_withdrawn", "take_amount"): (
        {"fees": F(1), "protocol_revenue": F(1)}, "protocol_revenue"),
    ("render-devnet", "burn", "amount"): (
        {"fees": F(100, 95), "supply_side_revenue": F(5, 95), "holders_revenue": F(1)},
        "holders_revenue"),
    ("aethir-devnet", "deposit", "amount"): (
        {"fees": F(1), "supply_side_revenue": F(8, 10), "protocol_revenue": F(2, 10)},
        "supply_side_revenue"),
    ("aethir-devnet", "withdraw", "amount"): (
        {"fees": F(-1), "supply_side_revenue": F(-8, 10), "protocol_revenue": F(-2, 10)},
        "supply_side_revenue"),
    ("ionet-devnet", "burn", "amount"): ({"holders_revenue": F(1)}, "holders_revenue"),
}

# What the marts must show NULL for io.net (the devnet stand-in and mainnet), and why.
IONET_UNOBSERVABLE = ("fees", "supply_side_revenue", "revenue", "protocol_revenue")
IONET_UNOBSERVABLE_REASON = (
    "fees: fees are charged off-chain; burns are a lagged use of revenue; supply_side_revenue: "
    "payments to GPU suppliers are not indexed (no published payout account); protocol_revenue: "
    "what io.net keeps of its off-chain revenue is not on chain; only the buy-and-burn is")


def trunc(x: F) -> int:
    return int(x)  # int() of a Fraction rounds toward zero


def split(amount: int, shares: dict[str, F], rest: str | None) -> dict[str, int]:
    """One event amount in whole base units per label."""
    out = {label: trunc(amount * share) for label, share in shares.items()}
    parts = [label for label in shares if label != "fees"]
    if rest is not None:
        whole = trunc(amount * sum(shares[label] for label in parts))
        out[rest] = whole - sum(out[label] for label in parts if label != rest)
    return out


def quarter_of(ts: int) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"
