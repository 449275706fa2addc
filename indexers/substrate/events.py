"""Subtensor's System.Events: SCALE decoding (bt-decode) and the revenue events in them (pure).

A block's `System.Events` is a `Vec<EventRecord>`; each record has a phase (`ApplyExtrinsic(i)`,
`Initialization`, `Finalization`), the event as `{pallet: ({variant: fields},)}` and topics.
Its position in the Vec is the event index (the lake's `log_index`).

The revenue events (docs/readers.md, "Bittensor reader"), amounts in rao:

- `transaction_fee`: `TransactionPayment.TransactionFeePaid{who, actual_fee, tip}`; `amount` is
  `actual_fee` (which includes the tip), `tip` the tip alone;
- `registration_burn`: `SubtensorModule.NeuronRegistered(netuid, uid, hotkey)`, no amount in
  the event: the amount is the extrinsic's burn, its last `Balances.Withdraw` before the event
  (spec < 411; a fee-paying extrinsic's first Withdraw is its fee and never the burn) or its
  last `Balances.Transfer` before the event (spec >= 411, the TAO goes to the subnet account);
  a proof-of-work registration burns nothing (amount 0);
- `network_lock`: `SubtensorModule.NetworkAdded(netuid, mechanism)`, the lock taken the same way;
- `stake_fee`: `SubtensorModule.StakeAdded(coldkey, hotkey, tao, alpha, netuid, fee)`, the swap
  fee in TAO (the 6th field exists from spec 257; before it there is no fee and no row);
- `unstake_fee`: `SubtensorModule.StakeRemoved(coldkey, hotkey, tao, alpha, netuid, fee)`, the
  swap fee in the subnet's alpha (an unstake swaps alpha for TAO and the fee is taken from
  the alpha), so its unit is `ALPHA_UNIT` with the netuid, never TAO; same spec rule;
- `key_swap_cost`: `HotkeySwapped` / `ColdkeySwapped`, the cost taken like a registration burn.

Branches follow the runtime's specVersion, never dates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import bt_decode

from chains.substrate import compact_encode
from indexers.substrate.layout import EventsLayout, LayoutError, RecordSpan

# From this spec version a registration's TAO is a Balances.Transfer to the subnet account
# (NETWORKS.md: Withdraw up to 402, Transfer from 411; versions between follow the earlier).
TRANSFER_BURNS_FROM_SPEC = 411
# StakeAdded and StakeRemoved carry their 6th field, the swap fee, from this spec version.
STAKE_FEE_FROM_SPEC = 257
# The unit of an unstake fee: the alpha of the row's netuid (the lake's token column).
ALPHA_UNIT = "alpha"

_COST_EVENTS = {
    "NeuronRegistered": "registration_burn",
    "NetworkAdded": "network_lock",
    "HotkeySwapped": "key_swap_cost",
    "ColdkeySwapped": "key_swap_cost",
}


# The records `revenue_events` turns into rows, whatever extrinsic they belong to.
REVENUE_RECORDS = frozenset(
    [("TransactionPayment", "TransactionFeePaid"), ("SubtensorModule", "StakeAdded"),
     ("SubtensorModule", "StakeRemoved")]
    + [("SubtensorModule", name) for name in _COST_EVENTS]
)


class EventShapeError(ValueError):
    """An event record not in the shape the runtime's metadata says."""


@dataclass(frozen=True)
class EventRecord:
    index: int  # position in System.Events
    phase: str  # "apply_extrinsic", "initialization" or "finalization"
    extrinsic_index: int | None
    pallet: str
    name: str
    fields: Any  # dict for named fields, tuple for positional ones, () for none


@dataclass(frozen=True)
class RevenueEvent:
    record: EventRecord
    kind: str  # the catalogue event: transaction_fee, registration_burn, ...
    amount: int
    tip: int | None
    netuid: int | None
    account: str | None  # the payer (hex AccountId32), where the event names one
    unit: str | None = None  # the amount's unit when it is not the source's token (alpha)


