"""Reconciliation of a subtensor source (catalogue method `counter`).

The chain's cumulative counter SubtensorModule.RAORecycledForRegistration(netuid), read at the
block before the quarter and at its last block, must have grown by exactly the registration
burns the lake holds for that subnet in the quarter. The chain access (finalized head, Aura
block times, genesis identity, the counter's storage) is chains.substrate.SubstrateChain.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from chains.substrate import SubstrateChain

# The audit's reader of a Substrate chain (kept under the name the audit used before
# chains.substrate.SubstrateChain existed).
SubstrateReader = SubstrateChain


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
