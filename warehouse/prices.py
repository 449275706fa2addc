"""User-supplied daily USD prices from CSV files, loaded into `config.user_prices`.

Two formats are accepted (see docs/tables.md):

* generic: a header with `date,token,price_usd` (token = a token key of the config, or its
  symbol when the symbol is unambiguous); dates as YYYY-MM-DD (UTC days);
* a CoinGecko export (`snapped_at,price,market_cap,total_volume`), one token per file; the
  token is the config token whose coingecko_id or key starts the file name
  (CoinGecko names exports `<coingecko_id>-usd-max.csv`).

Prices are parsed as exact decimals (never floats) and stored as DECIMAL(38,18).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from depinrev.config import Config

_SCALE = Decimal(10) ** -18


class PriceFileError(ValueError):
    """A price file that cannot be used; the message names the file, line and problem."""


@dataclass(frozen=True)
class UserPrice:
    price_date: date
    token: str
    price_usd: Decimal
    source_file: str
    line: int


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.csv"))
    if not path.exists():
        raise PriceFileError(f"{path}: price file not found")
    return [path]


def _token_resolver(config: Config) -> dict[str, str]:
    by: dict[str, str] = {k: k for k in config.tokens}
    symbols: dict[str, list[str]] = {}
    for k, t in config.tokens.items():
        symbols.setdefault(t.symbol.lower(), []).append(k)
    for sym, keys in symbols.items():
        if len(keys) == 1 and sym not in by:
            by[sym] = keys[0]
    return {k.lower(): v for k, v in by.items()}


def _price(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise PriceFileError(f"{where}: price {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise PriceFileError(f"{where}: price {text!r} must be a finite number >= 0")
    # Stored as DECIMAL(38,18): more digits than that are rounded half-even, and said so in docs.
    return value.quantize(_SCALE)


def read_price_csv(path: str | Path, config: Config) -> list[UserPrice]:
    """Parse every price file at `path` (a file or a directory of *.csv files)."""
    resolve = _token_resolver(config)
    seen: dict[tuple[date, str], UserPrice] = {}
    for f in _files(Path(path)):
        with f.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            if {"date", "token", "price_usd"} <= set(header):
                kind = "generic"
                file_token = None
            elif {"snapped_at", "price"} <= set(header):
                kind = "coingecko"
                file_token = _coingecko_token(f, config)
            else:
                raise PriceFileError(
                    f"{f}: unknown price file header {reader.fieldnames}; expected "
                    "date,token,price_usd or a CoinGecko export (snapped_at,price,...)"
                )
            for i, row in enumerate(reader, start=2):
                row = {k.strip().lower(): (v or "") for k, v in row.items() if k is not None}
                where = f"{f}:{i}"
                if kind == "generic":
                    key = resolve.get(row["token"].strip().lower())
                    if key is None:
                        raise PriceFileError(
                            f"{where}: token {row['token']!r} is not a configured token "
                            f"({', '.join(sorted(config.tokens))})"
                        )
                    day = _date(row["date"], where)
                    price = _price(row["price_usd"], where)
                else:
                    assert file_token is not None
                    key = file_token
                    day = _date(row["snapped_at"], where)
                    price = _price(row["price"], where)
                up = UserPrice(day, key, price, str(f), i)
                old = seen.get((day, key))
                if old is not None and old.price_usd != price:
                    raise PriceFileError(
                        f"{where}: a second, different price for {key} on {day} "
                        f"({price} vs {old.price_usd} at {old.source_file}:{old.line})"
                    )
                seen[(day, key)] = up
    return [seen[k] for k in sorted(seen)]


def _coingecko_token(f: Path, config: Config) -> str:
    stem = f.name.lower()
    matches = sorted(
        k
        for k, t in config.tokens.items()
        if stem.startswith(f"{(t.coingecko_id or k).lower()}-") or stem.startswith(f"{k}-")
        or stem.removesuffix(".csv") == k
    )
    if len(matches) != 1:
        raise PriceFileError(
            f"{f}: a CoinGecko export has no token column; name the file "
            "<coingecko_id or token key>-usd-max.csv so it matches exactly one configured token"
        )
    return matches[0]


def _date(text: str, where: str) -> date:
    t = text.strip()
    try:
        if len(t) == 10:
            return date.fromisoformat(t)
        # CoinGecko: "2025-01-01 00:00:00 UTC"
        return datetime.fromisoformat(t.removesuffix(" UTC").replace(" ", "T")).date()
    except ValueError:
        raise PriceFileError(f"{where}: date {text!r} is not YYYY-MM-DD") from None


def load_user_prices(
    con: duckdb.DuckDBPyConnection, config: Config, path: str | Path | None
) -> int:
    """Replace `config.user_prices` with the prices at `path` (empty when None)."""
    con.execute(
        """
        create or replace table config.user_prices (
            price_date date not null, token varchar not null, price_usd decimal(38,18) not null,
            source_file varchar not null, line integer not null,
            primary key (price_date, token))
        """
    )
    if path is None:
        return 0
    rows = read_price_csv(path, config)
    con.executemany(
        "insert into config.user_prices values (?, ?, ?::decimal(38,18), ?, ?)",
        [[p.price_date, p.token, str(p.price_usd), p.source_file, p.line] for p in rows],
    )
    return len(rows)
