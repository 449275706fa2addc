"""Akash revenue rows from a block's decoded events (pure): settled escrow payouts and leases.

Measure: settled cash. The escrow module emits no payment events of its own; a payment is a
bank `transfer` out of the escrow module account. Each outflow is classified, within its
scope (one transaction, or one block phase for block-level events), by who receives it:

1. the distribution module account                      -> take_payment (protocol revenue)
2. a tenant: an `owner` of a lease/deployment/order/bid
   id named by an Akash event of the same scope          -> tenant_refund (not revenue)
3. a provider whose bid closes next to it (a bid-closed
   event for that provider with no other Akash event
   between them, on either side), or any outflow in a
   message that creates a lease and closes none (the
   losing bids' deposits come back then)               -> deposit_returned (not revenue)
4. anyone else (the provider)                            -> provider_payment (supply side)

This is not the lease spend Akash Console reports: Console accrues price x blocks while a
lease is open; settled payments land when the provider withdraws or the lease closes, so
they lag accrual and differ in any window that cuts a lease. Rule 3 rests on the escrow
keeper returning a bid's deposit as it closes the bid; it needs checking against mainnet
blocks (see docs/readers.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from indexers.cosmos.events import Event, Transfer, transfers

_TYPED = re.compile(r"^akash\.(market|deployment)\.v1(beta\d+)?\.Event(\w+)$")
_LEGACY = "akash.v1"
_CREATE_LEASE = re.compile(r"create-lease|MsgCreateLease", re.IGNORECASE)


@dataclass(frozen=True)
class LeaseRef:
    owner: str | None
    dseq: int | None
    provider: str | None


@dataclass(frozen=True)
class Marker:
    """An Akash lifecycle event: what happened and to which lease or bid."""

    event: Event
    what: str  # lease-created, lease-closed, bid-closed, other
    ref: LeaseRef
    price_denom: str | None = None
    price_amount: str | None = None


@dataclass
class Classified:
    kind: str  # an akash_escrow event name
    transfer: Transfer | None
    marker: Marker | None
    lease: LeaseRef | None


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def marker(ev: Event) -> Marker | None:
    """An Akash event as a marker: legacy `akash.v1` (action attribute) or typed events
    (`akash.market.v1.EventLeaseCreated{id, price}`, whose values are JSON)."""
    if ev.type == _LEGACY:
        action = ev.get("action") or "other"
        ref = LeaseRef(ev.get("owner"), _int(ev.get("dseq")), ev.get("provider"))
        return Marker(ev, action, ref, ev.get("price-denom"), ev.get("price-amount"))
    m = _TYPED.match(ev.type)
    if m is None:
        return None
    name = m[3]
    what = {"LeaseCreated": "lease-created", "LeaseClosed": "lease-closed"}.get(name)
    if what is None:
        what = "bid-closed" if name == "BidClosed" else "other"
    ident = _json(ev.get("id"))
    price = _json(ev.get("price"))
    ref = LeaseRef(ident.get("owner"), _int(ident.get("dseq")), ident.get("provider"))
    return Marker(ev, what, ref, price.get("denom"), price.get("amount"))


def _json(v: str | None) -> dict[str, Any]:
    if not v:
        return {}
    try:
        doc = json.loads(v)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _scopes(events: list[Event]) -> list[list[Event]]:
    """Events grouped by transaction, block-level events by phase."""
    groups: dict[tuple[str, int | None], list[Event]] = {}
    for ev in events:
        groups.setdefault((ev.phase, ev.tx_index), []).append(ev)
    return list(groups.values())


def classify_scope(events: list[Event], escrow: str, distribution: str) -> list[Classified]:
    """Lifecycle markers and escrow outflows of one scope, classified by the rules above."""
    items: list[tuple[Event, Marker | None, list[Transfer]]] = []
    segment = 0
    seg_of: list[int] = []
    for ev in events:
        if ev.type == "message" and ev.get("action"):
            segment += 1  # each message's events start with its action event
        outs = [t for t in transfers(ev) if t.sender == escrow]
        items.append((ev, marker(ev), outs))
        seg_of.append(segment)
    markers = [(i, m) for i, (_, m, _) in enumerate(items) if m is not None]
    tenants = {m.ref.owner for _, m in markers if m.ref.owner}
    actions: dict[int, str] = {}
    for i, (ev, _, _) in enumerate(items):
        if ev.type == "message" and ev.get("action"):
            actions[seg_of[i]] = ev.get("action") or ""
    created = {seg_of[i] for i, m in markers if m.what == "lease-created"}
    closed = {seg_of[i] for i, m in markers if m.what == "lease-closed"}

    # Rule 3: each bid-closed marker claims the nearest unclaimed outflow to its provider,
    # looking back then forward, never across another Akash marker.
    claimed: set[tuple[int, int]] = set()
    for i, m in markers:
        if m.what != "bid-closed" or not m.ref.provider:
            continue
        for rng in (range(i - 1, -1, -1), range(i + 1, len(items))):
            hit = _claim(items, rng, m.ref.provider, claimed)
            if hit is not None:
                claimed.add(hit)
                break

    leases_by_seg: dict[int, list[LeaseRef]] = {}
    for i, m in markers:
        if m.what in ("lease-created", "lease-closed"):
            leases_by_seg.setdefault(seg_of[i], []).append(m.ref)

    out: list[Classified] = []
    for i, (_, m, outs) in enumerate(items):
        if m is not None and m.what in ("lease-created", "lease-closed"):
            out.append(Classified(m.what.replace("-", "_"), None, m, m.ref))
        seg = seg_of[i]
        for t in outs:
            if t.recipient == distribution:
                kind = "take_payment"
            elif t.recipient in tenants:
                kind = "tenant_refund"
            elif (i, t.part) in claimed or (
                (seg in created and seg not in closed) or _CREATE_LEASE.search(actions.get(seg, ""))
            ):
                kind = "deposit_returned"
            else:
                kind = "provider_payment"
            out.append(Classified(kind, t, None, _lease_for(leases_by_seg.get(seg, []), t, kind)))
    return out


def _claim(
    items: list[tuple[Event, Marker | None, list[Transfer]]],
    rng: range,
    provider: str,
    claimed: set[tuple[int, int]],
) -> tuple[int, int] | None:
    for j in rng:
        _, m, outs = items[j]
        for t in outs:
            if t.recipient == provider and (j, t.part) not in claimed:
                return (j, t.part)
        if m is not None:
            return None
    return None


def _lease_for(leases: list[LeaseRef], t: Transfer, kind: str) -> LeaseRef | None:
    """The lease a payout belongs to when its message names exactly one."""
    if kind == "provider_payment":
        leases = [x for x in leases if x.provider == t.recipient]
    distinct = set(leases)
    return distinct.pop() if len(distinct) == 1 else None


def classify_block(events: list[Event], escrow: str, distribution: str) -> list[Classified]:
    out: list[Classified] = []
    for scope in _scopes(events):
        out.extend(classify_scope(scope, escrow, distribution))
    return out
