"""A Subtensor-shaped JSON-RPC node (for JsonRpcServer) serving a generated chain.

The chain is generated from a schedule of extrinsics (fees, registrations, stake with its swap
fee, a subnet registration, a failed extrinsic); each block's System.Events is SCALE-encoded
with the real spec-393 metadata of shared/fixtures/bittensor (tests/support/scale_encode.py),
and blocks before `upgrade_at` with an older runtime derived from it (StakeAdded without its fee
field, as before spec 257), served with its own metadata, so a reader fetches metadata twice.
Block times are Aura slots (slot x 12 s) from `time_of(number)`; the genesis block has no
digest. Blocks below `pruned_below` have no state any more ("State already discarded"), as on
a pruned node.

The generator keeps its own ledger of the revenue events it wrote (`ledger`): what a correct
reader must find, worked out from the schedule, not from any reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chains.substrate import METADATA_AT_VERSION, SYSTEM_EVENTS_KEY, compact_encode, storage_key
from tests.support.jsonrpc_server import RpcFault
from tests.support.paths import REPO
from tests.support.scale_encode import Registry, metadata_without_last_field

SPEC = 393
OLD_SPEC = 256  # before 257: StakeAdded has no fee field
FEE_SLACK = 1_000  # the fee withdrawn up front exceeds the actual fee by this, refunded after


def account(name: str) -> bytes:
    return hashlib.blake2b(name.encode(), digest_size=32).digest()


def block_hash(n: int) -> str:
    return "0x" + hashlib.blake2b(f"subtensor block {n}".encode(), digest_size=32).hexdigest()


GENESIS = block_hash(0)


@dataclass(frozen=True)
class Extrinsic:
    """One signed extrinsic of the schedule: `kind` is fee, register, failed_register, stake,
    unstake, network or hotkey_swap; amounts in rao (an unstake's `amount` and `stake_fee` in
    the subnet's alpha)."""

    kind: str
    who: str
    fee: int
    tip: int = 0
    netuid: int | None = None
    amount: int = 0  # burn, lock or staked TAO
    stake_fee: int = 0


@dataclass(frozen=True)
class LedgerRow:
    block: int
    event_index: int
    extrinsic_index: int
    event: str  # the catalogue event
    amount: int
    tip: int | None
    netuid: int | None
    transaction_hash: str
    spec_version: int
    token: str = "tao"  # the amount's unit: alpha for an unstake fee
    min_lock: int | None = None  # a network lock's NetworkMinLockCost part (at most the lock)


@dataclass
class SubtensorChain:
    metadata: bytes  # spec 393, Option<OpaqueMetadata>
    head: int
    schedule: dict[int, list[Extrinsic]]
    time_of: Callable[[int], int]
    upgrade_at: int
    pruned_below: int = 0
    # SubtensorModule.NetworkMinLockCost as set at blocks (sudo); unset before the first
    min_lock_cost_set: dict[int, int] = field(default_factory=dict)
    ledger: list[LedgerRow] = field(default_factory=list)
    metadata_calls: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.registries = {SPEC: Registry(self.metadata)}
        self.old_metadata = metadata_without_last_field(self.metadata, "StakeAdded", 6)
        self.registries[OLD_SPEC] = Registry(self.old_metadata)
        self.by_hash = {block_hash(n): n for n in range(self.head + 1)}
        # RAORecycledForRegistration(netuid) as the chain keeps it: each registration's burn
        # added at its block (from the schedule, whatever is later taken out of the ledger)
        self.recycled: dict[int, list[tuple[int, int]]] = {}
        for n in sorted(self.schedule):
            for ext in self.schedule[n]:
                if ext.kind == "register" and ext.netuid is not None:
                    self.recycled.setdefault(ext.netuid, []).append((n, ext.amount))
        self.blocks = {n: self._generate(n) for n in range(self.head + 1)}

    def spec(self, n: int) -> int:
        return SPEC if n >= self.upgrade_at else OLD_SPEC

    def min_lock_cost(self, n: int) -> int | None:
        """NetworkMinLockCost in the state after block n; None while unset (the runtime's
        default applies)."""
        set_at = [b for b in self.min_lock_cost_set if b <= n]
        return self.min_lock_cost_set[max(set_at)] if set_at else None

    # --- generation ----------------------------------------------------------------------
    def _generate(self, n: int) -> tuple[bytes, list[str]]:
        spec = self.spec(n)
        records: list[dict[str, Any]] = [_rec(None, "Balances", "Issued", {"amount": 10**9})]
        extrinsics = [_extrinsic_bytes(n, 0)]
        records.append(_rec(0, "System", "ExtrinsicSuccess", _info("Mandatory", "Yes")))
        for ext in self.schedule.get(n, []):
            i = len(extrinsics)
            raw = _extrinsic_bytes(n, i)
            extrinsics.append(raw)
            tx = "0x" + hashlib.blake2b(bytes.fromhex(raw[2:]), digest_size=32).hexdigest()
            who = account(ext.who)

            def add(pallet: str, name: str, fields: Any, ledger: str | None = None,
                    amount: int = 0, tip: int | None = None, netuid: int | None = None,
                    i: int = i, tx: str = tx, token: str = "tao",
                    min_lock: int | None = None) -> None:
                if ledger is not None:
                    self.ledger.append(LedgerRow(n, len(records), i, ledger, amount, tip,
                                                 netuid, tx, spec, token, min_lock))
                records.append(_rec(i, pallet, name, fields))

            add("Balances", "Withdraw", {"who": who, "amount": ext.fee + FEE_SLACK})
            if ext.kind == "register":
                add("Balances", "Withdraw", {"who": who, "amount": ext.amount})
                uid = len(self.ledger) % 256
                add("SubtensorModule", "NeuronRegistered", (ext.netuid, uid, account("hotkey")),
                    "registration_burn", ext.amount, None, ext.netuid)
            elif ext.kind == "network":
                add("Balances", "Withdraw", {"who": who, "amount": ext.amount})
                # the cost in force when the extrinsic ran: the parent block's state
                cost = self.min_lock_cost(n - 1)
                cost = DEFAULT_MIN_LOCK_COST if cost is None else cost
                add("SubtensorModule", "NetworkAdded", (ext.netuid, 0), "network_lock",
                    ext.amount, None, ext.netuid, min_lock=min(cost, ext.amount))
            elif ext.kind == "hotkey_swap":
                add("Balances", "Withdraw", {"who": who, "amount": ext.amount})
                add("SubtensorModule", "HotkeySwapped",
                    {"coldkey": who, "old_hotkey": account("hotkey"),
                     "new_hotkey": account("hotkey-2")},
                    "key_swap_cost", ext.amount)
            elif ext.kind == "stake":
                alpha = ext.amount * 40
                if spec >= 257:
                    add("SubtensorModule", "StakeAdded",
                        (who, account("hotkey"), ext.amount, alpha, ext.netuid, ext.stake_fee),
                        "stake_fee", ext.stake_fee, None, ext.netuid)
                else:  # the older runtime's StakeAdded has no fee: nothing to count
                    add("SubtensorModule", "StakeAdded",
                        (who, account("hotkey"), ext.amount, alpha, ext.netuid))
            elif ext.kind == "unstake":  # alpha in, TAO out; the swap fee taken in alpha
                if spec < 257:
                    raise ValueError("the generator writes unstakes from spec 257 only")
                tao = ext.amount // 40
                add("SubtensorModule", "StakeRemoved",
                    (who, account("hotkey"), tao, ext.amount, ext.netuid, ext.stake_fee),
                    "unstake_fee", ext.stake_fee, None, ext.netuid, token="alpha")
            add("Balances", "Deposit", {"who": who, "amount": FEE_SLACK})
            add("TransactionPayment", "TransactionFeePaid",
                {"who": who, "actual_fee": ext.fee, "tip": ext.tip},
                "transaction_fee", ext.fee, ext.tip)
            if ext.kind == "failed_register":
                add("System", "ExtrinsicFailed", {
                    "dispatch_error": ("Module", {"index": 7, "error": bytes([28, 0, 0, 0])}),
                    "dispatch_info": _info("Normal", "Yes")["dispatch_info"],
                })
            else:
                add("System", "ExtrinsicSuccess", _info("Normal", "Yes"))
        records.append(_rec(None, "Balances", "Issued", {"amount": 1}, phase="Finalization"))
        reg = self.registries[spec]
        return reg.encode(reg.events_type, records), extrinsics

    def remove_event(self, row: LedgerRow) -> None:
        """Take one revenue event out of the ledger (its block stays on chain as it was)."""
        self.ledger.remove(row)

    # --- JSON-RPC ------------------------------------------------------------------------
    def _number(self, h: str) -> int:
        if h not in self.by_hash:
            raise RpcFault(-32000, f"Unknown block {h}")
        return self.by_hash[h]

    def _header(self, n: int) -> dict[str, Any]:
        logs = []
        if n > 0:
            slot = self.time_of(n) // 12
            logs = ["0x06" + b"aura".hex() + "20" + slot.to_bytes(8, "little").hex()]
        return {
            "parentHash": block_hash(n - 1) if n > 0 else "0x" + "00" * 32,
            "number": hex(n),
            "stateRoot": "0x" + "11" * 32,
            "extrinsicsRoot": "0x" + "22" * 32,
            "digest": {"logs": logs},
        }

    def rpc_chain_getBlockHash(self, n: int | None = None) -> str | None:
        n = self.head if n is None else int(n)
        return block_hash(n) if 0 <= n <= self.head else None

    def rpc_chain_getFinalizedHead(self) -> str:
        return block_hash(self.head)

    def rpc_chain_getHeader(self, h: str | None = None) -> dict[str, Any]:
        return self._header(self.head if h is None else self._number(h))

    def rpc_chain_getBlock(self, h: str) -> dict[str, Any]:
        n = self._number(h)
        return {"block": {"header": self._header(n), "extrinsics": self.blocks[n][1]},
                "justifications": None}

    def _state(self, h: str) -> int:
        n = self._number(h)
        if n < self.pruned_below:
            raise RpcFault(4003, f"State already discarded for {h}")
        return n

    def rpc_state_getRuntimeVersion(self, h: str) -> dict[str, Any]:
        n = self._state(h)
        return {"specName": "node-subtensor", "implName": "node-subtensor",
                "specVersion": self.spec(n), "transactionVersion": 1, "stateVersion": 1,
                "apis": []}

    def rpc_state_getStorage(self, key: str, h: str) -> str | None:
        n = self._state(h)
        if key == SYSTEM_EVENTS_KEY:
            return "0x" + self.blocks[n][0].hex()
        prefix = storage_key("SubtensorModule", "RAORecycledForRegistration")
        if key.startswith(prefix) and len(key) == len(prefix) + 4:
            netuid = int.from_bytes(bytes.fromhex(key[len(prefix):]), "little")
            total = sum(a for b, a in self.recycled.get(netuid, []) if b <= n)
            return "0x" + total.to_bytes(8, "little").hex() if total else None
        if key == storage_key("SubtensorModule", "NetworkMinLockCost"):
            cost = self.min_lock_cost(n)
            return None if cost is None else "0x" + cost.to_bytes(8, "little").hex()
        return None

    def rpc_state_call(self, method: str, data: str, h: str) -> str:
        n = self._state(h)
        if method != METADATA_AT_VERSION or data != "0x0f000000":
            raise RpcFault(-32000, f"unsupported runtime call {method}({data})")
        spec = self.spec(n)
        self.metadata_calls[spec] = self.metadata_calls.get(spec, 0) + 1
        return "0x" + (self.metadata if spec == SPEC else self.old_metadata).hex()


def _rec(ext: int | None, pallet: str, name: str, fields: Any,
         phase: str = "Initialization") -> dict[str, Any]:
    ph = ("ApplyExtrinsic", ext) if ext is not None else (phase, None)
    return {"phase": ph, "event": (pallet, ((name, fields),)), "topics": []}


def _info(cls: str, pays: str) -> dict[str, Any]:
    return {"dispatch_info": {"weight": {"ref_time": 1_000_000, "proof_size": 0},
                              "class": (cls, None), "pays_fee": (pays, None)}}


def _extrinsic_bytes(n: int, i: int) -> str:
    body = b"\x84" + hashlib.blake2b(f"extrinsic {n} {i}".encode(), digest_size=64).digest()
    return "0x" + (compact_encode(len(body)) + body).hex()


# --- a test chain and its configuration -------------------------------------------------------
def spec393_metadata() -> bytes:
    """The real spec-393 metadata of shared/fixtures/bittensor; missing fixtures fail under CI
    (CI has them beside the clone) and skip elsewhere."""
    import os

    import pytest

    root = Path(os.environ.get("DEPINREV_SHARED", REPO.parent / "shared")) / "fixtures"
    path = root / "bittensor" / "finney-metadata-v15-spec393.hex"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared fixtures not found at {path}: CI must have them")
        pytest.skip(f"shared fixtures not found at {path} (set DEPINREV_SHARED)")
    return bytes.fromhex(path.read_text().strip()[2:])



T0 = 1_738_368_000  # 2025-02-01T00:00:00Z
BLOCK_SECONDS = 43_200  # 3,600 Aura slots between blocks: 320 blocks span three quarters
HEAD = 320  # finalized head; 2025Q2 begins at block 118, 2025Q3 at block 300
UPGRADE_AT = 160  # spec 256 below, 393 from here
CHUNK = 50
# NetworkMinLockCost: the default of the spec-393 metadata (1,000 TAO), then set by sudo at
# block 240 and again at the subnet registration's own block 250 (the lock reads block 249's)
DEFAULT_MIN_LOCK_COST = 1_000 * 10**9
MIN_LOCK_COST_SET = {240: 40 * 10**9, 250: 55 * 10**9}
NETUID_A, NETUID_B, NETUID_C = 3, 5, 7

SCHEDULE: dict[int, list[Extrinsic]] = {
    5: [Extrinsic("fee", "alice", 2_000_000)],
    30: [Extrinsic("register", "alice", 300_000, netuid=NETUID_A, amount=1_500_000_000)],
    60: [Extrinsic("stake", "bob", 250_000, netuid=NETUID_A, amount=10**10, stake_fee=5_000_000),
         Extrinsic("fee", "carol", 123_457, tip=7)],
    100: [Extrinsic("failed_register", "carol", 250_000)],
    117: [Extrinsic("fee", "dave", 999_999)],
    118: [Extrinsic("fee", "dave", 1_000_001)],
    150: [Extrinsic("fee", "erin", 42)],
    170: [Extrinsic("stake", "bob", 260_000, netuid=NETUID_A, amount=10**10,
                    stake_fee=5_035_477)],
    200: [Extrinsic("register", "frank", 400_000, tip=1_000, netuid=NETUID_B,
                    amount=2_000_000_000),
          Extrinsic("register", "grace", 410_000, netuid=NETUID_B, amount=2_000_000_001)],
    220: [Extrinsic("unstake", "bob", 270_000, netuid=NETUID_A, amount=4 * 10**11,
                    stake_fee=2_000_003)],
    250: [Extrinsic("network", "heidi", 500_000, netuid=NETUID_C, amount=100 * 10**9)],
    299: [Extrinsic("fee", "ivan", 77_777)],
    305: [Extrinsic("hotkey_swap", "ivan", 600_000, amount=10**9)],
    310: [Extrinsic("fee", "judy", 31_337)],
}


def chain_time(n: int) -> int:
    return T0 + BLOCK_SECONDS * n


def make_chain(metadata: bytes, *, pruned_below: int = 0) -> SubtensorChain:
    return SubtensorChain(metadata, HEAD, SCHEDULE, chain_time, UPGRADE_AT,
                          pruned_below=pruned_below, min_lock_cost_set=MIN_LOCK_COST_SET)


def write_config(path: Path, mainnet: Path, rpc_env: str, cache: Path) -> Path:
    """The mainnet file's bittensor network alone, pointed at the test node (its genesis hash),
    small chunks, the metadata cache in `cache`."""
    import yaml

    doc = yaml.safe_load(mainnet.read_text())
    chain = dict(doc["chains"]["bittensor"])
    chain.update(rpc_url_env=rpc_env, chunk_size=CHUNK, genesis_hash=GENESIS,
                 genesis_hash_unconfirmed=False, metadata_cache=str(cache))
    doc["chains"] = {"bittensor": chain}
    doc["tokens"] = {"tao": doc["tokens"]["tao"]}
    doc["networks"] = {"bittensor": doc["networks"]["bittensor"]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
