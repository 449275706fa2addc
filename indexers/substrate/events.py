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

What is decoded how (`RuntimeDecoder.revenue_records`): every record is located by the
runtime's type layout (indexers.substrate.layout), without decoding. The records the reader
needs are the revenue records and, in an extrinsic holding a cost event, every record of it.
Of these, the events in `DIRECT_RECORDS` (the revenue events and the Withdraw and Transfer a
cost is taken from) whose fields all have a fixed size and are unsigned integers or 32-byte
values are read straight from their bytes, at the offsets and in the kinds the metadata gives
(names or positions from the metadata; an AccountId32 as 32 bytes): on Finney nearly every
record read is one of them, and one `struct` unpack costs a small part of a bt-decode record.
Every other record needed (e.g. an ExtrinsicSuccess beside a registration, or any of those
events in a runtime where a field is of another kind) is decoded by bt-decode and checked to
be the pallet, event and phase it was located as. The first record of each directly read
event a decoder meets is decoded by bt-decode as well, and the two readings must be equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import bt_decode

from chains.substrate import compact_encode
from indexers.substrate.layout import ALL_EVENTS, EventsLayout, FieldsReader, LayoutError

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


_COST_RECORDS = frozenset(("SubtensorModule", name) for name in _COST_EVENTS)
# The records whose values are read from their bytes when their layout is fixed: the revenue
# records and the two siblings a cost is taken from.
DIRECT_RECORDS = REVENUE_RECORDS | {("Balances", "Withdraw"), ("Balances", "Transfer")}


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
    # network_lock: the NetworkMinLock in force (read from storage by the reader), at most
    # the lock: the part of it that seeds the subnet's pool instead of being recycled
    min_lock: int | None = None


class RuntimeDecoder:
    """The decoder of one runtime (spec version): its metadata's registry and the type id of
    System.Events."""

    def __init__(self, spec_version: int, metadata_option: bytes) -> None:
        self.spec_version = spec_version
        md = bt_decode.MetadataV15.decode_from_metadata_option(metadata_option)
        self.registry = bt_decode.PortableRegistry.from_metadata_v15(md)
        doc = json.loads(md.to_json())
        self.events_type = _events_type_id(doc)
        # a subnet lock's NetworkMinLockCost seeds the new subnet's pool (extract.py reads it)
        self.min_lock_default = storage_default(doc, "SubtensorModule", "NetworkMinLockCost")
        self.layout = layout = EventsLayout(doc, self.events_type)
        self._record_type = f"scale_info::{self.layout.record_type}"
        # `locate` marks: 1 a revenue record, 2 a cost event (every record of its extrinsic)
        self._keep = layout.keep_table(REVENUE_RECORDS)
        layout.keep_table(_COST_RECORDS, 2, self._keep)
        # the events read from their bytes (the module docstring), by key
        self.readers: dict[int, FieldsReader] = {}
        for name in DIRECT_RECORDS:
            key = layout.keys.get(name)
            reader = None if key is None else layout.fields_reader(key)
            if key is not None and reader is not None:
                self.readers[key] = reader
        self._phases = {i: n.lower() for i, n in layout.phase_names.items()}
        self._phases[layout.apply_extrinsic] = "apply_extrinsic"
        # keys whose direct reading has been compared with bt-decode's (first record of each)
        self.checked: set[int] = set()

    def decode(self, events_scale: bytes) -> list[EventRecord]:
        """Every record of a block, all decoded by bt-decode."""
        try:
            raw = bt_decode.decode(f"scale_info::{self.events_type}", self.registry, events_scale)
        except Exception as exc:  # bt-decode raises plain exceptions for bad bytes
            raise EventShapeError(
                f"System.Events does not decode with the metadata of spec {self.spec_version}: "
                f"{exc}"
            ) from exc
        out = []
        for i, r in enumerate(raw):
            rec = record_of(i, r)
            reader = self.readers.get(self.layout.keys.get((rec.pallet, rec.name), -1))
            out.append(rec if reader is None else _with_bytes32(rec, reader))
        return out

    def revenue_records(self, blocks: list[bytes]) -> list[tuple[int, list[EventRecord]]]:
        """Of each block's System.Events: the number of records, and decoded only those
        `revenue_events` reads: the revenue events themselves and every record of an extrinsic
        holding a cost event (its Withdraw or Transfer is the amount).

        The records are located by the runtime's type layout (indexers.substrate.layout).
        The values of the events in `DIRECT_RECORDS` whose fields have a fixed layout are read
        from their bytes at the offsets the metadata gives; the other records needed are cut
        out into one shorter `Vec<EventRecord>` a block, and all blocks' are decoded in one
        bt-decode call (a call costs milliseconds whatever it decodes), each checked to be the
        pallet, event and phase it was located as. The first record of each directly read
        event a decoder meets is decoded by bt-decode too, and both readings must be equal.
        `revenue_events` of these records gives what it gives of `decode`'s."""
        layout, keep, readers, phases = self.layout, self._keep, self.readers, self._phases
        apply = layout.apply_extrinsic
        phase_sizes, events = layout.phase_sizes, layout.events
        counts: list[int] = []
        done: list[list[EventRecord | None]] = []
        # for bt-decode: per block, (slot in its records or -1, index, key, start, end)
        todo: list[list[tuple[int, int, int, int, int]]] = []
        subs: list[bytes] = []
        for raw in blocks:
            try:
                count, kept = layout.locate(raw, keep)
                if any(keep[k] == 2 for _, k, _, _ in kept):
                    kept = self._with_cost_siblings(raw, kept)
            except LayoutError as exc:
                raise EventShapeError(
                    f"System.Events does not fit the metadata of spec {self.spec_version}: {exc}"
                ) from exc
            records: list[EventRecord | None] = []
            need: list[tuple[int, int, int, int, int]] = []
            for i, key, start, end in kept:
                reader = readers.get(key)
                if reader is None:
                    need.append((len(records), i, key, start, end))
                    records.append(None)
                    continue
                ph = raw[start]
                pallet, name = events[key]
                records.append(EventRecord(
                    i, phases[ph],
                    int.from_bytes(raw[start + 1 : start + 5], "little") if ph == apply else None,
                    pallet, name, reader.unpack(raw, start + phase_sizes[ph] + 2),
                ))
                if key not in self.checked:
                    need.append((-1 - (len(records) - 1), i, key, start, end))
                    self.checked.add(key)
            counts.append(count)
            done.append(records)
            todo.append(need)
            if need:
                subs.append(compact_encode(len(need))
                            + b"".join(raw[s:e] for _, _, _, s, e in need))
        decoded = iter(self._decode_many(subs))
        out = []
        for raw, count, records, need in zip(blocks, counts, done, todo, strict=True):
            if need:
                for (slot, i, key, start, _), r in zip(need, next(decoded), strict=True):
                    rec = record_of(i, r)
                    pallet, name = events[key]
                    if slot >= 0:
                        if (rec.pallet, rec.name, rec.extrinsic_index) != (
                            pallet, name, layout.extrinsic_of(raw, start)
                        ):
                            raise EventShapeError(
                                f"event record {i}: located as {pallet}.{name}, decoded as "
                                f"{rec.pallet}.{rec.name}"
                            )
                        records[slot] = rec
                        continue
                    direct = records[-1 - slot]
                    if _with_bytes32(rec, readers[key]) != direct:
                        raise EventShapeError(
                            f"event record {i} ({pallet}.{name}): read from its bytes as "
                            f"{direct!r}, decoded by bt-decode as {rec!r}"[:400]
                        )
            out.append((count, records))  # type: ignore[arg-type]  # every slot is filled
        return out

    def _with_cost_siblings(
        self, raw: bytes, kept: list[tuple[int, int, int, int]]
    ) -> list[tuple[int, int, int, int]]:
        """The kept records and every record of an extrinsic holding a cost event."""
        layout = self.layout
        cost = {layout.extrinsic_of(raw, start) for _, k, start, _ in kept if self._keep[k] == 2}
        cost.discard(None)
        _, every = layout.locate(raw, ALL_EVENTS)
        return [r for r in every
                if self._keep[r[1]] or layout.extrinsic_of(raw, r[2]) in cost]

    def _decode_many(self, subs: list[bytes]) -> list[list[dict[str, Any]]]:
        if not subs:
            return []
        try:
            return bt_decode.decode_list(  # type: ignore[no-any-return]
                [f"scale_info::{self.events_type}"] * len(subs), self.registry, subs
            )
        except Exception as exc:  # bt-decode raises plain exceptions for bad bytes
            raise EventShapeError(
                f"System.Events does not decode with the metadata of spec {self.spec_version}: "
                f"{exc}"
            ) from exc


