"""Fast tests: quarter math, rule expansion and rounding, price files, restatement logic."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from depinrev.config import load_config
from depinrev.quarters import Quarter, quarters_between
from warehouse.audit.rpc import BlockHeader, block_clock
from warehouse.closing import compare_figures
from warehouse.prices import PriceFileError, read_price_csv
from warehouse.rules import expand_rules

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config" / "networks.devnet.yaml")


def test_quarter_parse_and_bounds() -> None:
    q = Quarter.parse("2025Q3")
    assert q.label == "2025Q3" and str(Quarter.parse("2025-q4")) == "2025Q4"
    assert q.start_ts == 1751328000  # 2025-07-01 00:00 UTC
    assert q.end_ts == 1759276800  # 2025-10-01 00:00 UTC
    assert Quarter.parse("2025Q4").next() == Quarter(2026, 1)
    assert Quarter.of_timestamp(q.end_ts - 1) == q
    assert Quarter.of_timestamp(q.end_ts) == Quarter(2025, 4)
    assert [x.label for x in quarters_between(q.start_ts - 1, q.end_ts)] == [
        "2025Q2", "2025Q3", "2025Q4"]
    with pytest.raises(ValueError, match="2025Q3"):
        Quarter.parse("2025Q5")


def test_expand_rules_exact_fractions() -> None:
    rows = expand_rules(CONFIG)
    render = [r for r in rows if r.network == "render-devnet"]
    shares = {r.label: Fraction(r.share_numerator, r.share_denominator) for r in render}
    assert shares == {"fees": Fraction(20, 19), "supply_side_revenue": Fraction(1, 19),
                      "holders_revenue": Fraction(1)}
    assert all(r.dataset == "token_burns" and r.event == "burn" for r in render)
    aethir = {(r.event, r.label): (r.share_numerator, r.share_denominator)
              for r in rows if r.network == "aethir-devnet"}
    assert aethir[("withdraw", "supply_side_revenue")] == (-4, 5)
    assert aethir[("deposit", "protocol_revenue")] == (1, 5)
    akash = [r for r in rows if r.network == "akash-devnet"]
    assert {r.field for r in akash} == {"amount", "take_amount"}
    assert {r.dataset for r in akash} == {"lease_payments"}
    # every row carries its rule's split share and remainder label
    assert {(r.split_numerator, r.split_denominator, r.remainder_to) for r in render} == {
        (20, 19, "holders_revenue")}
    assert {(r.event, r.split_numerator, r.remainder_to)
            for r in rows if r.network == "aethir-devnet"} == {
        ("deposit", 1, "supply_side_revenue"), ("withdraw", -1, "supply_side_revenue")}
    assert {r.label for r in rows if r.network == "ionet-devnet"} == {"holders_revenue"}


def test_price_csv_generic_and_coingecko(tmp_path: Path) -> None:
    generic = tmp_path / "p.csv"
    generic.write_text("date,token,price_usd\n2025-01-02,akt-dev,2.5\n2025-01-02,USDC,0.999\n")
    rows = read_price_csv(generic, CONFIG)
    assert [(str(r.price_date), r.token, r.price_usd) for r in rows] == [
        ("2025-01-02", "akt-dev", Decimal("2.5")), ("2025-01-02", "usdc-dev", Decimal("0.999"))]
    cg = tmp_path / "cg" / "rndr-dev-usd-max.csv"
    cg.parent.mkdir()
    cg.write_text("snapped_at,price,market_cap,total_volume\n"
                  "2025-01-01 00:00:00 UTC,7.1,1,2\n2025-01-02 00:00:00 UTC,7.3,1,2\n")
    rows = read_price_csv(cg.parent, CONFIG)
    assert [(str(r.price_date), r.token, r.price_usd) for r in rows] == [
        ("2025-01-01", "rndr-dev", Decimal("7.1")), ("2025-01-02", "rndr-dev", Decimal("7.3"))]
    bad = tmp_path / "bad.csv"
    bad.write_text("date,token,price_usd\n2025-01-02,nope,1\n")
    with pytest.raises(PriceFileError, match=r"bad.csv:2: token 'nope'"):
        read_price_csv(bad, CONFIG)
    dup = tmp_path / "dup.csv"
    dup.write_text("date,token,price_usd\n2025-01-02,akt-dev,1\n2025-01-02,akt-dev,2\n")
    with pytest.raises(PriceFileError, match="a second, different price"):
        read_price_csv(dup, CONFIG)


def test_compare_figures_reports_every_change() -> None:
    closed = {("t", "fees_raw"): "10", ("t", "event_count"): "2", ("u", "fees_raw"): "1"}
    current = {("t", "fees_raw"): "11", ("t", "event_count"): "2", ("v", "fees_raw"): "3"}
    assert compare_figures(closed, current) == [
        ("t", "fees_raw", "10", "11"), ("u", "fees_raw", "1", None), ("v", "fees_raw", None, "3")]
    assert compare_figures(closed, dict(closed)) == []


class _Chain:
    def __init__(self, stamps: list[int]) -> None:
        self.stamps = stamps

    def head(self) -> int:
        return len(self.stamps) - 1

    def block(self, number: int) -> BlockHeader:
        return BlockHeader(number, hex(number), self.stamps[number])

    def call(self, to: str, data: str, block: int) -> bytes:
        raise NotImplementedError


def test_audit_uses_the_indexers_block_clock_over_its_reader() -> None:
    chain = _Chain([0, 10, 10, 20, 30, 30, 40])
    head = chain.head()
    clock = block_clock(chain)
    assert clock.first_at_or_after(10, 0, head) == 1
    assert clock.first_at_or_after(11, 0, head) == 3
    assert clock.first_at_or_after(30, 0, head) == 4
    assert clock.first_at_or_after(0, 0, head) == 0
    assert clock.first_at_or_after(41, 0, head) is None
    assert clock.range_for(10, 30, 0, head) == (1, 3)
    assert clock.timestamp(5) == 30
