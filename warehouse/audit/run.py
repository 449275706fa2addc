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
3. reconciliation of each source by the method its configuration declares (default by kind,
   docs/networks.md): `total_supply` (eth_call at the block before the quarter and its last
   block: the token's totalSupply change = minted - burned), `balance_of` (the holder's token
   balance change = the source's net flows: escrow deposits (lease_created + deposit) - payouts
   - take - refunds; fee contract deposits - withdrawals), `second_endpoint` (every chunk read
   again from another RPC: per-chunk row digests equal, warehouse/audit/second_endpoint.py),
   `counter` (a subtensor source: SubtensorModule.RAORecycledForRegistration(netuid) read at the
   block before the quarter and its last block grows by the lake's registration burns of that
   subnet, warehouse/audit/substrate.py; its other events not_applicable with the reason) or
   `none` ('not_applicable' with its reason, never a pass: price feeds, Solana spl_burns and the
   Akash escrow by default, since standard Solana RPC has no token supply at a past slot and
   the lake keeps only the Akash escrow account's outflows). The lake side is summed from `raw`
   (not from the dbt models), so the check is independent of the revenue logic.

Each check is a function returning a small result (CheckResult, Coverage, Reconciled) that
`_audit_chain_quarter` records; a check whose premise failed (no boundaries, no checkpoint, a
gap) stops the ones after it.

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
from depinrev.catalogue import CATALOGUE, Reconciliation, dataset_of
from depinrev.config import ChainConfig, Config, SourceConfig, SourceKind
from depinrev.lake import ChunkRecord, Lake, LakeError
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
from warehouse.audit.second_endpoint import SecondEndpoints, compare_chunks, mismatch_summary
from warehouse.audit.substrate import SubstrateReader, registration_burn_checks

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
    difference varchar, status varchar not null, detail varchar not null,
    method varchar);
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
        """The node no longer serves the chain's first blocks (slot 0, height 1; a Substrate
        chain's clock starts at block 1: the genesis has no Aura slot)."""
        return self.lowest > (1 if self.kind in ("cosmos", "substrate") else 0)

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
    readers: dict[str, ChainAccess | RpcError] = {}
    file_problems = _file_problems(con)
    endpoints = SecondEndpoints()
    results: dict[tuple[str, str], QuarterAudit] = {}
    try:
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
                            reader_factory(chain) if reader_factory is not None
                            else default_reader(chain, chain_name)
                        )
                        readers[chain_name] = ChainAccess.of(chain, reader_of)
                    except Exception as exc:  # a missing URL is as fatal as a refusal
                        readers[chain_name] = RpcError(str(exc))
                reader = readers[chain_name]
                for q in quarters_between(int(span[0]), int(span[1])):
                    qa = results.setdefault((network, q.label), QuarterAudit(network, q.label))
                    if isinstance(reader, RpcError):
                        qa.errors.append(f"chain {chain_name}: RPC unavailable: {reader}")
                        continue
                    cq = ChainQuarter(con, config, lake, network, chain_name, chain, reader, q,
                                      file_problems, endpoints)
                    try:
                        _audit_chain_quarter(cq, qa)
                    except RpcError as exc:
                        qa.errors.append(f"chain {chain_name}: {exc}")
    finally:
        endpoints.close()
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


_FILE_CHECKS_DDL = """
create table if not exists audit.file_checks (
    path varchar not null, sha256 varchar not null, wrong_partition bigint not null,
    wrong_range bigint not null, primary key (path, sha256))
"""


