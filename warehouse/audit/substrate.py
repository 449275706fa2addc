"""The audit's access to a Substrate chain (Bittensor): a LedgerReader over chains.substrate.

Block numbers are heights; every height has a block; the head is the finalized head (GRANDPA);
block times come from the header's Aura slot, as the indexer reads them. The genesis hash is
checked against the configuration before anything is read.

Reconciliation of a subtensor source (catalogue: `counter`): the chain's cumulative counter
SubtensorModule.RAORecycledForRegistration(netuid), read at the block before the quarter and
at its last block, must have grown by exactly the registration burns the lake holds for that
subnet in the quarter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb

from chains.substrate import SubstrateClient, SubstrateError
from chains.transport import RpcError as ClientRpcError
from chains.transport import RpcUnavailable
from warehouse.audit.rpc import BlockHeader, RpcError

T = TypeVar("T")


class SubstrateReader:
    """A Substrate chain as the audit sees it; headers are cached (the audit re-reads them)."""

    kind = "substrate"

    def __init__(self, url: str, genesis_hash: str, slot_seconds: int = 12) -> None:
        self._client = SubstrateClient(url, slot_seconds=slot_seconds)
        self._blocks: dict[int, BlockHeader] = {}
        got = self._guard(self._client.genesis_hash)
        if got.lower() != genesis_hash.lower():
            self._client.close()
            raise RpcError(
                f"{url} serves the chain with genesis hash {got}, but the configuration says "
                f"{genesis_hash}: not auditing against another chain"
            )

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except (ClientRpcError, RpcUnavailable, SubstrateError) as exc:
            raise RpcError(f"{self._client.url}: {exc}") from exc

    def head(self) -> int:
        return int(self._guard(self._client.finalized_head))

    def earliest(self) -> int:
        return 1  # the genesis block has no Aura slot, so no time: the clock starts at 1

    def block(self, number: int) -> BlockHeader:
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        h = self._guard(self._client.header_at, number)
        header = BlockHeader(h.number, h.hash, h.timestamp)
        self._blocks[number] = header
        return header

    def block_time(self, number: int) -> int:
        return self.block(number).timestamp

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        return (start, end)  # every height has a block

    def close(self) -> None:
        self._client.close()

    def recycled_for_registration(self, netuid: int, number: int) -> int:
        return int(self._guard(self._client.recycled_for_registration, netuid, number))


@dataclass(frozen=True)
class CounterCheck:
    """One subnet's registration burns over a quarter: the chain's counter against the lake."""

    netuid: int
    chain_before: int
    chain_end: int
    lake: int

    @property
    def difference(self) -> int:
        return self.chain_end - self.chain_before - self.lake


def registration_burn_checks(
    con: duckdb.DuckDBPyConnection, reader: SubstrateReader, network: str, source: str,
    cid: int, before: int, last: int,
) -> list[CounterCheck]:
    """RAORecycledForRegistration(netuid) diffed between the block before the quarter and its
    last block, against the registration burns the lake holds in between, for every subnet
    the lake has a registration burn or a network lock of (a subnet the lake never saw
    cannot be listed without enumerating the chain's map)."""
    netuids = [
        int(r[0])
        for r in con.execute(
            """
            select distinct netuid from raw.tao_events
            where network = ? and source = ? and chain_id = ? and netuid is not null
                and event in ('registration_burn', 'network_lock')
            order by 1
            """,
            [network, source, cid],
        ).fetchall()
    ]
    out = []
    for netuid in netuids:
        (lake,) = con.execute(
            """
            select coalesce(sum(cast(amount_str as hugeint)), 0)::varchar from raw.tao_events
            where network = ? and source = ? and chain_id = ? and netuid = ?
                and event = 'registration_burn' and block_number between ? and ?
            """,
            [network, source, cid, netuid, before + 1, last],
        ).fetchall()[0]
        chain_before = reader.recycled_for_registration(netuid, before) if before >= 0 else 0
        out.append(
            CounterCheck(netuid, chain_before, reader.recycled_for_registration(netuid, last),
                         int(lake))
        )
    return out
