"""Decoding two real Finney blocks (spec 393) gives exactly the events in them.

The expected values below were worked out independently of the reader under test:

- the count of event records by pallet and name, and the sums of TransactionFeePaid's
  actual_fee and tip, were computed with **cyscale** 0.8.0 (a Cython port of py-scale-codec:
  its own metadata V15 parser and type registry, a different implementation from the Rust
  scale-decode that bt-decode, the reader's library, wraps) from the same storage bytes and
  metadata, and written down here; `test_the_independent_decoder_agrees` recomputes them with
  cyscale so the numbers stay tied to their source;
- the block times come from the Aura pre-runtime digest by hand: the digest item
  0x06 61757261 20 3769d20800000000 is PreRuntime (6), engine "aura", 8 bytes (compact 0x20),
  slot 0x08d26937 = 148,007,223 little-endian; x 12 s = 1,776,086,676 (2026-04-13 13:24:36
  UTC); block 7,959,635's slot is 0x08d26952 = 148,007,250 (27 slots = 27 blocks later).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import bt_decode
import pytest

from chains.substrate import aura_slot
from indexers.substrate.events import (
    DIRECT_RECORDS,
    EventShapeError,
    RuntimeDecoder,
    revenue_events,
)
from tests.support.paths import REPO
from tests.support.scale_encode import in_bt_decode_shape

BLOCK_608 = "0x48795d0cb44df9867fbe9b6a7ea035e3e6406ad9b10b5b49af8b2b2f7efe6927"
BLOCK_635 = "0x81617dc8ede17528d8f8aab64c84285a166f73e120ff6d2acd11e3419a95abec"

EXPECTED_COUNTS = {
    BLOCK_608: {
        ("Balances", "Deposit"): 31, ("Balances", "Transfer"): 1, ("Balances", "Withdraw"): 13,
        ("Commitments", "Commitment"): 5, ("Drand", "NewPulse"): 4, ("Ethereum", "Executed"): 4,
        ("MevShield", "EncryptedSubmitted"): 2,
        ("SubtensorModule", "IncentiveAlphaEmittedToMiners"): 1,
        ("SubtensorModule", "RootClaimed"): 5, ("SubtensorModule", "StakeAdded"): 1,
        ("SubtensorModule", "StakeRemoved"): 3,
        ("SubtensorModule", "TimelockedWeightsCommitted"): 6,
        ("SubtensorModule", "TimelockedWeightsRevealed"): 12,
        ("SubtensorModule", "WeightsSet"): 14, ("System", "ExtrinsicFailed"): 6,
        ("System", "ExtrinsicSuccess"): 30, ("TransactionPayment", "TransactionFeePaid"): 26,
        ("Utility", "BatchCompleted"): 1, ("Utility", "ItemCompleted"): 1,
    },
    BLOCK_635: {
        ("Balances", "Deposit"): 29, ("Balances", "Withdraw"): 12,
        ("Commitments", "Commitment"): 1, ("Drand", "NewPulse"): 4, ("Ethereum", "Executed"): 4,
        ("MevShield", "EncryptedSubmitted"): 3,
        ("SubtensorModule", "IncentiveAlphaEmittedToMiners"): 1,
        ("SubtensorModule", "RootClaimed"): 5, ("SubtensorModule", "StakeAdded"): 1,
        ("SubtensorModule", "StakeRemoved"): 3,
        ("SubtensorModule", "TimelockedWeightsCommitted"): 10,
        ("SubtensorModule", "TimelockedWeightsRevealed"): 22,
        ("SubtensorModule", "WeightsSet"): 25, ("System", "ExtrinsicFailed"): 5,
        ("System", "ExtrinsicSuccess"): 31, ("TransactionPayment", "TransactionFeePaid"): 26,
    },
}
EXPECTED_RECORDS = {BLOCK_608: 166, BLOCK_635: 182}
EXPECTED_FEE_SUM = {BLOCK_608: 5_351_857, BLOCK_635: 4_425_414}  # rao; tips are all 0
# The one StakeAdded of each block: (extrinsic, netuid, swap fee in rao).
EXPECTED_STAKE_FEE = {BLOCK_608: (14, 75, 5_035_477), BLOCK_635: (24, 97, 133_888)}
# The three StakeRemoved of each block: (extrinsic, netuid, swap fee in the subnet's alpha).
# Each fee is 0.0504% of the alpha the unstake put in (e.g. 674,378,438 of 1,339,254,272,307),
# as the stake fee is 0.0504% of the TAO a stake puts in (5,035,477 of 10,000,000,000): the
# fee is taken from the swap's input, alpha for an unstake (the cyscale test prints both).
EXPECTED_UNSTAKE_FEES = {
    BLOCK_608: [(10, 24, 674_378_438), (17, 66, 4_531_929), (25, 97, 5_654_468)],
    BLOCK_635: [(10, 9, 91_519_580), (12, 97, 604_257), (14, 88, 674_004)],
}
EXPECTED_TIME = {BLOCK_608: 148_007_223 * 12, BLOCK_635: 148_007_250 * 12}


def _fixtures() -> Path:
    root = Path(os.environ.get("DEPINREV_SHARED", REPO.parent / "shared")) / "fixtures"
    path = root / "bittensor"
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared fixtures not found at {path}: CI must have them")
        pytest.skip(f"shared fixtures not found at {path} (set DEPINREV_SHARED)")
    return path


@pytest.fixture(scope="module")
def finney() -> dict[str, object]:
    path = _fixtures()
    scenarios = json.loads((path / "finney-rpc-responses.json").read_text())["scenarios"]
    storage: dict[str, bytes] = {}
    headers: dict[str, dict] = {}
    for name in ("test_same_events", "test_get_events_proper_decoding"):
        sc = scenarios[name]
        for params, resp in sc["state_getStorageAt"].items():
            block = json.loads(params)[1]
            storage[block] = bytes.fromhex(resp["result"][2:])
        for params, resp in sc["chain_getHeader"].items():
            headers[json.loads(params)[0]] = resp["result"]
    metadata = bytes.fromhex((path / "finney-metadata-v15-spec393.hex").read_text().strip()[2:])
    return {"storage": storage, "headers": headers, "metadata": metadata}


@pytest.mark.parametrize("block", [BLOCK_608, BLOCK_635])
def test_decoding_a_finney_block_gives_exactly_its_events(finney, block):
    records = RuntimeDecoder(393, finney["metadata"]).decode(finney["storage"][block])
    assert len(records) == EXPECTED_RECORDS[block]
    assert Counter((r.pallet, r.name) for r in records) == EXPECTED_COUNTS[block]
    assert [r.index for r in records] == list(range(len(records)))

    found = revenue_events(records, 393)
    fees = [e for e in found if e.kind == "transaction_fee"]
    assert len(fees) == 26
    assert sum(e.amount for e in fees) == EXPECTED_FEE_SUM[block]
    assert all(e.tip == 0 and e.record.extrinsic_index is not None for e in fees)
    stakes = [e for e in found if e.kind == "stake_fee"]
    assert [(e.record.extrinsic_index, e.netuid, e.amount) for e in stakes] == [
        EXPECTED_STAKE_FEE[block]
    ]
    unstakes = [e for e in found if e.kind == "unstake_fee"]
    assert [(e.record.extrinsic_index, e.netuid, e.amount) for e in unstakes] == (
        EXPECTED_UNSTAKE_FEES[block])
    assert {e.unit for e in unstakes} == {"alpha"}
    assert {e.unit for e in found if e.kind != "unstake_fee"} == {None}  # the source's TAO
    assert {e.kind for e in found} == {"transaction_fee", "stake_fee", "unstake_fee"}


@pytest.mark.parametrize("block", [BLOCK_608, BLOCK_635])
def test_decoding_only_the_revenue_records_finds_what_the_full_decode_finds(finney, block):
    """The reader's path (records located by the type layout, only the needed ones decoded)
    gives the same revenue events as decoding every record, and the same record count."""
    dec = RuntimeDecoder(393, finney["metadata"])
    raw = finney["storage"][block]
    ((count, records),) = dec.revenue_records([raw])
    assert count == EXPECTED_RECORDS[block]
    assert revenue_events(records, 393) == revenue_events(dec.decode(raw), 393)
    with pytest.raises(EventShapeError, match="does not fit the metadata of spec 393"):
        dec.revenue_records([raw[:-7]])
    with pytest.raises(EventShapeError, match=rf"records end at byte {len(raw)} of "
                                              rf"{len(raw) + 1}"):
        dec.revenue_records([raw + b"\x00"])


@pytest.mark.parametrize("block", [BLOCK_608, BLOCK_635])
def test_every_located_record_decodes_alone_as_in_the_whole_block(finney, block):
    """The layout walk's record boundaries (fixed sizes, compacts, vectors, variants): each
    record cut out alone decodes (bt-decode) to what it is in the whole block."""
    dec = RuntimeDecoder(393, finney["metadata"])
    raw = finney["storage"][block]
    whole = bt_decode.decode(f"scale_info::{dec.events_type}", dec.registry, raw)
    spans = dec.layout.spans(raw)
    assert len(spans) == EXPECTED_RECORDS[block]
    alone = bt_decode.decode_list([f"scale_info::{dec.events_type}"] * len(spans), dec.registry,
                                  [b"\x04" + raw[s.start : s.end] for s in spans])
    assert [a for (a,) in alone] == list(whole)
    assert Counter((s.pallet, s.name) for s in spans) == EXPECTED_COUNTS[block]


@pytest.mark.parametrize("block", [BLOCK_608, BLOCK_635])
def test_values_read_from_the_bytes_equal_bt_decodes_on_every_record(finney, block):
    """Every record of the events read without bt-decode (fees, stakes, unstakes, Withdraw,
    Transfer in these blocks): the direct reading equals bt-decode's, field for field."""
    dec = RuntimeDecoder(393, finney["metadata"])
    raw = finney["storage"][block]
    whole = bt_decode.decode(f"scale_info::{dec.events_type}", dec.registry, raw)
    compared: Counter[tuple[str, str]] = Counter()
    for s in dec.layout.spans(raw):
        reader = dec.readers.get(dec.layout.keys[(s.pallet, s.name)])
        if reader is None:
            continue
        ((name, fields),) = whole[s.index]["event"][s.pallet][0].items()
        direct = reader.unpack(raw, s.start + dec.layout.phase_sizes[raw[s.start]] + 2)
        assert (name, in_bt_decode_shape(direct)) == (s.name, fields)
        compared[(s.pallet, s.name)] += 1
    assert compared == {k: n for k, n in EXPECTED_COUNTS[block].items() if k in DIRECT_RECORDS}
    assert sum(compared.values()) == {BLOCK_608: 44, BLOCK_635: 42}[block]