def _file_problems(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int, int, str]]:
    """Rows whose in-file network/chain or block lies outside the file's partition and range.

    The counts depend on the file's bytes and its path only, so they are kept per (path,
    SHA-256) in audit.file_checks: only the files of this build without counts for their
    current hash are read (directly, not through the raw views that list every file)."""
    con.execute(_FILE_CHECKS_DDL)
    con.execute("delete from audit.file_checks where (path, sha256) not in "
                "(select (path, sha256) from audit.lake_files)")
    todo = con.execute(
        "select f.dataset, f.path, f.sha256, f.lake_root from audit.lake_files as f "
        "anti join audit.file_checks as c on c.path = f.path and c.sha256 = f.sha256 "
        "order by f.dataset, f.path").fetchall()
    by_dataset: dict[str, list[tuple[str, str, str]]] = {}
    for ds, path, sha, root in todo:
        by_dataset.setdefault(ds, []).append((path, sha, root))
    for ds, files in by_dataset.items():
        listing = ", ".join(_sql_str(f"{root}/{path}") for path, _, root in files)
        cut = len(files[0][2]) + 2
        assert all(len(root) + 2 == cut for _, _, root in files)
        con.execute(
            f"""
            insert into audit.file_checks
            select f.path, f.sha256,
                count(r.lake_file) filter (
                    where r.network <> f.network or r.chain_id <> f.chain_id),
                count(r.lake_file) filter (
                    where r.block_number not between f.start_block and f.end_block)
            from audit.lake_files as f
            left join (
                select network, chain_id, block_number, substr(filename, {cut}) as lake_file
                from read_parquet([{listing}], hive_partitioning = false, filename = true)
            ) as r on r.lake_file = f.path
            where f.dataset = ? and f.path in (select unnest(?))
            group by f.path, f.sha256
            """,
            [ds, [path for path, _, _ in files]],
        )
    rows = con.execute(
        """
        select f.network, f.path, f.chain_id, f.start_block, f.end_block, c.wrong_partition,
            c.wrong_range
        from audit.lake_files as f
        join audit.file_checks as c on c.path = f.path and c.sha256 = f.sha256
        where c.wrong_partition > 0 or c.wrong_range > 0
        order by f.dataset, f.path
        """
    ).fetchall()
    return [(net, path, cid, start, end,
             f"{path}: {wrong_part} rows of another network/chain than its partition, "
             f"{wrong_range} rows outside blocks {start}-{end}")
            for net, path, cid, start, end, wrong_part, wrong_range in rows]


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --- one chain and quarter: small checks, each returning its result ----------------------------
FileProblem = tuple[str, str, int, int, int, str]


@dataclass(frozen=True)
class CheckResult:
    """One row of audit.coverage_checks."""

    name: str
    status: str
    detail: str


@dataclass(frozen=True)
class ChainQuarter:
    """What every check of one network, chain and quarter reads."""

    con: duckdb.DuckDBPyConnection
    config: Config
    lake: Lake
    network: str
    chain_name: str
    chain: AnyChainConfig
    access: ChainAccess
    q: Quarter
    file_problems: list[FileProblem]
    endpoints: SecondEndpoints

    @property
    def cid(self) -> int:
        return self.chain.chain_id

    @property
    def sources(self) -> list[SourceConfig]:
        return [s for s in self.config.network(self.network).sources if s.chain == self.chain_name]


@dataclass(frozen=True)
class Boundaries:
    """The quarter's first and last block on the chain (None: not reached / not ended)."""

    head: int
    first: int | None
    last: int | None
    final: bool


@dataclass(frozen=True)
class Coverage:
    """The checkpoint's chunks against the quarter's blocks [need_lo, need_hi]."""

    need_lo: int
    need_hi: int
    chunks: list[ChunkRecord]  # every checkpointed chunk of the chain, sorted
    in_quarter: list[ChunkRecord]
    gaps: list[str]
    covered_to: int
    completeness: str
    checks: list[CheckResult]


@dataclass(frozen=True)
class Reconciled:
    """One row of audit.reconciliations: a source's quarter against independent evidence."""

    source: SourceConfig
    method: Reconciliation
    measure: str
    status: str
    detail: str
    block_before: int | None = None
    block_end: int | None = None
    chain_before: int | None = None
    chain_end: int | None = None
    chain_change: int | None = None  # from the chain (state change or the second endpoint's rows)
    lake_change: int | None = None

    @property
    def difference(self) -> int | None:
        if self.chain_change is None or self.lake_change is None:
            return None
        return self.chain_change - self.lake_change


def _audit_chain_quarter(cq: ChainQuarter, qa: QuarterAudit) -> None:
    """Run the checks in order; a check whose premise failed stops the ones after it."""
    pruned = pruned_check(cq)
    if pruned is not None:
        _check(cq, qa, pruned)
        qa.completeness.append(OPEN)
        return
    b = find_boundaries(cq)
    cq.con.execute(
        "insert into audit.quarter_blocks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [cq.network, cq.chain_name, cq.cid, cq.q.label, cq.q.start_ts, cq.q.end_ts, b.first,
         b.last, cq.access.hash_at(b.first) if b.first is not None else None,
         cq.access.hash_at(b.last) if b.last is not None else None, b.head, b.final],
    )
    for c in boundary_checks(cq, b):
        _check(cq, qa, c)
    if b.first is None:
        qa.completeness.append(OPEN)
        return
    qa.block_ranges.append(f"{cq.cid}:{b.first}-{b.last if b.last is not None else '?'}")
    cov = check_coverage(cq, b)
    if isinstance(cov, CheckResult):  # no readable checkpoint: nothing further to compare
        _check(cq, qa, cov)
        qa.completeness.append(OPEN)
        return
    qa.completeness.append(cov.completeness)
    for c in [*cov.checks, check_files(cq, cov), check_boundary_hashes(cq, cov)]:
        _check(cq, qa, c)
    if b.last is None or cov.gaps or cov.covered_to < cov.need_hi:
        qa.reconciliation.append(INCOMPLETE)
        return
    for r in reconcile_sources(cq, b.first, b.last, cov):
        _record(cq, qa, r)


