"""Audit each network and quarter against the lake's checkpoints and the chain itself.

For every network, chain and UTC quarter the lake has blocks in (block numbers are EVM blocks,
Solana slots or Cosmos heights, by the chain's kind):

1. boundaries: the quarter's first and last block, by binary search over block timestamps on
   the chain (eth_getBlockByNumber; Solana getBlock, a skipped slot taking the time of the next
   produced one; Cosmos /block);
2. coverage: the checkpoint's chunks cover the quarter contiguously (no gap, no overlap), every
   chunk has its files with the recorded row counts, its boundary headers in the `blocks`
   dataset, hashes equal to the chain's, and is final (finality_depth behind the head). A
   Solana chunk's boundary headers are its first and last produced slots, which the audit
   asks the cluster for (getBlocksWithLimit / getBlocks) rather than taking from the lake;
3. reconciliation, read with eth_call at the block before the quarter and its last block:
   erc20 totalSupply change = minted - burned; lease escrow balance change = deposits
   (lease_created + deposit) - payouts - take - refunds; service fee contract balance change =
   deposits - withdrawals. The lake side is summed from `raw` (not from the dbt models), so the
   check is independent of the revenue logic. Solana spl_burns and Akash escrow sources are
   'not_applicable' (never a pass): standard Solana RPC has no token supply at a past slot,
   and the lake keeps only the Akash escrow account's outflows, not the tenant deposits that
   also move its balance; the reason is in the reconciliation's detail.

Results go to audit.* tables (recreated each build) and one row per network and quarter in
audit.quarter_audits, which the quarterly mart joins. Each quarter also gets its completeness:
`complete` (ended, final, and the lake covers it from its first block to its last), `open` (not
ended on the chain, not final, or not indexed to its end yet) or `partial_start` (ended and
indexed, but the network's indexed history begins inside it: the chain's genesis or the sources'
start_block falls after the quarter's start). The quarterly mart shows a quarter without revenue
events only when it is complete (or its audit failed): a zero row means "audited zero".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import duckdb

from chains.blocktime import BlockClock, final_block
from depinrev.config import Config, SourceKind
from depinrev.lake import Lake, LakeError
from depinrev.quarters import Quarter, quarters_between
from warehouse.audit.rpc import (
    AnyChainConfig,
    AnyReader,
    ChainReader,
    LedgerReader,
    NoBlock,
    RpcError,
    balance_of,
    block_clock,
    default_reader,
    total_supply,
)

# The reader for a chain: a ChainReader for an EVM chain, a LedgerReader for Solana / Cosmos.
ReaderFactory = Callable[[AnyChainConfig], AnyReader]

PASS, FAIL, INCOMPLETE, ERROR, SKIPPED = "pass", "fail", "incomplete", "error", "skipped"
# The chain's standard API cannot reconcile the source; the detail says why. Never a pass.
NOT_APPLICABLE = "not_applicable"
_SEVERITY = {PASS: 0, SKIPPED: 0, NOT_APPLICABLE: 0, INCOMPLETE: 1, ERROR: 2, FAIL: 3}
# Quarter completeness, least complete wins across a network's chains.
COMPLETE, PARTIAL_START, OPEN, UNKNOWN = "complete", "partial_start", "open", "unknown"
_COMPLETENESS_ORDER = {COMPLETE: 0, PARTIAL_START: 1, OPEN: 2}


def worst(statuses: list[str], empty: str = PASS) -> str:
    return max(statuses, key=lambda s: _SEVERITY[s]) if statuses else empty


AUDIT_DDL = """
create schema if not exists audit;
create or replace table audit.quarter_blocks (
    network varchar not null, chain varchar not null, chain_id bigint not null,
    quarter varchar not null, quarter_start_ts bigint not null, quarter_end_ts bigint not null,
    first_block bigint, last_block bigint, first_block_hash varchar, last_block_hash varchar,
    chain_head bigint, final boolean, primary key (network, chain_id, quarter));
create or replace table audit.coverage_checks (
    network varchar not null, chain_id bigint not null, quarter varchar not null,
    check_name varchar not null, status varchar not null, detail varchar not null);
create or replace table audit.reconciliations (
    network varchar not null, chain_id bigint not null, quarter varchar not null,
    source varchar not null, kind varchar not null, token varchar not null,
    measure varchar not null, block_before bigint, block_end bigint,
    chain_before varchar, chain_end varchar, chain_change varchar, lake_change varchar,
    difference varchar, status varchar not null, detail varchar not null);