def storage_default(doc: dict[str, Any], pallet: str, item: str) -> bytes | None:
    """The default value (SCALE bytes) of a pallet's storage item in a metadata V15 document;
    None where the runtime has no such item."""
    for p in doc["pallets"]:
        if p["name"] != pallet:
            continue
        for entry in (p.get("storage") or {}).get("entries", []):
            if entry["name"] == item:
                return bytes(entry["default"])
    return None


def _events_type_id(doc: dict[str, Any]) -> int:
    for pallet in doc["pallets"]:
        if pallet["name"] != "System":
            continue
        for entry in (pallet.get("storage") or {}).get("entries", []):
            if entry["name"] == "Events":
                return int(entry["ty"]["Plain"])
    raise EventShapeError("the metadata has no System.Events storage entry")


def _with_bytes32(rec: EventRecord, reader: FieldsReader) -> EventRecord:
    """A bt-decode record of a directly read event with its 32-byte values as bytes, the
    shape the direct reading gives (bt-decode gives an AccountId32 as ((32 ints),))."""
    if not reader.bytes32:
        return rec
    f = rec.fields
    if reader.names is None:
        if not isinstance(f, tuple):
            raise EventShapeError(f"event record {rec.index}: fields {f!r}"[:200])
        fields: Any = tuple(_bytes32(v) if i in reader.bytes32 else v for i, v in enumerate(f))
    else:
        if not isinstance(f, dict):
            raise EventShapeError(f"event record {rec.index}: fields {f!r}"[:200])
        fields = {n: _bytes32(f[n]) if i in reader.bytes32 else f[n]
                  for i, n in enumerate(reader.names)}
    return replace(rec, fields=fields)


def _bytes32(value: Any) -> bytes:
    return bytes.fromhex(account_hex(value)[2:])


def record_of(index: int, raw: dict[str, Any]) -> EventRecord:
    phase = raw["phase"]
    (phase_name, phase_args), = phase.items()
    (pallet, inner), = raw["event"].items()
    (name, fields), = inner[0].items()
    if phase_name == "ApplyExtrinsic":
        return EventRecord(index, "apply_extrinsic", int(phase_args[0]), pallet, name, fields)
    return EventRecord(index, phase_name.lower(), None, pallet, name, fields)


def account_hex(value: Any) -> str:
    """An AccountId32 as read from its bytes (32 bytes) or as bt-decode gives it
    (((32 ints),)) to 0x-hex."""
    if isinstance(value, bytes) and len(value) == 32:
        return "0x" + value.hex()
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