def _check(cq: ChainQuarter, qa: QuarterAudit, c: CheckResult) -> None:
    cq.con.execute(
        "insert into audit.coverage_checks values (?, ?, ?, ?, ?, ?)",
        [cq.network, cq.cid, cq.q.label, c.name, c.status, c.detail],
    )
    qa.coverage.append(c.status)
    if c.status != PASS:
        qa.issues.append(f"[{cq.chain_name} {c.name}] {c.detail}")


def pruned_check(cq: ChainQuarter) -> CheckResult | None:
    """A quarter that begins before the node's first kept block cannot be bounded on this
    node (its first block is unknown): incomplete, with what to do."""
    access, q = cq.access, cq.q
    if not access.pruned or access.clock.timestamp(access.lowest) < q.start_ts:
        return None
    unit = {"solana": "slot", "cosmos": "height"}.get(access.kind, "block")
    return CheckResult(
        "boundaries", INCOMPLETE,
        f"pruned: the node at {access.host} keeps {unit}s from {access.lowest} only, and "
        f"{q.label} begins before that; audit this quarter against an archive node",
    )


def find_boundaries(cq: ChainQuarter) -> Boundaries:
    """The quarter's first and last block, by binary search over block times."""
    access, q = cq.access, cq.q
    head = access.reader.head()
    first = access.clock.first_at_or_after(q.start_ts, access.lowest, head)
    nxt = None if first is None else access.clock.first_at_or_after(q.end_ts, first, head)
    last = None if nxt is None else nxt - 1
    final = last is not None and last <= final_block(head, cq.chain.finality_depth)
    return Boundaries(head, first, last, final)


def boundary_checks(cq: ChainQuarter, b: Boundaries) -> list[CheckResult]:
    """The quarter not reached, not ended, or not final yet: incomplete, never a failure."""
    label = cq.q.label
    if b.first is None:
        return [CheckResult("boundaries", INCOMPLETE,
                            f"the chain has not reached {label} (head {b.head})")]
    if b.last is None:
        return [CheckResult("boundaries", INCOMPLETE,
                            f"{label} has not ended on the chain (head {b.head}); first block "
                            f"{b.first}")]
    if not b.final:
        return [CheckResult("finality", INCOMPLETE,
                            f"last block {b.last} of {label} is not final: head {b.head}, "
                            f"finality depth {cq.chain.finality_depth}")]
    return []


