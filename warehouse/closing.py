"""Closing quarters and recording restatements.

`close_quarter` freezes a quarter's figures as a new version in audit.closed_figures (never
updated afterwards). After every build `detect_restatements` compares the rebuilt mart with the
latest closed version: a changed figure is not overwritten; it becomes a row of
audit.restatements (old value, new value, reason, evidence: what changed in the manifest).
Reports show the closed figure and the pending restatement; closing again accepts it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from depinrev.quarters import Quarter
from warehouse.raw import load_hash_cache, save_hash_cache, verified_hash

FIGURES: tuple[str, ...] = (
    "fees_raw", "supply_side_revenue_raw", "revenue_raw", "protocol_revenue_raw",
    "holders_revenue_raw", "fees_usd", "supply_side_revenue_usd", "revenue_usd",
    "protocol_revenue_usd", "holders_revenue_usd", "event_count",
)

CLOSING_DDL = """
create schema if not exists audit;
create table if not exists audit.quarter_closes (
    network varchar not null, quarter varchar not null, version integer not null,
    closed_at timestamp not null, audit_status varchar not null, manifest_sha256 varchar,
    manifest_json varchar, note varchar, primary key (network, quarter, version));
create table if not exists audit.closed_figures (
    network varchar not null, quarter varchar not null, version integer not null,
    token varchar not null, metric varchar not null, value varchar,
    primary key (network, quarter, version, token, metric));
create table if not exists audit.restatements (
    network varchar not null, quarter varchar not null, closed_version integer not null,
    token varchar not null, metric varchar not null, old_value varchar, new_value varchar,
    reason varchar not null, evidence varchar not null, detected_at timestamp not null);
"""


class CloseError(RuntimeError):
    """A quarter that cannot be closed (not built, or its audit did not pass)."""


@dataclass(frozen=True)
class Restatement:
    network: str
    quarter: str
    closed_version: int
    token: str
    metric: str
    old_value: str | None
    new_value: str | None
    reason: str
    evidence: str


def ensure_closing_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(CLOSING_DDL)


def _current_figures(
    con: duckdb.DuckDBPyConnection, network: str, quarter: str
) -> dict[tuple[str, str], str | None]:
    cols = ", ".join(f"cast({m} as varchar)" for m in FIGURES)
    rows = con.execute(
        f"select token, {cols} from marts.fct_network_revenue_quarterly "
        "where network = ? and quarter = ? order by token",
        [network, quarter],
    ).fetchall()
    return {(r[0], m): r[i + 1] for r in rows for i, m in enumerate(FIGURES)}


def rehash_lake_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Read every lake file of the last build again (no cached hash) and compare it with the
    SHA-256 the build recorded (audit.lake_files); return one line per file that differs or
    is gone. The fresh hashes replace the cached ones (audit.lake_file_hashes)."""
    rows = con.execute(
        "select lake_root, path, sha256 from audit.lake_files order by path").fetchall()
    cache = load_hash_cache(con)
    problems: list[str] = []
    for root, rel, recorded in rows:
        path = Path(root) / rel
        if not path.is_file():
            cache.pop(str(path), None)
            problems.append(f"{rel}: gone from the lake at {root}")
            continue
        cache.pop(str(path), None)  # never trust the cache here
        fresh = verified_hash(path, cache)
        if fresh.sha256 != recorded:
            problems.append(f"{rel}: SHA-256 {fresh.sha256[:12]}.. now, the build read "
                            f"{recorded[:12]}..")
    save_hash_cache(con, cache)
    return problems


