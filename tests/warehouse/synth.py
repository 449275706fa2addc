"""A synthetic lake and an in-process chain that agree with each other.

`make_world` invents a deterministic history for the devnet networks (lease escrows, service
fees, mints, burns, price updates) on two chains, writes it to a lake exactly as the indexer
would (Lake.write_chunk, checkpoints, boundary headers) and returns a `FakeChain` per chain
that answers the audit's three questions (head, block header, eth_call totalSupply/balanceOf)
from the same history. Tests then tamper with the lake and expect the audit to notice.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from depinrev.config import Config, SourceKind
from depinrev.lake import ALL_SCHEMAS, Checkpoint, ChunkRecord, Lake
from warehouse.audit.rpc import SELECTOR_BALANCE_OF, SELECTOR_TOTAL_SUPPLY, BlockHeader

T0 = 1735603200  # 2024-12-31 00:00 UTC
BLOCK_SECONDS = 6 * 3600
HEAD = 800  # about 2025-07-19: 2025Q1 and Q2 complete and final, Q3 in progress
CHUNK = 100


def block_ts(n: int) -> int:
    return T0 + n * BLOCK_SECONDS


def block_hash(chain_id: int, n: int) -> str:
    return "0x" + hashlib.sha256(f"{chain_id}:{n}".encode()).hexdigest()


@dataclass
class Event:
    chain_id: int
    network: str
    source: str
    token: str
    address: str
    dataset: str
    event: str
    block: int
    log_index: int
    fields: dict[str, object]


@dataclass
class World:
    config: Config
    events: list[Event] = field(default_factory=list)
    # (token contract, holder or "" for totalSupply) -> list of (block, delta)
    flows: dict[tuple[int, str, str], list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list))

    def chain(self, chain_id: int) -> FakeChain:
        return FakeChain(chain_id, self)


class FakeChain:
    """Answers like a node would for the synthetic history (head fixed at HEAD)."""

    def __init__(self, chain_id: int, world: World) -> None:
        self.chain_id = chain_id
        self.world = world
        self.calls = 0

    def head(self) -> int:
        return HEAD

    def block(self, number: int) -> BlockHeader:
        if not 0 <= number <= HEAD:
            raise ValueError(number)
        return BlockHeader(number, block_hash(self.chain_id, number), block_ts(number))

    def call(self, to: str, data: str, block: int) -> bytes:
        self.calls += 1
        if data == SELECTOR_TOTAL_SUPPLY:
            key = (self.chain_id, to.lower(), "")
        elif data.startswith(SELECTOR_BALANCE_OF):
            key = (self.chain_id, to.lower(), "0x" + data[-40:])
        else:
            raise ValueError(data)
        total = sum(d for b, d in self.world.flows.get(key, []) if b <= block)
        return total.to_bytes(32, "big")


def _amount_scale(config: Config, token: str) -> int:
    return 10 ** config.tokens[token].decimals


def make_world(config: Config, seed: int = 7) -> World:
    rng = random.Random(seed)
    world = World(config)
    log_counter: dict[tuple[int, int], int] = defaultdict(int)

    def emit(net: str, src_name: str, event: str, block: int, **fields: object) -> None:
        src = next(s for s in config.networks[net].sources if s.name == src_name)
        cid = config.chains[src.chain].chain_id
        li = log_counter[(cid, block)]
        log_counter[(cid, block)] += 1
        dataset = {
            SourceKind.erc20: {"burn": "token_burns", "mint": "token_mints"}.get(event, ""),
            SourceKind.service_fee: "service_fees",
            SourceKind.lease_escrow: "lease_payments",
            SourceKind.price_feed: "token_prices",
        }[src.kind]
        world.events.append(Event(cid, net, src_name, src.token, src.address, dataset, event,
                                  block, li, dict(fields)))
        token = config.tokens[src.token]
        if src.kind is SourceKind.erc20:
            delta = int(fields["amount"])  # type: ignore[arg-type]
            world.flows[(cid, src.address, "")].append(
                (block, delta if event == "mint" else -delta))
        elif src.kind in (SourceKind.lease_escrow, SourceKind.service_fee):
            assert token.address is not None
            sign = 1 if event in ("lease_created", "deposit") else -1
            total = int(fields.get("amount") or 0) + int(fields.get("take_amount") or 0)
            world.flows[(cid, token.address, src.address)].append((block, sign * total))

    last = HEAD - 45  # stays below the deeper finality depth (arbitrum 40)
    for net_name in sorted(config.networks):
        net = config.networks[net_name]
        for src in net.sources:
            unit = _amount_scale(config, src.token)
            if src.kind is SourceKind.price_feed:
                for b in range(2, last, rng.randint(4, 10)):
                    emit(net_name, src.name, "answer_updated", b,
                         answer=rng.randint(50, 900) * 10**6, round_id=b,
                         updated_at=block_ts(b))
            elif src.kind is SourceKind.erc20:
                emit(net_name, src.name, "mint", 1, from_address="0x" + "00" * 20,
                     to_address="0x" + "aa" * 20, amount=10**9 * unit)
                for b in sorted(rng.sample(range(2, last), 60)):
                    kind = rng.choice(["burn", "burn", "mint"])
                    emit(net_name, src.name, kind, b,
                         from_address="0x" + ("00" * 20 if kind == "mint" else "bb" * 20),
                         to_address="0x" + ("cc" * 20 if kind == "mint" else "00" * 20),
                         amount=rng.randint(1, 10**4 * unit) + rng.randint(0, 99))
            elif src.kind is SourceKind.service_fee:
                for b in sorted(rng.sample(range(2, last), 50)):
                    amt = rng.randint(1, 10**5 * unit) + 7
                    emit(net_name, src.name, "deposit", b, developer="0x" + "dd" * 20,
                         nonce=b, amount=amt)
                    if rng.random() < 0.2:
                        emit(net_name, src.name, "withdraw", b + 1, developer="0x" + "dd" * 20,
                             nonce=b + 1, amount=amt // 3)
            elif src.kind is SourceKind.lease_escrow:
                for lease_id, b in enumerate(sorted(rng.sample(range(2, last - 20), 25))):
                    dep = rng.randint(10 * unit, 10**4 * unit)
                    emit(net_name, src.name, "lease_created", b, lease_id=lease_id,
                         tenant="0x" + "1e" * 20, provider="0x" + "9f" * 20,
                         price_per_block=dep // 100, amount=dep)
                    balance = dep
                    if rng.random() < 0.5:
                        top = rng.randint(1, 10 * unit)
                        emit(net_name, src.name, "deposit", b + 1, lease_id=lease_id,
                             tenant="0x" + "1e" * 20, amount=top)
                        balance += top
                    for k in range(2, 2 + rng.randint(1, 4)):
                        pay = rng.randint(0, balance // 4)
                        take = pay // 50 if src.token == "akt-dev" else pay // 5
                        if pay + take > balance:
                            continue
                        emit(net_name, src.name, "payment_withdrawn", b + 3 * k,
                             lease_id=lease_id, provider="0x" + "9f" * 20, amount=pay,
                             take_amount=take)
                        balance -= pay + take
                    emit(net_name, src.name, "lease_closed", b + 16, lease_id=lease_id,
                         tenant="0x" + "1e" * 20, provider="0x" + "9f" * 20)
                    emit(net_name, src.name, "refund", b + 16, lease_id=lease_id,
                         tenant="0x" + "1e" * 20, amount=balance)
    return world


def _datasets(config: Config, network: str) -> list[str]:
    out: set[str] = set()
    for s in config.networks[network].sources:
        out |= {
            SourceKind.erc20: {"token_burns", "token_mints"},
            SourceKind.service_fee: {"service_fees"},
            SourceKind.lease_escrow: {"lease_payments"},
            SourceKind.price_feed: {"token_prices"},
        }[s.kind]
    return sorted(out)


def _table(dataset: str, events: list[Event], network: str, chain_id: int) -> pa.Table:
    schema = ALL_SCHEMAS[dataset]
    cols: dict[str, list[object]] = {f.name: [] for f in schema}
    for e in sorted(events, key=lambda e: (e.block, e.log_index)):
        base = {
            "chain_id": chain_id, "network": network, "source": e.source, "token": e.token,
            "address": e.address, "event": e.event, "block_number": e.block,
            "block_hash": block_hash(chain_id, e.block), "block_timestamp": block_ts(e.block),
            "transaction_hash": "0x" + hashlib.sha256(
                f"{chain_id}:{e.block}:{e.log_index}".encode()).hexdigest(),
            "transaction_index": e.log_index, "log_index": e.log_index,
        }
        for f in schema:
            name = f.name
            if name in base:
                cols[name].append(base[name])
            elif name.endswith("_str"):
                v = e.fields.get(name.removesuffix("_str"))
                cols[name].append(None if v is None else str(v))
            elif pa.types.is_decimal(f.type):
                v = e.fields.get(name)
                cols[name].append(None if v is None or int(v) >= 10**38 else Decimal(int(v)))
            else:
                cols[name].append(e.fields.get(name))
    return pa.table(cols, schema=schema)


def _blocks_table(
    network: str, chain_id: int, numbers: list[int], roles: dict[int, str]
) -> pa.Table:
    rows = sorted(set(numbers))
    return pa.table(
        {
            "chain_id": [chain_id] * len(rows),
            "network": [network] * len(rows),
            "block_number": rows,
            "block_hash": [block_hash(chain_id, n) for n in rows],
            "parent_hash": [block_hash(chain_id, n - 1) for n in rows],
            "block_timestamp": [block_ts(n) for n in rows],
            "role": [roles.get(n, "log") for n in rows],
        },
        schema=ALL_SCHEMAS["blocks"],
    )


def write_lake(world: World, lake_root: Path) -> Lake:
    """Write the world's events as indexer chunks with checkpoints; index up to the final block."""
    config = world.config
    lake = Lake(lake_root)
    for network in sorted(config.networks):
        for chain_name in config.chains_of(network):
            chain = config.chains[chain_name]
            cid = chain.chain_id
            final = HEAD - chain.finality_depth
            cp = Checkpoint(network=network, chain_id=cid)
            evs = [e for e in world.events if e.network == network and e.chain_id == cid]
            for start in range(1, final + 1, CHUNK):
                end = min(start + CHUNK - 1, final)
                rows: dict[str, int] = {}
                in_chunk = [e for e in evs if start <= e.block <= end]
                for ds in _datasets(config, network):
                    t = _table(ds, [e for e in in_chunk if e.dataset == ds], network, cid)
                    lake.write_chunk(ds, network, cid, start, end, t)
                    rows[ds] = t.num_rows
                bt = _blocks_table(network, cid, [start, end] + [e.block for e in in_chunk],
                                   {start: "boundary", end: "boundary"})
                lake.write_chunk("blocks", network, cid, start, end, bt)
                rows["blocks"] = bt.num_rows
                cp.put(ChunkRecord(start, end, block_hash(cid, start), block_hash(cid, end),
                                   rows))
            lake.save_checkpoint(cp)
    return lake