def check_coverage(cq: ChainQuarter, b: Boundaries) -> Coverage | CheckResult:
    """Overlap, contiguity and finality of the checkpoint's chunks over the quarter; the
    quarter's completeness. A checkpoint that cannot be read is a failed `checkpoint` check."""
    assert b.first is not None
    # Blocks before the network's earliest source start are not indexed by design.
    start_block = min(s.start_block for s in cq.sources)
    need_lo = max(b.first, start_block)
    need_hi = b.last if b.last is not None else b.head
    # The chain began inside the quarter (genesis after its start) or the sources start later.
    starts_inside = start_block > b.first or (
        b.first == cq.access.lowest
        and cq.access.clock.timestamp(cq.access.lowest) > cq.q.start_ts)
    try:
        cp = cq.lake.load_checkpoint(cq.network, cq.cid)
    except LakeError as exc:
        return CheckResult("checkpoint", FAIL, str(exc))
    chunks = sorted(cp.chunks, key=lambda c: (c.start, c.end))
    checks: list[CheckResult] = []
    overlaps = [f"{a.start}-{a.end} and {c.start}-{c.end}"
                for a, c in itertools.pairwise(chunks) if c.start <= a.end]
    if overlaps:
        checks.append(CheckResult("overlap", FAIL,
                                  f"checkpoint chunks overlap: {'; '.join(overlaps)}"))
    in_q = [c for c in chunks if c.end >= need_lo and c.start <= need_hi]
    gaps: list[str] = []
    cursor = need_lo
    for c in in_q:
        if c.start > cursor:
            gaps.append(f"{cursor}-{c.start - 1}")
        cursor = max(cursor, c.end + 1)
    covered_to = cursor - 1
    if b.last is None or not b.final or covered_to < need_hi:
        completeness = OPEN
    else:
        completeness = PARTIAL_START if starts_inside else COMPLETE
    label = cq.q.label
    if gaps:
        checks.append(CheckResult("contiguity", FAIL,
                                  f"blocks not indexed inside {label}: {', '.join(gaps)} "
                                  f"(quarter needs {need_lo}-{need_hi})"))
    elif covered_to < need_hi:
        # the indexer has not reached the end of the quarter yet: not wrong, not done
        checks.append(CheckResult("contiguity", INCOMPLETE,
                                  f"indexed up to block {covered_to}; {label} needs "
                                  f"{need_lo}-{need_hi}"))
    else:
        checks.append(CheckResult("contiguity", PASS,
                                  f"blocks {need_lo}-{need_hi} covered by {len(in_q)} chunks"))
    final = final_block(b.head, cq.chain.finality_depth)
    if in_q and in_q[-1].end > final:
        checks.append(CheckResult("finality", FAIL,
                                  f"chunk {in_q[-1].start}-{in_q[-1].end} ends above the final "
                                  f"block {final}"))
    return Coverage(need_lo, need_hi, chunks, in_q, gaps, covered_to, completeness, checks)


def check_files(cq: ChainQuarter, cov: Coverage) -> CheckResult:
    """Files versus the checkpoint: each chunk's files exist with the recorded row counts, no
    file outside a chunk, no row outside its file's partition and range."""
    files = {
        (r[0], r[1], r[2]): (r[3], r[4])
        for r in cq.con.execute(
            "select dataset, start_block, end_block, row_count, path from audit.lake_files "
            "where network = ? and chain_id = ?", [cq.network, cq.cid]).fetchall()
    }
    lo, hi = cov.need_lo, cov.need_hi
    chunk_ranges = {(c.start, c.end) for c in cov.chunks}
    issues: list[str] = []
    for c in cov.in_quarter:
        for ds, n in sorted(c.rows.items()):
            got = files.get((ds, c.start, c.end))
            if got is None:
                issues.append(
                    f"{ds} chunk {c.start}-{c.end}: checkpoint records {n} rows, file missing")
            elif got[0] != n:
                issues.append(
                    f"{ds} chunk {c.start}-{c.end}: checkpoint records {n} rows, file has "
                    f"{got[0]} ({got[1]})")
    for (ds, s, e), (_, path) in sorted(files.items()):
        if e >= lo and s <= hi and (s, e) not in chunk_ranges:
            issues.append(f"{ds} file {path} (blocks {s}-{e}) is not a checkpointed chunk")
    for net, _path, fcid, s, e, detail in cq.file_problems:
        if net == cq.network and fcid == cq.cid and e >= lo and s <= hi:
            issues.append(detail)
    if issues:
        return CheckResult("files", FAIL, "; ".join(issues))
    return CheckResult("files", PASS, f"{len(cov.in_quarter)} chunks match their files")