create or replace table audit.quarter_audits (
    network varchar not null, quarter varchar not null, block_ranges varchar,
    coverage_status varchar not null, reconciliation_status varchar not null,
    audit_status varchar not null, quarter_completeness varchar not null,
    issue_count integer not null, issues varchar, primary key (network, quarter));
"""


@dataclass
class QuarterAudit:
    network: str
    quarter: str
    block_ranges: list[str] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)
    reconciliation: list[str] = field(default_factory=list)
    completeness: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)

    @property
    def quarter_completeness(self) -> str:
        """complete / partial_start / open over the network's chains; unknown if unaudited."""
        if self.errors or not self.completeness:
            return UNKNOWN
        return max(self.completeness, key=lambda c: _COMPLETENESS_ORDER[c])

    @property
    def coverage_status(self) -> str:
        return worst(self.coverage, empty=INCOMPLETE)

    @property
    def reconciliation_status(self) -> str:
        return worst(self.reconciliation, empty=SKIPPED)

    @property
    def status(self) -> str:
        if self.errors:
            return ERROR
        return worst([self.coverage_status, self.reconciliation_status])


@dataclass
class AuditResult:
    quarters: list[QuarterAudit]

    @property
    def ok(self) -> bool:
        return all(q.status in (PASS, INCOMPLETE) for q in self.quarters)

    def status(self, network: str, quarter: str) -> str | None:
        for q in self.quarters:
            if q.network == network and q.quarter == quarter:
                return q.status
        return None


def create_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)


@dataclass
class ChainAccess:
    """What the audit needs of one chain, whatever its kind: a clock over block times, the
    lowest block the node serves, boundary hashes, a chunk's produced boundary blocks."""

    kind: str
    reader: AnyReader
    clock: BlockClock
    lowest: int

    @classmethod
    def of(cls, chain: AnyChainConfig, reader: AnyReader) -> ChainAccess:
        if chain.kind == "evm":
            return cls("evm", reader, block_clock(cast(ChainReader, reader)), 0)
        ledger = cast(LedgerReader, reader)
        return cls(chain.kind, reader, BlockClock(ledger.block_time), ledger.earliest())

    @property
    def pruned(self) -> bool:
        """The node no longer serves the chain's first blocks (slot 0, height 1)."""
        return self.lowest > (1 if self.kind == "cosmos" else 0)

    @property
    def host(self) -> str:
        return str(getattr(self.reader, "host", "the chain's RPC"))

    def hash_at(self, number: int) -> str | None:
        """The block's hash; None for a Solana slot without a block."""
        try:
            return self.reader.block(number).hash
        except NoBlock:
            return None

    def bounds(self, start: int, end: int) -> tuple[int, int] | None:
        """A chunk's boundary blocks: its first and last on EVM and Cosmos, its first and last
        produced slots on Solana (None if every slot of it was skipped)."""
        if self.kind == "evm":
            return (start, end)
        return cast(LedgerReader, self.reader).produced_bounds(start, end)

    def same_hash(self, a: str, b: str) -> bool:
        """Hex hashes (EVM 0x..., Cosmos uppercase) compare without case; base58 (Solana)
        is case-sensitive and compares exactly."""
        return a == b if self.kind == "solana" else a.lower() == b.lower()