class RuntimeDecoder:
    """The decoder of one runtime (spec version): its metadata's registry and the type id of
    System.Events."""

    def __init__(self, spec_version: int, metadata_option: bytes) -> None:
        self.spec_version = spec_version
        md = bt_decode.MetadataV15.decode_from_metadata_option(metadata_option)
        self.registry = bt_decode.PortableRegistry.from_metadata_v15(md)
        doc = json.loads(md.to_json())
        self.events_type = _events_type_id(doc)
        self.layout = EventsLayout(doc, self.events_type)
        self._record_type = f"scale_info::{self.layout.record_type}"

    def decode(self, events_scale: bytes) -> list[EventRecord]:
        try:
            raw = bt_decode.decode(f"scale_info::{self.events_type}", self.registry, events_scale)
        except Exception as exc:  # bt-decode raises plain exceptions for bad bytes
            raise EventShapeError(
                f"System.Events does not decode with the metadata of spec {self.spec_version}: "
                f"{exc}"
            ) from exc
        return [record_of(i, r) for i, r in enumerate(raw)]

    def revenue_records(self, blocks: list[bytes]) -> list[tuple[int, list[EventRecord]]]:
        """Of each block's System.Events: the number of records, and decoded (by bt-decode)
        only those `revenue_events` reads: the revenue events themselves and every record of
        an extrinsic holding a cost event (its Withdraw or Transfer is the amount).

        The records are located by the runtime's type layout (indexers.substrate.layout), the
        ones needed are cut out into one shorter `Vec<EventRecord>` a block, and all blocks'
        are decoded in one bt-decode call (a call costs milliseconds whatever it decodes).
        `revenue_events` of these records gives what it gives of `decode`'s."""
        counts: list[int] = []
        keep: list[list[RecordSpan]] = []
        subs: list[bytes] = []
        for raw in blocks:
            try:
                spans = self.layout.spans(raw)
            except LayoutError as exc:
                raise EventShapeError(
                    f"System.Events does not fit the metadata of spec {self.spec_version}: {exc}"
                ) from exc
            cost = {s.extrinsic_index for s in spans
                    if s.pallet == "SubtensorModule" and s.name in _COST_EVENTS}
            wanted = [s for s in spans if (s.pallet, s.name) in REVENUE_RECORDS
                      or (s.extrinsic_index is not None and s.extrinsic_index in cost)]
            counts.append(len(spans))
            keep.append(wanted)
            subs.append(compact_encode(len(wanted))
                        + b"".join(raw[s.start : s.end] for s in wanted))
        try:
            decoded = bt_decode.decode_list(
                [f"scale_info::{self.events_type}"] * len(subs), self.registry, subs
            )
        except Exception as exc:  # bt-decode raises plain exceptions for bad bytes
            raise EventShapeError(
                f"System.Events does not decode with the metadata of spec {self.spec_version}: "
                f"{exc}"
            ) from exc
        out = []
        for count, wanted, recs in zip(counts, keep, decoded, strict=True):
            records = [record_of(s.index, r) for s, r in zip(wanted, recs, strict=True)]
            for s, rec in zip(wanted, records, strict=True):
                if (rec.pallet, rec.name, rec.extrinsic_index) != (
                    s.pallet, s.name, s.extrinsic_index
                ):
                    raise EventShapeError(
                        f"event record {s.index}: located as {s.pallet}.{s.name}, decoded as "
                        f"{rec.pallet}.{rec.name}"
                    )
            out.append((count, records))
        return out


def _events_type_id(doc: dict[str, Any]) -> int:
    for pallet in doc["pallets"]:
        if pallet["name"] != "System":
            continue
        for entry in (pallet.get("storage") or {}).get("entries", []):
            if entry["name"] == "Events":
                return int(entry["ty"]["Plain"])
    raise EventShapeError("the metadata has no System.Events storage entry")