def check_boundary_hashes(cq: ChainQuarter, cov: Coverage) -> CheckResult:
    """Boundary headers: lake `blocks` dataset = checkpoint = chain, for every chunk."""
    access = cq.access
    headers = dict(cq.con.execute(
        "select block_number, any_value(block_hash) from raw.blocks where network = ? and "
        "chain_id = ? and role = 'boundary' group by 1", [cq.network, cq.cid]).fetchall())
    issues: list[str] = []
    n_hashes = 0
    below: list[str] = []
    for c in cov.in_quarter:
        if c.start < access.lowest:
            # A chunk reaching below the node's history: its start (in an earlier quarter)
            # cannot be read here; its end is checked.
            below.append(f"{c.start}-{c.end}")
            ends = access.bounds(access.lowest, c.end)
            checked = [] if ends is None else [(ends[1], c.end_hash)]
        else:
            bounds = access.bounds(c.start, c.end)
            if bounds is None:  # Solana: every slot of the chunk skipped, nothing to hash
                if c.start_hash or c.end_hash:
                    issues.append(
                        f"chunk {c.start}-{c.end}: the chain has no block in it, but the "
                        f"checkpoint records boundary hashes {c.start_hash}, {c.end_hash}")
                continue
            checked = [(bounds[0], c.start_hash), (bounds[1], c.end_hash)]
        for n, want in checked:
            n_hashes += 1
            lake_hash = headers.get(n)
            chain_hash = access.reader.block(n).hash
            if lake_hash is None:
                issues.append(f"block {n}: no boundary header in the blocks dataset")
            elif not access.same_hash(lake_hash, want):
                issues.append(f"block {n}: blocks dataset {lake_hash} != checkpoint {want}")
            if not access.same_hash(chain_hash, want):
                issues.append(f"block {n}: chain {chain_hash} != checkpoint {want}")
    if issues:
        return CheckResult("boundary_hashes", FAIL, "; ".join(issues))
    note = (
        f" (start of chunk {', '.join(below)} below the node's first block "
        f"{access.lowest}: not read)" if below else ""
    )
    return CheckResult("boundary_hashes", PASS,
                       f"{n_hashes} chunk boundary hashes match the chain{note}")


# --- reconciliation ------------------------------------------------------------------------------
# What would be measured, for sources that are not reconciled.
NOT_RECONCILED_MEASURE: dict[SourceKind, str] = {
    SourceKind.spl_burns: "token supply",
    SourceKind.akash_escrow: "escrow module account balance",
}


def reconcile_sources(
    cq: ChainQuarter, first: int, last: int, cov: Coverage
) -> list[Reconciled]:
    """Each source of the chain by its declared (or its kind's default) method. A price feed
    left at its default is not recorded: prices, not flows, nothing of the revenue to check."""
    out: list[Reconciled] = []
    for src in cq.sources:
        if src.kind is SourceKind.price_feed and src.reconciliation is None:
            continue
        plan = src.reconciliation_plan
        if plan.method is Reconciliation.none:
            out.append(_not_applicable(src, plan.reason or "", last))
        elif plan.method is Reconciliation.second_endpoint:
            out.append(_by_second_endpoint(cq, src, first, last, cov))
        elif plan.method is Reconciliation.counter:
            out.extend(_by_counter(cq, src, first, last))
        else:
            out.append(_by_state_change(cq, src, plan.method, first, last))
    return out


def _not_applicable(src: SourceConfig, reason: str, last: int) -> Reconciled:
    measure = NOT_RECONCILED_MEASURE.get(src.kind, "none")
    return Reconciled(src, Reconciliation.none, measure, NOT_APPLICABLE,
                      f"{src.name}: {reason}", block_end=last)


def _by_state_change(
    cq: ChainQuarter, src: SourceConfig, method: Reconciliation, first: int, last: int
) -> Reconciled:
    """total_supply / balance_of read with eth_call at the block before the quarter and its
    last block; the change must equal the source's net flow in the raw lake."""
    before = first - 1
    evm = cast(ChainReader, cq.access.reader)  # only EVM sources get these methods
    if method is Reconciliation.total_supply:
        measure, contract = "totalSupply", src.address
        read = lambda b: total_supply(evm, contract, b)  # noqa: E731
    else:
        holder = src.reconciliation_holder
        measure = f"balanceOf({holder})"
        token = cq.config.tokens[src.token]
        if token.address is None or token.chain != cq.chain_name:
            return Reconciled(src, method, measure, SKIPPED,
                              f"token {src.token} has no contract on {cq.chain_name}: nothing "
                              "to read")
        contract = token.address
        read = lambda b: balance_of(evm, contract, holder, b)  # noqa: E731
    chain_before = read(before) if before >= 0 else 0
    chain_end = read(last)
    lake_change, parts, overflow = _lake_flow(
        cq.con, cq.network, src.name, cq.cid, src.kind, first, last)
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
    return Reconciled(src, method, measure, status, detail, before, last, chain_before,
                      chain_end, chain_change, lake_change)