def close_quarter(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    networks: list[str] | None = None,
    *,
    force: bool = False,
    note: str | None = None,
    now: datetime | None = None,
) -> list[tuple[str, int]]:
    """Freeze `quarter` for each network (all audited ones by default); return (network, version).

    Refuses a quarter whose audit did not pass unless `force` (the status is stored either way).
    Refuses, even with `force`, when a lake file of the build is gone or its contents differ
    from what the build recorded: every file is hashed again here (`rehash_lake_files`), so a
    build that reused a cached hash cannot be closed on a file changed behind it.
    """
    q = Quarter.parse(quarter).label
    ensure_closing_tables(con)
    rows = con.execute(
        "select network, audit_status from marts.fct_network_revenue_quarterly "
        "where quarter = ? group by all order by 1",
        [q],
    ).fetchall()
    status = dict(rows)
    targets = networks or sorted(status)
    if not targets:
        raise CloseError(f"no figures for {q}: build the warehouse first")
    changed = rehash_lake_files(con)
    if changed:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise CloseError(f"the lake changed since the build: {changed[0]}{more}; "
                         "build again before closing")
    out: list[tuple[str, int]] = []
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    for net in targets:
        if net not in status:
            raise CloseError(f"{net} has no figures for {q}")
        if status[net] != "pass" and not force:
            raise CloseError(
                f"{net} {q}: audit status is {status[net]!r}, not 'pass'; fix the audit or "
                "close with force"
            )
        version_row = con.execute(
            "select coalesce(max(version), 0) + 1 from audit.quarter_closes "
            "where network = ? and quarter = ?", [net, q]).fetchone()
        assert version_row is not None
        version = int(version_row[0])
        manifest = con.execute(
            "select manifest_sha256, manifest_json from audit.manifests "
            "where network = ? and quarter = ?", [net, q]).fetchone()
        con.execute(
            "insert into audit.quarter_closes values (?, ?, ?, ?, ?, ?, ?, ?)",
            [net, q, version, stamp, status[net], manifest[0] if manifest else None,
             manifest[1] if manifest else None, note],
        )
        for (token, metric), value in sorted(_current_figures(con, net, q).items()):
            con.execute(
                "insert into audit.closed_figures values (?, ?, ?, ?, ?, ?)",
                [net, q, version, token, metric, value],
            )
        out.append((net, version))
    return out


def compare_figures(
    closed: dict[tuple[str, str], str | None], current: dict[tuple[str, str], str | None]
) -> list[tuple[str, str, str | None, str | None]]:
    """(token, metric, old, new) for every figure that differs, missing ones included."""
    out = []
    for key in sorted(set(closed) | set(current)):
        old, new = closed.get(key), current.get(key)
        if old != new:
            out.append((key[0], key[1], old, new))
    return out


def _file_diff(old_manifest: str | None, new_manifest: str | None) -> dict[str, Any]:
    def files(text: str | None) -> dict[str, str]:
        if not text:
            return {}
        return {f["file"]: f["sha256"] for f in json.loads(text).get("lake_files", [])}

    old, new = files(old_manifest), files(new_manifest)
    return {
        "files_added": sorted(set(new) - set(old)),
        "files_removed": sorted(set(old) - set(new)),
        "files_changed": sorted(f for f in set(old) & set(new) if old[f] != new[f]),
    }


def detect_restatements(
    con: duckdb.DuckDBPyConnection, now: datetime | None = None
) -> list[Restatement]:
    """Record (once) every closed figure the current build would change; return the new ones."""
    ensure_closing_tables(con)
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    latest = con.execute(
        """
        select network, quarter, version, manifest_json, audit_status from audit.quarter_closes
        qualify version = max(version) over (partition by network, quarter)
        order by network, quarter
        """
    ).fetchall()
    found: list[Restatement] = []
    for net, q, version, old_manifest, _old_status in latest:
        closed = {
            (t, m): v
            for t, m, v in con.execute(
                "select token, metric, value from audit.closed_figures "
                "where network = ? and quarter = ? and version = ?", [net, q, version]
            ).fetchall()
        }
        current = _current_figures(con, net, q)
        diffs = compare_figures(closed, current)
        if not diffs:
            continue
        cur_manifest = con.execute(
            "select manifest_json from audit.manifests where network = ? and quarter = ?",
            [net, q]).fetchone()
        new_manifest = cur_manifest[0] if cur_manifest else None
        files = _file_diff(old_manifest, new_manifest)
        audit_now = con.execute(
            "select audit_status, issues from audit.quarter_audits "
            "where network = ? and quarter = ?", [net, q]).fetchone()
        evidence = json.dumps(
            {**files, "audit_status": audit_now[0] if audit_now else None,
             "audit_issues": audit_now[1] if audit_now else None},
            sort_keys=True,
        )
        if any(files.values()):
            reason = (
                f"rebuild from a changed lake: {len(files['files_changed'])} changed, "
                f"{len(files['files_added'])} added, {len(files['files_removed'])} removed files"
            )
        else:
            reason = "rebuild with the same lake files: configuration, rules or prices changed"
        for token, metric, old, new in diffs:
            exists = con.execute(
                "select count(*) from audit.restatements where network = ? and quarter = ? "
                "and closed_version = ? and token = ? and metric = ? "
                "and new_value is not distinct from ?",
                [net, q, version, token, metric, new]).fetchone()
            if exists and exists[0]:
                continue
            con.execute(
                "insert into audit.restatements values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [net, q, version, token, metric, old, new, reason, evidence, stamp],
            )
            found.append(Restatement(net, q, version, token, metric, old, new, reason, evidence))
    return found
