"""Generic decoding of Tendermint/CometBFT block_results: events, transfers, coins (pure).

Events come from four places, which this module walks in one fixed order so every event has
a stable ordinal within its block (the lake's `log_index` is built from it):

    begin_block_events, then each tx's events in tx order, then end_block_events,
    then finalize_block_events (CometBFT 0.38+, which replaces begin/end block events)

Events of failed transactions (code != 0) still take their ordinals, so ordinals do not move
when a reader skips them, but they are never returned: a failed transaction moved no coins.

Attribute keys and values are base64 at older heights (Tendermint < 0.35 era chains) and
plain text later; a block is one or the other. A block counts as base64 when every non-empty
key decodes as base64 to a printable identifier; a plain key like `receiver` is also valid
base64, but decodes to bytes that are not.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

# A coin in a Cosmos amount string: integer amount then denom ("1500uakt", "3ibc/ABC...").
_COIN_RE = re.compile(r"^(\d+)([a-zA-Z][a-zA-Z0-9/:._-]{2,127})$")
_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-/:]+$")


class EventDecodeError(ValueError):
    """A block_results response not in the documented shape."""


@dataclass(frozen=True)
class Event:
    ordinal: int  # position in the block, in the order described above
    type: str  # "" for the untyped events some chains emit (dYdX)
    attributes: tuple[tuple[str, str | None], ...]
    phase: str  # "begin_block", "tx", "end_block" or "finalize_block"
    tx_index: int | None  # position of the transaction in the block, for tx events

    def get(self, key: str) -> str | None:
        for k, v in self.attributes:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class Coin:
    amount: int
    denom: str


@dataclass(frozen=True)
class Transfer:
    """One bank transfer, one coin: the `part` is its position among the coins of its event."""

    event: Event
    part: int
    sender: str
    recipient: str
    coin: Coin


@dataclass(frozen=True)
class BlockEvents:
    height: int
    events: list[Event]  # events of successful txs and of the block itself
    failed_txs: list[int]  # tx indexes with code != 0
    n_txs: int


def parse_coins(text: str | None) -> list[Coin]:
    """ "10uakt,5ibc/170C..." -> coins; an empty amount is no coins."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        m = _COIN_RE.match(part.strip())
        if m is None:
            raise EventDecodeError(f"not a coin amount: {part!r} in {text!r}")
        out.append(Coin(int(m[1]), m[2]))
    return out


def _b64(s: str) -> str | None:
    try:
        return base64.b64decode(s, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _raw_events(result: dict[str, Any]) -> list[tuple[str, int | None, dict[str, Any], bool]]:
    """(phase, tx index, event, from a failed tx) in block order."""
    out: list[tuple[str, int | None, dict[str, Any], bool]] = []
    for ev in result.get("begin_block_events") or []:
        out.append(("begin_block", None, ev, False))
    for i, tx in enumerate(result.get("txs_results") or []):
        bad = int(tx.get("code") or 0) != 0
        for ev in tx.get("events") or []:
            out.append(("tx", i, ev, bad))
    for ev in result.get("end_block_events") or []:
        out.append(("end_block", None, ev, False))
    for ev in result.get("finalize_block_events") or []:
        out.append(("finalize_block", None, ev, False))
    return out


def is_base64_block(raw: list[tuple[str, int | None, dict[str, Any], bool]]) -> bool:
    keys = [a.get("key") for _, _, ev, _ in raw for a in ev.get("attributes") or []]
    keys = [k for k in keys if k]
    if not keys:
        return False
    for k in keys:
        d = _b64(k)
        if d is None or not _KEY_RE.match(d):
            return False
    return True


def decode_block_results(result: dict[str, Any]) -> BlockEvents:
    """The `result` of a block_results response, decoded."""
    try:
        height = int(result["height"])
    except (KeyError, TypeError, ValueError) as exc:
        raise EventDecodeError(f"block_results without a height: {str(result)[:200]}") from exc
    raw = _raw_events(result)
    encoded = is_base64_block(raw)
    events: list[Event] = []
    for ordinal, (phase, tx_index, ev, bad) in enumerate(raw):
        if bad:
            continue
        attrs: list[tuple[str, str | None]] = []
        for a in ev.get("attributes") or []:
            key, value = a.get("key") or "", a.get("value")
            if encoded:
                key = _b64(key) or "" if key else ""
                if value is not None:
                    decoded = _b64(value)
                    if decoded is None:
                        raise EventDecodeError(
                            f"height {height}: attribute {key!r} value is not base64: {value!r}"
                        )
                    value = decoded
            attrs.append((key, value))
        events.append(Event(ordinal, ev.get("type") or "", tuple(attrs), phase, tx_index))
    txs = result.get("txs_results") or []
    failed = [i for i, tx in enumerate(txs) if int(tx.get("code") or 0) != 0]
    return BlockEvents(height, events, failed, len(txs))


def transfers(event: Event) -> list[Transfer]:
    """The bank transfers of a `transfer` event, one per coin.

    Attributes come in (recipient, sender, amount) groups; some SDK versions put several
    groups in one event, so a repeated key starts the next group. `msg_index` and other
    bookkeeping keys are ignored.
    """
    if event.type != "transfer":
        return []
    groups: list[dict[str, str | None]] = []
    cur: dict[str, str | None] = {}
    for k, v in event.attributes:
        if k not in ("recipient", "sender", "amount"):
            continue
        if k in cur:
            groups.append(cur)
            cur = {}
        cur[k] = v
    if cur:
        groups.append(cur)
    out: list[Transfer] = []
    for g in groups:
        sender, recipient = g.get("sender"), g.get("recipient")
        coins = parse_coins(g.get("amount"))
        if coins and not (sender and recipient):
            raise EventDecodeError(f"transfer without sender or recipient: {event}")
        for coin in coins:
            assert sender is not None and recipient is not None
            out.append(Transfer(event, len(out), sender, recipient, coin))
    return out
