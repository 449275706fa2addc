"""The events the reader reads from their bytes (no bt-decode) give the values written.

One System.Events is encoded by the test encoder (tests/support/scale_encode.py, its own SCALE
writer over the real spec-393 metadata) with one record of every event the reader reads
directly, the values written below (u64 and u16 at their maximum, so every byte counts), and
records of variable size around them. The direct reading must give exactly those values and
what bt-decode gives; the cost events must take their amounts from their siblings.
"""

from __future__ import annotations

import hashlib
from typing import Any

import bt_decode
import pytest

from indexers.substrate.events import (
    DIRECT_RECORDS,
    EventShapeError,
    RuntimeDecoder,
    revenue_events,
)
from indexers.substrate.layout import FieldsReader
from tests.support.scale_encode import Registry, in_bt_decode_shape
from tests.support.subtensor_node import spec393_metadata

U64 = 2**64 - 1


def key(name: str) -> bytes:
    return hashlib.blake2b(name.encode(), digest_size=32).digest()


ALICE, BOB, HOT, HOT2 = key("alice"), key("bob"), key("hot"), key("hot-2")
SUCCESS = {"dispatch_info": {"weight": {"ref_time": 2**40 + 3, "proof_size": 70_000},
                             "class": ("Normal", None), "pays_fee": ("Yes", None)}}

# (extrinsic, pallet, event, fields as written): every event the reader reads from its bytes
RECORDS: list[tuple[int, str, str, Any]] = [
    (1, "Balances", "Withdraw", {"who": ALICE, "amount": 1_000_123}),
    (1, "Balances", "Transfer", {"from": ALICE, "to": BOB, "amount": U64}),
    (1, "SubtensorModule", "NeuronRegistered", (65_535, 7, HOT)),
    (1, "TransactionPayment", "TransactionFeePaid",
     {"who": ALICE, "actual_fee": 1_000_000, "tip": 123}),
    (1, "System", "ExtrinsicSuccess", SUCCESS),
    (2, "Balances", "Transfer", {"from": BOB, "to": ALICE, "amount": 5 * 10**9}),
    (2, "SubtensorModule", "NetworkAdded", (12, 1)),
    (2, "System", "ExtrinsicSuccess", SUCCESS),
    (3, "Balances", "Transfer", {"from": ALICE, "to": BOB, "amount": 10**9}),
    (3, "SubtensorModule", "HotkeySwapped",
     {"coldkey": ALICE, "old_hotkey": HOT, "new_hotkey": HOT2}),
    (3, "SubtensorModule", "ColdkeySwapped", {"old_coldkey": ALICE, "new_coldkey": BOB}),
    (3, "System", "ExtrinsicSuccess", SUCCESS),
    (4, "SubtensorModule", "StakeAdded", (ALICE, HOT, U64, 2**63, 97, 5_035_477)),
    (4, "SubtensorModule", "StakeRemoved", (BOB, HOT2, 1, 2, 65_535, U64)),
    (4, "System", "ExtrinsicSuccess", SUCCESS),
]


@pytest.fixture(scope="module")
def block() -> tuple[RuntimeDecoder, bytes]:
    metadata = spec393_metadata()
    reg = Registry(metadata)
    records = [{"phase": ("Initialization", None), "topics": [],
                "event": ("Balances", (("Issued", {"amount": 10**9}),))}]
    records += [{"phase": ("ApplyExtrinsic", ext), "topics": [],
                 "event": (pallet, ((name, fields),))} for ext, pallet, name, fields in RECORDS]
    records.append({"phase": ("Finalization", None), "topics": [key("topic")],
                    "event": ("Balances", (("Issued", {"amount": 1}),))})
    # spec 411: a cost is the extrinsic's last Balances.Transfer before the event
    return RuntimeDecoder(411, metadata), reg.encode(reg.events_type, records)


def test_every_event_read_from_its_bytes_gives_the_values_written(block):
    dec, raw = block
    assert {dec.layout.events[k] for k in dec.readers} == DIRECT_RECORDS  # all read directly
    ((count, records),) = dec.revenue_records([raw])
    assert count == len(RECORDS) + 2
    # every record of the extrinsics holding a cost event (1-3) and the revenue records
    assert [(r.index, r.extrinsic_index, r.pallet, r.name) for r in records] == [
        (i + 1, ext, pallet, name) for i, (ext, pallet, name, _) in enumerate(RECORDS)
        if ext != 4 or name != "ExtrinsicSuccess"
    ]
    written = {(ext, name): fields for ext, _, name, fields in RECORDS}
    for r in records:
        if (r.pallet, r.name) in DIRECT_RECORDS:
            assert r.fields == written[(r.extrinsic_index, r.name)], r
    assert dec.checked == {dec.layout.keys[(r.pallet, r.name)] for r in records
                           if (r.pallet, r.name) in DIRECT_RECORDS}


def test_the_direct_reading_equals_bt_decodes(block):
    dec, raw = block
    full = bt_decode.decode(f"scale_info::{dec.events_type}", dec.registry, raw)
    spans = dec.layout.spans(raw)
    compared = 0
    for span in spans:
        reader = dec.readers.get(dec.layout.keys[(span.pallet, span.name)])
        if reader is None:
            continue
        ((name, fields),) = full[span.index]["event"][span.pallet][0].items()
        direct = reader.unpack(raw, span.start + dec.layout.phase_sizes[raw[span.start]] + 2)
        assert name == span.name
        assert in_bt_decode_shape(direct) == fields
        compared += 1
    assert compared == len(RECORDS) - 4  # all but the four ExtrinsicSuccess


def test_cost_events_take_the_transfer_before_them(block):
    dec, raw = block
    ((_, records),) = dec.revenue_records([raw])
    found = [(e.kind, e.amount, e.tip, e.netuid, e.account, e.unit)
             for e in revenue_events(records, 411)]
    alice, bob = "0x" + ALICE.hex(), "0x" + BOB.hex()
    assert found == [
        ("registration_burn", U64, None, 65_535, alice, None),
        ("transaction_fee", 1_000_000, 123, None, alice, None),
        ("network_lock", 5 * 10**9, None, 12, bob, None),
        ("key_swap_cost", 10**9, None, None, alice, None),
        ("key_swap_cost", 10**9, None, None, alice, None),
        ("stake_fee", 5_035_477, None, 97, alice, None),
        ("unstake_fee", U64, None, 65_535, bob, "alpha"),
    ]


def test_a_direct_reading_bt_decode_disagrees_with_is_refused(block):
    """The first record of each directly read event is also decoded by bt-decode: a reading
    that differs (here fee and tip swapped) is an error, not a row."""
    _, raw = block
    dec = RuntimeDecoder(411, spec393_metadata())
    k = dec.layout.keys[("TransactionPayment", "TransactionFeePaid")]
    good = dec.readers[k]
    assert good.names == ("who", "actual_fee", "tip")
    dec.readers[k] = FieldsReader(("who", "tip", "actual_fee"), good.layout, good.wide,
                                  good.bytes32)
    with pytest.raises(EventShapeError, match=r"event record 4 \(TransactionPayment."
                                              r"TransactionFeePaid\): read from its bytes"):
        dec.revenue_records([raw])