def _by_second_endpoint(
    cq: ChainQuarter, src: SourceConfig, first: int, last: int, cov: Coverage
) -> Reconciled:
    """Every chunk of the quarter fetched again from the second endpoint: per-chunk row
    digests must be equal; the net flows over the quarter on both sides give the amount."""
    env = src.reconciliation_plan.rpc_url_env
    assert env is not None  # validated with the config
    measure = f"chunk row digests from ${env}"
    chain = cast(ChainConfig, cq.chain)
    try:
        client = cq.endpoints.client(env, cq.chain_name, chain)
        got = compare_chunks(cq.con, client, network=cq.network, chain=chain, src=src,
                             chunks=cov.in_quarter, first=first, last=last)
    except Exception as exc:  # the second endpoint could not answer: not a pass, not a lake fault
        return Reconciled(src, Reconciliation.second_endpoint, measure, ERROR,
                          f"{src.name}: second endpoint ${env}: {exc}", block_end=last)
    lake_change: int | None = None
    amounts = ""
    if got.endpoint_flow is not None:
        lake_change, parts, _ = _lake_flow(
            cq.con, cq.network, src.name, cq.cid, src.kind, first, last)
        amounts = (f"; net flow over blocks {first}-{last}: second endpoint "
                   f"{got.endpoint_flow}, lake {lake_change} ({' '.join(parts)}); difference "
                   f"{got.endpoint_flow - lake_change}")
    if got.mismatches:
        status = FAIL
        detail = (f"{src.name}: {len(got.mismatches)} of {got.chunks} chunks differ from "
                  f"${env}: {mismatch_summary(got.mismatches)}{amounts}")
    else:
        status = PASS
        detail = (f"{got.chunks} chunks ({got.rows} rows) have the same row digests on "
                  f"${env}{amounts}")
    return Reconciled(src, Reconciliation.second_endpoint, measure, status, detail,
                      block_end=last, chain_change=got.endpoint_flow, lake_change=lake_change)


def _by_counter(
    cq: ChainQuarter, src: SourceConfig, first: int, last: int
) -> list[Reconciled]:
    """A subtensor source: registration burns per subnet against the chain's counter
    RAORecycledForRegistration(netuid) (warehouse/audit/substrate.py); the other revenue
    events by coverage only (not_applicable, with the kind's reason)."""
    before = first - 1
    reader = cast(SubstrateReader, cq.access.reader)  # only subtensor sources get `counter`
    out: list[Reconciled] = []
    for c in registration_burn_checks(
        cq.con, reader, cq.network, src.name, cq.cid, before, last
    ):
        measure = f"RAORecycledForRegistration({c.netuid})"
        change = c.chain_end - c.chain_before
        if c.difference == 0:
            status, detail = PASS, f"{measure} change {change} = lake registration_burn {c.lake}"
        else:
            status = FAIL
            detail = (
                f"{src.name}: {measure} changed by {change} on chain (block {before}: "
                f"{c.chain_before}, block {last}: {c.chain_end}) but the lake's registration "
                f"burns of netuid {c.netuid} sum to {c.lake}; difference {c.difference}"
            )
        out.append(Reconciled(src, Reconciliation.counter, measure, status, detail, before,
                              last, c.chain_before, c.chain_end, change, c.lake))
    reason = CATALOGUE[src.kind].not_reconciled_reason
    out.append(Reconciled(src, Reconciliation.counter, "other revenue events", NOT_APPLICABLE,
                          f"{src.name}: {reason}", block_end=last))
    return out


def _lake_flow(
    con: duckdb.DuckDBPyConnection, network: str, source: str, cid: int, kind: SourceKind,
    first: int, last: int,
) -> tuple[int, list[str], int]:
    """Net flow of a source over [first, last] from the raw lake; (net, parts, overflow rows)."""
    net = 0
    parts: list[str] = []
    overflow = 0
    for flow in CATALOGUE[kind].flows:
        ds, event, col, sign = dataset_of(kind, flow.event), flow.event, flow.field, flow.sign
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


def _record(cq: ChainQuarter, qa: QuarterAudit, r: Reconciled) -> None:
    def s(v: int | None) -> str | None:
        return None if v is None else str(v)

    src = r.source
    cq.con.execute(
        "insert into audit.reconciliations (network, chain_id, quarter, source, kind, token, "
        "measure, block_before, block_end, chain_before, chain_end, chain_change, lake_change, "
        "difference, status, detail, method) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [cq.network, cq.cid, cq.q.label, src.name, src.kind.value, src.token, r.measure,
         r.block_before, r.block_end, s(r.chain_before), s(r.chain_end), s(r.chain_change),
         s(r.lake_change), s(r.difference), r.status, r.detail, r.method.value],
    )
    qa.reconciliation.append(r.status)
    if r.status in (FAIL, ERROR):
        qa.issues.append(f"[reconciliation {src.name}] {r.detail}")