def record_of(index: int, raw: dict[str, Any]) -> EventRecord:
    phase = raw["phase"]
    (phase_name, phase_args), = phase.items()
    (pallet, inner), = raw["event"].items()
    (name, fields), = inner[0].items()
    if phase_name == "ApplyExtrinsic":
        return EventRecord(index, "apply_extrinsic", int(phase_args[0]), pallet, name, fields)
    return EventRecord(index, phase_name.lower(), None, pallet, name, fields)


def account_hex(value: Any) -> str:
    """An AccountId32 as bt-decode gives it (((32 ints),)) to 0x-hex."""
    while isinstance(value, tuple) and len(value) == 1 and isinstance(value[0], tuple):
        value = value[0]
    if not (isinstance(value, tuple | list) and len(value) == 32):
        raise EventShapeError(f"not an AccountId32: {value!r}"[:200])
    return "0x" + bytes(value).hex()


def revenue_events(records: list[EventRecord], spec_version: int) -> list[RevenueEvent]:
    """The revenue events of one block's records, in event order."""
    by_extrinsic: dict[int, list[EventRecord]] = {}
    for r in records:
        if r.extrinsic_index is not None:
            by_extrinsic.setdefault(r.extrinsic_index, []).append(r)
    out: list[RevenueEvent] = []
    for r in records:
        if r.pallet == "TransactionPayment" and r.name == "TransactionFeePaid":
            f = r.fields
            out.append(
                RevenueEvent(r, "transaction_fee", int(f["actual_fee"]), int(f["tip"]), None,
                             account_hex(f["who"]))
            )
        elif r.pallet == "SubtensorModule" and r.name in ("StakeAdded", "StakeRemoved"):
            if spec_version < STAKE_FEE_FROM_SPEC or len(r.fields) < 6:
                continue
            if r.name == "StakeAdded":
                out.append(
                    RevenueEvent(r, "stake_fee", int(r.fields[5]), None, int(r.fields[4]),
                                 account_hex(r.fields[0]))
                )
            else:
                out.append(
                    RevenueEvent(r, "unstake_fee", int(r.fields[5]), None, int(r.fields[4]),
                                 account_hex(r.fields[0]), ALPHA_UNIT)
                )
        elif r.pallet == "SubtensorModule" and r.name in _COST_EVENTS:
            ext = r.extrinsic_index
            siblings = by_extrinsic.get(ext, []) if ext is not None else []
            amount, payer = cost_in_extrinsic(siblings, r.index, spec_version)
            netuid = int(r.fields[0]) if r.name in ("NeuronRegistered", "NetworkAdded") else None
            out.append(RevenueEvent(r, _COST_EVENTS[r.name], amount, None, netuid, payer))
    return out


def cost_in_extrinsic(
    siblings: list[EventRecord], before: int, spec_version: int
) -> tuple[int, str | None]:
    """The TAO an extrinsic took for the event at `before`: its last Balances.Withdraw before
    the event that is not the fee withdrawal (spec < 411), or its last Balances.Transfer
    before the event (spec >= 411); (0, None) when there is none (e.g. PoW registration)."""
    earlier = [s for s in siblings if s.index < before and s.pallet == "Balances"]
    if spec_version >= TRANSFER_BURNS_FROM_SPEC:
        moves = [s for s in earlier if s.name == "Transfer"]
        if not moves:
            return 0, None
        last = moves[-1]
        return int(last.fields["amount"]), account_hex(last.fields["from"])
    withdraws = [s for s in earlier if s.name == "Withdraw"]
    pays_fee = any(s.pallet == "TransactionPayment" for s in siblings)
    if pays_fee and withdraws:
        withdraws = withdraws[1:]  # the first Withdraw of a fee-paying extrinsic is its fee
    if not withdraws:
        return 0, None
    last = withdraws[-1]
    return int(last.fields["amount"]), account_hex(last.fields["who"])