def run_audit(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    lake: Lake,
    reader_factory: ReaderFactory | None = None,
) -> AuditResult:
    """Audit every network and quarter; write audit.* tables; return the per-quarter results."""
    create_audit_tables(con)
    factory = reader_factory or default_reader
    readers: dict[str, ChainAccess | RpcError] = {}
    file_problems = _file_problems(con)
    results: dict[tuple[str, str], QuarterAudit] = {}
    for network in sorted(config.networks):
        for chain_name in config.chains_of(network):
            chain = config.any_chain(chain_name)
            span = con.execute(
                "select min(block_timestamp), max(block_timestamp) from raw.blocks "
                "where network = ? and chain_id = ?",
                [network, chain.chain_id],
            ).fetchone()
            if span is None or span[0] is None:
                continue
            if chain_name not in readers:
                try:
                    reader_of = (
                        factory(chain) if reader_factory is not None
                        else default_reader(chain, chain_name)
                    )
                    readers[chain_name] = ChainAccess.of(chain, reader_of)
                except Exception as exc:  # a missing URL is as fatal to the audit as a refusal
                    readers[chain_name] = RpcError(str(exc))
            reader = readers[chain_name]
            for q in quarters_between(int(span[0]), int(span[1])):
                qa = results.setdefault((network, q.label), QuarterAudit(network, q.label))
                if isinstance(reader, RpcError):
                    qa.errors.append(f"chain {chain_name}: RPC unavailable: {reader}")
                    continue
                try:
                    _audit_chain_quarter(
                        con, config, lake, network, chain_name, chain, reader, q, qa,
                        file_problems,
                    )
                except RpcError as exc:
                    qa.errors.append(f"chain {chain_name}: {exc}")
    out = [results[k] for k in sorted(results)]
    for qa in out:
        issues = qa.errors + qa.issues
        con.execute(
            "insert into audit.quarter_audits values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [qa.network, qa.quarter, ",".join(qa.block_ranges) or None,
             ERROR if qa.errors and not qa.coverage else qa.coverage_status,
             ERROR if qa.errors and not qa.reconciliation else qa.reconciliation_status,
             qa.status, qa.quarter_completeness, len(issues), "\n".join(issues) or None],
        )
    return AuditResult(out)


def _file_problems(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int, int, str]]:
    """Rows whose in-file network/chain or block lies outside the file's partition and range."""
    out: list[tuple[str, str, int, int, int, str]] = []
    datasets = [r[0] for r in con.execute(
        "select distinct dataset from audit.lake_files order by 1").fetchall()]
    for ds in datasets:
        rows = con.execute(
            f"""
            select f.network, f.path, f.chain_id, f.start_block, f.end_block,
                count(*) filter (where r.network <> f.network or r.chain_id <> f.chain_id),
                count(*) filter (where r.block_number not between f.start_block and f.end_block)
            from raw.{ds} as r
            join audit.lake_files as f on r.lake_file = f.path
            group by all
            having count(*) filter (where r.network <> f.network or r.chain_id <> f.chain_id) > 0
                or count(*) filter (
                    where r.block_number not between f.start_block and f.end_block) > 0
            """
        ).fetchall()
        for net, path, cid, start, end, wrong_part, wrong_range in rows:
            out.append((net, path, cid, start, end,
                        f"{path}: {wrong_part} rows of another network/chain than its partition, "
                        f"{wrong_range} rows outside blocks {start}-{end}"))
    return out


