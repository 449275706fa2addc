"""The ground-truth ledger files: ledger.jsonl (one row per event) and ledger_summary.json."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devnet.models import LEDGER_FIELDS

LEDGER_FILE = "ledger.jsonl"
SUMMARY_FILE = "ledger_summary.json"


def sort_key(row: dict[str, Any]) -> tuple[int, int, int]:
    return (row["chain_id"], row["block_number"], row["log_index"])


def quarter_of(ts: int) -> str:
    d = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def write_ledger(rows: Iterable[dict[str, Any]], path: Path) -> int:
    ordered = sorted(rows, key=sort_key)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for row in ordered:
            f.write(json.dumps({k: row[k] for k in LEDGER_FIELDS}, separators=(",", ":")))
            f.write("\n")
    tmp.replace(path)
    return len(ordered)


def read_ledger(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def ledger_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summarize(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per network and UTC quarter, per dataset/event/token: counts and summed raw amounts."""
    acc: dict[str, dict[str, dict[str, dict[str, dict[str, dict[str, int]]]]]] = {}
    totals: dict[str, int] = {}
    for r in rows:
        q = quarter_of(r["block_timestamp"])
        cell = (
            acc.setdefault(r["network"], {})
            .setdefault(q, {})
            .setdefault(r["dataset"], {})
            .setdefault(r["event"], {})
            .setdefault(r["token"], {"count": 0})
        )
        cell["count"] += 1
        for f in ("amount", "take_amount"):
            if r[f] is not None:
                cell[f] = cell.get(f, 0) + int(r[f])
        totals[r["network"]] = totals.get(r["network"], 0) + 1

    def strings(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (str(v) if k in ("amount", "take_amount") else strings(v))
                for k, v in sorted(node.items())
            }
        return node

    return {"events_by_network": dict(sorted(totals.items())), "networks": strings(acc)}


def write_json(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