@pytest.mark.parametrize("block", [BLOCK_608, BLOCK_635])
def test_block_time_is_the_aura_slot_times_twelve_seconds(finney, block):
    header = finney["headers"][block]
    assert aura_slot(header["digest"]["logs"]) * 12 == EXPECTED_TIME[block]


def test_an_older_runtime_without_the_stake_fee_field_keeps_no_stake_fee(finney):
    """StakeAdded's and StakeRemoved's 6th field (the fee) exists from spec 257: an older spec
    keeps no row."""
    records = RuntimeDecoder(393, finney["metadata"]).decode(finney["storage"][BLOCK_608])
    assert not [e for e in revenue_events(records, 256)
                if e.kind in ("stake_fee", "unstake_fee")]


def test_the_independent_decoder_agrees(finney):
    """cyscale, from the same bytes, gives the numbers written above."""
    from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
    from scalecodec.type_registry import load_type_registry_preset

    rc = RuntimeConfigurationObject()
    rc.update_type_registry(load_type_registry_preset("core"))
    inner = rc.create_scale_object("Option<Vec<u8>>", data=ScaleBytes(finney["metadata"]))
    meta = rc.create_scale_object("MetadataVersioned", data=ScaleBytes(inner.decode()))
    meta.decode()
    rc.add_portable_registry(meta)
    for block, raw in finney["storage"].items():
        obj = rc.create_scale_object("scale_info::19", data=ScaleBytes(raw), metadata=meta)
        events = obj.decode()
        assert Counter((e["module_id"], e["event_id"]) for e in events) == EXPECTED_COUNTS[block]
        fees = [e["attributes"] for e in events if e["event_id"] == "TransactionFeePaid"]
        assert sum(f["actual_fee"] for f in fees) == EXPECTED_FEE_SUM[block]
        removed = [(e["extrinsic_idx"], e["attributes"][4], e["attributes"][5])
                   for e in events if e["event_id"] == "StakeRemoved"]
        assert removed == EXPECTED_UNSTAKE_FEES[block]
        for e in events:  # the fee is ~0.05% of the swap's input: alpha in for an unstake
            if e["event_id"] == "StakeRemoved":
                _, _, tao, alpha, _, fee = e["attributes"]
                assert 0.0004 < fee / alpha < 0.0006 and not 0.0004 < fee / tao < 0.0006