def _audit_chain_quarter(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    lake: Lake,
    network: str,
    chain_name: str,
    chain: AnyChainConfig,
    access: ChainAccess,
    q: Quarter,
    qa: QuarterAudit,
    file_problems: list[tuple[str, str, int, int, int, str]],
) -> None:
    cid = chain.chain_id
    reader = access.reader
    head = reader.head()
    clock = access.clock
    if access.pruned and clock.timestamp(access.lowest) >= q.start_ts:
        # The node's history starts after the quarter's start: its first block is unknown.
        unit = {"solana": "slot", "cosmos": "height"}.get(access.kind, "block")
        detail = (
            f"pruned: the node at {access.host} keeps {unit}s from {access.lowest} only, and "
            f"{q.label} begins before that; audit this quarter against an archive node"
        )
        con.execute(
            "insert into audit.coverage_checks values (?, ?, ?, ?, ?, ?)",
            [network, cid, q.label, "boundaries", INCOMPLETE, detail],
        )
        qa.coverage.append(INCOMPLETE)
        qa.issues.append(f"[{chain_name} boundaries] {detail}")
        qa.completeness.append(OPEN)
        return
    first = clock.first_at_or_after(q.start_ts, access.lowest, head)
    nxt = None if first is None else clock.first_at_or_after(q.end_ts, first, head)
    last = None if nxt is None else nxt - 1
    final_head = final_block(head, chain.finality_depth)
    final = last is not None and last <= final_head
    con.execute(
        "insert into audit.quarter_blocks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [network, chain_name, cid, q.label, q.start_ts, q.end_ts, first, last,
         access.hash_at(first) if first is not None else None,
         access.hash_at(last) if last is not None else None, head, final],
    )

    def check(name: str, status: str, detail: str) -> None:
        con.execute(
            "insert into audit.coverage_checks values (?, ?, ?, ?, ?, ?)",
            [network, cid, q.label, name, status, detail],
        )
        qa.coverage.append(status)
        if status != PASS:
            qa.issues.append(f"[{chain_name} {name}] {detail}")

    if first is None:
        check("boundaries", INCOMPLETE, f"the chain has not reached {q.label} (head {head})")
        qa.completeness.append(OPEN)
        return
    qa.block_ranges.append(f"{cid}:{first}-{last if last is not None else '?'}")
    if last is None:
        check("boundaries", INCOMPLETE,
              f"{q.label} has not ended on the chain (head {head}); first block {first}")
    elif not final:
        check("finality", INCOMPLETE,
              f"last block {last} of {q.label} is not final: head {head}, finality depth "
              f"{chain.finality_depth}")
    # Blocks before the network's earliest source start are not indexed by design.
    start_block = min(s.start_block for s in config.network(network).sources
                      if s.chain == chain_name)
    need_lo = max(first, start_block)
    need_hi = last if last is not None else head
    # The chain began inside the quarter (genesis after its start) or the sources start later.
    starts_inside = start_block > first or (
        first == access.lowest and clock.timestamp(access.lowest) > q.start_ts)

    try:
        cp = lake.load_checkpoint(network, cid)
    except LakeError as exc:
        check("checkpoint", FAIL, str(exc))
        qa.completeness.append(OPEN)
        return
    chunks = sorted(cp.chunks, key=lambda c: (c.start, c.end))
    overlaps = [
        f"{a.start}-{a.end} and {b.start}-{b.end}"
        for a, b in itertools.pairwise(chunks) if b.start <= a.end
    ]
    if overlaps:
        check("overlap", FAIL, f"checkpoint chunks overlap: {'; '.join(overlaps)}")
    in_q = [c for c in chunks if c.end >= need_lo and c.start <= need_hi]
    gaps: list[str] = []
    cursor = need_lo
    for c in in_q:
        if c.start > cursor:
            gaps.append(f"{cursor}-{c.start - 1}")
        cursor = max(cursor, c.end + 1)
    covered_to = cursor - 1
    if last is None or not final or covered_to < need_hi:
        qa.completeness.append(OPEN)
    else:
        qa.completeness.append(PARTIAL_START if starts_inside else COMPLETE)
    if gaps:
        check("contiguity", FAIL, f"blocks not indexed inside {q.label}: {', '.join(gaps)} "
              f"(quarter needs {need_lo}-{need_hi})")
    elif covered_to < need_hi:
        # the indexer has not reached the end of the quarter yet: not wrong, not done
        check("contiguity", INCOMPLETE,
              f"indexed up to block {covered_to}; {q.label} needs {need_lo}-{need_hi}")
    else:
        check("contiguity", PASS, f"blocks {need_lo}-{need_hi} covered by {len(in_q)} chunks")
    if in_q and in_q[-1].end > final_head:
        check("finality", FAIL, f"chunk {in_q[-1].start}-{in_q[-1].end} ends above the final "
              f"block {final_head}")

    # Files versus the checkpoint: each chunk's files exist with the recorded row counts.
    files = {
        (r[0], r[1], r[2]): (r[3], r[4])
        for r in con.execute(
            "select dataset, start_block, end_block, row_count, path from audit.lake_files "
            "where network = ? and chain_id = ?", [network, cid]).fetchall()
    }
    chunk_ranges = {(c.start, c.end) for c in chunks}
    file_issues: list[str] = []
    for c in in_q:
        for ds, n in sorted(c.rows.items()):
            got = files.get((ds, c.start, c.end))
            if got is None:
                file_issues.append(
                    f"{ds} chunk {c.start}-{c.end}: checkpoint records {n} rows, file missing")
            elif got[0] != n:
                file_issues.append(
                    f"{ds} chunk {c.start}-{c.end}: checkpoint records {n} rows, file has "
                    f"{got[0]} ({got[1]})")
    for (ds, s, e), (_, path) in sorted(files.items()):
        if e >= need_lo and s <= need_hi and (s, e) not in chunk_ranges:
            file_issues.append(f"{ds} file {path} (blocks {s}-{e}) is not a checkpointed chunk")
    for net, _path, fcid, s, e, detail in file_problems:
        if net == network and fcid == cid and e >= need_lo and s <= need_hi:
            file_issues.append(detail)
    if file_issues:
        check("files", FAIL, "; ".join(file_issues))
    else:
        check("files", PASS, f"{len(in_q)} chunks match their files")

    # Boundary headers: lake `blocks` dataset = checkpoint = chain.
    headers = dict(con.execute(
        "select block_number, any_value(block_hash) from raw.blocks where network = ? and "
        "chain_id = ? and role = 'boundary' group by 1", [network, cid]).fetchall())
    hash_issues: list[str] = []
    n_hashes = 0
    below: list[str] = []
    for c in in_q:
        if c.start < access.lowest:
            # A chunk reaching below the node's history: its start (in an earlier quarter)
            # cannot be read here; its end is checked.
            below.append(f"{c.start}-{c.end}")
            bounds = access.bounds(access.lowest, c.end)
            if bounds is not None:
                n_hashes += 1
                n = bounds[1]
                lake_hash = headers.get(n)
                chain_hash = reader.block(n).hash
                if lake_hash is None:
                    hash_issues.append(f"block {n}: no boundary header in the blocks dataset")
                elif not access.same_hash(lake_hash, c.end_hash):
                    hash_issues.append(
                        f"block {n}: blocks dataset {lake_hash} != checkpoint {c.end_hash}")
                if not access.same_hash(chain_hash, c.end_hash):
                    hash_issues.append(f"block {n}: chain {chain_hash} != checkpoint {c.end_hash}")
            continue
        bounds = access.bounds(c.start, c.end)
        if bounds is None:  # Solana: every slot of the chunk skipped, nothing to hash
            if c.start_hash or c.end_hash:
                hash_issues.append(
                    f"chunk {c.start}-{c.end}: the chain has no block in it, but the "
                    f"checkpoint records boundary hashes {c.start_hash}, {c.end_hash}")
            continue
        for n, want in ((bounds[0], c.start_hash), (bounds[1], c.end_hash)):
            n_hashes += 1
            lake_hash = headers.get(n)
            chain_hash = reader.block(n).hash
            if lake_hash is None:
                hash_issues.append(f"block {n}: no boundary header in the blocks dataset")
            elif not access.same_hash(lake_hash, want):
                hash_issues.append(f"block {n}: blocks dataset {lake_hash} != checkpoint {want}")
            if not access.same_hash(chain_hash, want):
                hash_issues.append(f"block {n}: chain {chain_hash} != checkpoint {want}")
    if hash_issues:
        check("boundary_hashes", FAIL, "; ".join(hash_issues))
    else:
        note = (
            f" (start of chunk {', '.join(below)} below the node's first block "
            f"{access.lowest}: not read)" if below else ""
        )
        check("boundary_hashes", PASS,
              f"{n_hashes} chunk boundary hashes match the chain{note}")

    if last is None or gaps or covered_to < need_hi:
        qa.reconciliation.append(INCOMPLETE)
        return
    _reconcile(con, config, network, chain_name, cid, reader, q, first, last, qa)


