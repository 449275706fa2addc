"""Akash revenue rows from a block's decoded events (pure): settled escrow payouts and leases.

Measure: settled cash. The escrow module emits no payment events of its own; a payment is a
bank `transfer` out of the escrow module account. Each outflow is classified, within its
scope (one transaction, or one block phase for block-level events), by who receives it:

0. the BME module account (node v2.0.0+)                -> bme_conversion (not revenue)
1. the distribution module account                      -> take_payment (protocol revenue)
2. a tenant: an `owner` of a lease/deployment/order/bid
   id named by an Akash event of the same scope          -> tenant_refund (not revenue)
2b. a depositor (escrow_deposits at or below this height)
   of an escrow account the scope names (deployment
   owner/dseq), or by an unnamed top-up of a tenant's;
   with no account named, of a tenant's account; not a
   provider the scope names                              -> depositor_refund (not revenue)
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
from collections.abc import Callable
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
    what: str  # lease-created, lease-closed, bid-closed, bid-created, other
    ref: LeaseRef
    price_denom: str | None = None
    price_amount: str | None = None


@dataclass(frozen=True)
class Deposit:
    """A transfer into the escrow module account: who funded whose escrow account.

    The escrow keeper moves a deposit from the depositor (the owner, or with an authz
    DepositDeploymentAuthorization the granter) with a bank send that names no escrow account,
    and no escrow event names it either (x/escrow at v0.24.x, v1.x, v2.0.0), so the owner is
    taken from the message: the owner of a deployment event in it, else the owner of a bid
    (whose deposit the provider pays) as the bid's provider, else the message's signer.
    `account` is the escrow account id where the message's events name it: a deployment
    event with its owner and dseq (v0.24 `akash.v1` deployment-created, v1+
    `akash.deployment.v1.EventDeploymentCreated{id}`) names `deployment/<owner>/<dseq>`
    (x/deployment's EscrowAccountForDeployment / ToEscrowAccountID). Top-ups (v0.24
    MsgDepositDeployment, v1+ MsgAccountDeposit) emit no event: their account is only in the
    tx body, so `account` is None and the owner (the signer) keys them.
    """

    transfer: Transfer
    owner: str | None
    account: str | None = None


def deployment_account(owner: str | None, dseq: int | None) -> str | None:
    """The escrow account id of a deployment: scope "deployment", xid owner/dseq."""
    return f"deployment/{owner}/{dseq}" if owner and dseq is not None else None


# (tenants, accounts named, address, height) -> whether address had deposited by then into
# one of the named escrow accounts, or (a deposit whose account no event named) into an
# account of one of the tenants; with no account named, into any account of the tenants
DepositorLookup = Callable[[set[str], set[str], str, int], bool]


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
        if ev.get("module") == "deployment" and action not in ("lease-created", "lease-closed"):
            action = "deployment"
        ref = LeaseRef(ev.get("owner"), _int(ev.get("dseq")), ev.get("provider"))
        return Marker(ev, action, ref, ev.get("price-denom"), ev.get("price-amount"))
    m = _TYPED.match(ev.type)
    if m is None:
        return None
    name = m[3]
    what = {"LeaseCreated": "lease-created", "LeaseClosed": "lease-closed",
            "BidClosed": "bid-closed", "BidCreated": "bid-created"}.get(name)
    if what is None:
        what = "deployment" if m[1] == "deployment" else "other"
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


def classify_scope(
    events: list[Event],
    escrow: str,
    distribution: str,
    bme: str | None = None,
    height: int = 0,
    depositor: DepositorLookup | None = None,
) -> list[Classified]:
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
    providers = {m.ref.provider for _, m in markers if m.ref.provider}
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

    accounts = {a for _, m in markers if m.what in ("deployment", "lease-created",
                                                     "lease-closed")
                for a in [deployment_account(m.ref.owner, m.ref.dseq)] if a}

    def refunds_depositor(recipient: str) -> bool:
        return depositor is not None and recipient not in providers and depositor(
            tenants, accounts, recipient, height)

    out: list[Classified] = []
    for i, (_, m, outs) in enumerate(items):
        if m is not None and m.what in ("lease-created", "lease-closed"):
            out.append(Classified(m.what.replace("-", "_"), None, m, m.ref))
        seg = seg_of[i]
        for t in outs:
            if bme is not None and t.recipient == bme:
                kind = "bme_conversion"
            elif t.recipient == distribution:
                kind = "take_payment"
            elif t.recipient in tenants:
                kind = "tenant_refund"
            elif refunds_depositor(t.recipient):
                kind = "depositor_refund"
            elif (i, t.part) in claimed or (
                (seg in created and seg not in closed) or _CREATE_LEASE.search(actions.get(seg, ""))
            ):
                kind = "deposit_returned"
            else:
                kind = "provider_payment"
            out.append(Classified(kind, t, None, _lease_for(leases_by_seg.get(seg, []), t, kind)))
    return out


def deposits_in_scope(
    events: list[Event], escrow: str, modules: frozenset[str] = frozenset()
) -> list[Deposit]:
    """Transfers into the escrow module account of one scope, each with its account's owner
    (see Deposit): per message, a deployment event's owner, else a bid's provider, else the
    message's signer. Transfers from `modules` (the BME account giving back converted
    balances as ACT) fund no one's account: they are not deposits."""
    segments: list[list[Event]] = []
    for ev in events:
        if not segments or (ev.type == "message" and ev.get("action")):
            segments.append([])
        segments[-1].append(ev)
    out: list[Deposit] = []
    for seg in segments:
        ins = [t for ev in seg for t in transfers(ev)
               if t.recipient == escrow and t.sender not in modules]
        if not ins:
            continue
        marks = [m for m in (marker(ev) for ev in seg) if m is not None]
        deployment = sorted({m.ref.owner for m in marks if m.what == "deployment" and m.ref.owner})
        named = sorted({a for m in marks if m.what == "deployment"
                        for a in [deployment_account(m.ref.owner, m.ref.dseq)] if a})
        bids = sorted({m.ref.provider for m in marks if m.what == "bid-created"
                       and m.ref.provider})
        signer = next((ev.get("sender") for ev in seg if ev.type == "message"
                       and ev.get("sender")), None)
        owner = (deployment[0] if len(deployment) == 1 else None) if deployment else (
            (bids[0] if len(bids) == 1 else None) if bids else signer)
        account = named[0] if len(named) == 1 else None
        out.extend(Deposit(t, owner, account) for t in ins)
    return out


def bme_flows(events: list[Event], bme: str) -> list[tuple[str, Transfer]]:
    """AKT moved into the BME module account (akt_burned: AKT given up for ACT, or escrow
    balances converted by the v2.0.0 upgrade) and out of it (akt_reminted: AKT paid back for
    burned ACT), in block order; the caller keeps the AKT denom only."""
    out: list[tuple[str, Transfer]] = []
    for ev in events:
        for t in transfers(ev):
            if t.recipient == bme and t.sender != bme:
                out.append(("akt_burned", t))
            elif t.sender == bme and t.recipient != bme:
                out.append(("akt_reminted", t))
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


def classify_block(
    events: list[Event],
    escrow: str,
    distribution: str,
    bme: str | None = None,
    height: int = 0,
    depositor: DepositorLookup | None = None,
) -> list[Classified]:
    out: list[Classified] = []
    for scope in _scopes(events):
        out.extend(classify_scope(scope, escrow, distribution, bme, height, depositor))
    return out


def deposits_in_block(
    events: list[Event], escrow: str, modules: frozenset[str] = frozenset()
) -> list[Deposit]:
    out: list[Deposit] = []
    for scope in _scopes(events):
        out.extend(deposits_in_scope(scope, escrow, modules))
    return out