# Why a source kind cannot be reconciled against chain state with the chain's standard API.
NOT_RECONCILABLE: dict[SourceKind, tuple[str, str]] = {
    # kind -> (measure, reason)
    SourceKind.spl_burns: (
        "token supply",
        "not reconciled: Solana's standard RPC answers getTokenSupply for the current slot "
        "only (no supply at a past slot), and a burn_owners filter keeps only some of the "
        "mint's burns; the burns are checked by coverage (every slot of the quarter indexed, "
        "boundary hashes equal to the cluster's) only",
    ),
    SourceKind.akash_escrow: (
        "escrow module account balance",
        "not reconciled: the lake keeps the escrow account's outflows (provider and take "
        "payments, refunds, returned deposits) but not the tenant deposits flowing into it, "
        "so its bank balance change (readable at a height only from an archive node, "
        "abci_query /cosmos.bank.v1beta1.Query/Balance) cannot be compared with the lake; "
        "the payments are checked by coverage (every height of the quarter indexed, boundary "
        "hashes equal to the chain's) only",
    ),
}


_FLOW_SQL: dict[SourceKind, list[tuple[str, str, str, int]]] = {
    # (dataset, event, amount column, sign) of the flows that move the measured balance
    SourceKind.erc20: [("token_mints", "mint", "amount", 1), ("token_burns", "burn", "amount", -1)],
    SourceKind.lease_escrow: [
        ("lease_payments", "lease_created", "amount", 1),
        ("lease_payments", "deposit", "amount", 1),
        ("lease_payments", "payment_withdrawn", "amount", -1),
        ("lease_payments", "payment_withdrawn", "take_amount", -1),
        ("lease_payments", "refund", "amount", -1),
    ],
    SourceKind.service_fee: [
        ("service_fees", "deposit", "amount", 1),
        ("service_fees", "withdraw", "amount", -1),
    ],
}


def _lake_flow(
    con: duckdb.DuckDBPyConnection, network: str, source: str, cid: int, kind: SourceKind,
    first: int, last: int,
) -> tuple[int, list[str], int]:
    """Net flow of a source over [first, last] from the raw lake; (net, parts, overflow rows)."""
    net = 0
    parts: list[str] = []
    overflow = 0
    for ds, event, col, sign in _FLOW_SQL[kind]:
        row = con.execute(
            f"""
            select coalesce(sum(try_cast({col}_str as hugeint)), 0)::varchar,
                count(*) filter (where {col}_str is not null
                                 and try_cast({col}_str as hugeint) is null)
            from raw.{ds}
            where network = ? and source = ? and chain_id = ? and event = ?
                and block_number between ? and ?
            """,
            [network, source, cid, event, first, last],
        ).fetchone()
        assert row is not None
        total = int(row[0])
        overflow += int(row[1])
        net += sign * total
        parts.append(f"{'+' if sign > 0 else '-'}{event}.{col} {total}")
    return net, parts, overflow


def _reconcile(
    con: duckdb.DuckDBPyConnection, config: Config, network: str, chain_name: str, cid: int,
    reader: AnyReader, q: Quarter, first: int, last: int, qa: QuarterAudit,
) -> None:
    before = first - 1
    evm = cast(ChainReader, reader)  # only EVM source kinds are read with eth_call below
    for src in config.network(network).sources:
        if src.chain != chain_name:
            continue
        if src.kind in NOT_RECONCILABLE:
            measure, reason = NOT_RECONCILABLE[src.kind]
            _record(con, network, cid, q, src.name, src.kind.value, src.token, measure, None,
                    last, None, None, None, NOT_APPLICABLE, f"{src.name}: {reason}", qa)
            continue
        if src.kind not in _FLOW_SQL:
            continue
        token = config.tokens[src.token]
        if src.kind is SourceKind.erc20:
            measure = "totalSupply"
            contract = src.address
            read = lambda b, c=contract: total_supply(evm, c, b)  # noqa: E731
        else:
            measure = f"balanceOf({src.address})"
            if token.address is None or token.chain != chain_name:
                _record(con, network, cid, q, src.name, src.kind.value, src.token, measure,
                        None, None, None, None, None, SKIPPED,
                        f"token {src.token} has no contract on {chain_name}: nothing to read",
                        qa)
                continue
            contract = token.address
            read = lambda b, c=contract, h=src.address: balance_of(evm, c, h, b)  # noqa: E731
        chain_before = read(before) if before >= 0 else 0
        chain_end = read(last)
        lake_change, parts, overflow = _lake_flow(
            con, network, src.name, cid, src.kind, first, last)
        chain_change = chain_end - chain_before
        diff = chain_change - lake_change
        if overflow:
            status, detail = FAIL, f"{overflow} lake amounts exceed HUGEINT; cannot sum exactly"
        elif diff == 0:
            status, detail = PASS, f"{measure} change {chain_change} = lake {' '.join(parts)}"
        else:
            status = FAIL
            detail = (
                f"{src.name}: {measure} of {contract} changed by {chain_change} on chain "
                f"(block {before}: {chain_before}, block {last}: {chain_end}) but the lake "
                f"says {lake_change} ({' '.join(parts)}); difference {diff}"
            )
        _record(con, network, cid, q, src.name, src.kind.value, src.token, measure, before,
                last, chain_before, chain_end, lake_change, status, detail, qa)


def _record(
    con: duckdb.DuckDBPyConnection, network: str, cid: int, q: Quarter, source: str, kind: str,
    token: str, measure: str, before: int | None, end: int | None, chain_before: int | None,
    chain_end: int | None, lake_change: int | None, status: str, detail: str, qa: QuarterAudit,
) -> None:
    chain_change = (
        None if chain_before is None or chain_end is None else chain_end - chain_before)
    diff = None if chain_change is None or lake_change is None else chain_change - lake_change

    def s(v: int | None) -> str | None:
        return None if v is None else str(v)

    con.execute(
        "insert into audit.reconciliations values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [network, cid, q.label, source, kind, token, measure, before, end, s(chain_before),
         s(chain_end), s(chain_change), s(lake_change), s(diff), status, detail],
    )
    qa.reconciliation.append(status)
    if status == FAIL:
        qa.issues.append(f"[reconciliation {source}] {detail}")
