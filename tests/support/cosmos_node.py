"""A CometBFT RPC stand-in (for JsonRpcServer): /status, /block, /block_results by height.

block_results are served as recorded or constructed; /block responses are built in the real
shape from each height's tx count (tx bytes made up, so tx hashes are reproducible here).
Header times are minutes and seconds of 2024-03-01 00:00 by default (they repeat after 3600
heights); pass `time_of(height) -> unix seconds` for blocks spanning days or quarters.

With `tx_index=True` the node indexes transactions as CometBFT's kv indexer does: /status
says node_info.other.tx_index "on", and `tx_search` (transactions' events) and `block_search`
(begin/end/finalize-block events) answer queries of `type.key='value'` and `type.key EXISTS`
conditions and `tx.height` / `block.height` bounds joined by AND, paginated (page from 1,
per_page at most 100), ordered by height. Without it /status says "off" and both searches
fail as such a node's do. `abci_query` answers x/upgrade's AppliedPlan from
`applied_plans` (plan name -> height). Attribute keys and values given base64 (older chains)
are decoded for matching. Every request is counted by JsonRpcServer.calls.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.support.jsonrpc_server import RpcFault


def fake_tx(height: int, i: int) -> str:
    return base64.b64encode(f"tx {height} {i}".encode()).decode()


def block_hash(height: int) -> str:
    return hashlib.sha256(f"block {height}".encode()).hexdigest().upper()


class CosmosNode:
    def __init__(
        self,
        network: str,
        results: dict[int, dict[str, Any]],
        head: int,
        earliest: int = 1,
        time_of: Callable[[int], int] | None = None,
        tx_index: bool = False,
    ) -> None:
        self.time_of = time_of
        self.tx_index = tx_index
        self._hits: dict[tuple[str, bool], list[int | tuple[int, int]]] = {}
        self.network = network
        self.results = results
        self.head = head
        self.earliest = earliest
        # upgrade plan name -> applied height; None: abci_query not served (as behind some
        # public RPC proxies), so a configured bme_height stays unchecked
        self.applied_plans: dict[str, int] | None = None

    def rpc_status(self) -> dict[str, Any]:
        return {
            "node_info": {"network": self.network, "version": "0.38.12",
                          "other": {"tx_index": "on" if self.tx_index else "off"}},
            "sync_info": {
                "latest_block_height": str(self.head),
                "earliest_block_height": str(self.earliest),
                "catching_up": False,
            },
        }

    def _result(self, height: int) -> dict[str, Any]:
        if not self.earliest <= height <= self.head:
            # CometBFT's own words for a pruned or future height
            raise RpcFault(
                -32603, f"height {height} is not available, lowest height is {self.earliest}"
            )
        return self.results.get(height) or {
            "height": str(height),
            "txs_results": None,
            "finalize_block_events": [],
        }

    def rpc_block(self, height: str) -> dict[str, Any]:
        h = int(height)
        n = len(self._result(h).get("txs_results") or [])
        return {
            "block_id": {"hash": block_hash(h), "parts": {"total": 1, "hash": "00"}},
            "block": {
                "header": {
                    "chain_id": self.network,
                    "height": str(h),
                    "time": self._time(h),
                    "last_block_id": {"hash": block_hash(h - 1)},
                },
                "data": {"txs": [fake_tx(h, i) for i in range(n)]},
            },
        }

    def _time(self, h: int) -> str:
        if self.time_of is None:
            return f"2024-03-01T00:{(h // 60) % 60:02d}:{h % 60:02d}.123456789Z"
        t = datetime.fromtimestamp(self.time_of(h), UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S") + ".123456789Z"

    def rpc_abci_query(self, path: str, data: str = "", height: str = "0",
                       prove: bool = False) -> dict[str, Any]:
        """x/upgrade's AppliedPlan query (the only ABCI query here): `applied_plans` maps plan
        names to the heights they were applied at; an unknown name is height 0, which the
        protobuf answer leaves out (an empty value), as the SDK's does."""
        if self.applied_plans is None:
            raise RpcFault(-32601, "Method not found")
        if path != "/cosmos.upgrade.v1beta1.Query/AppliedPlan":
            return {"response": {"code": 6, "log": f"unknown query path {path}", "value": None,
                                 "height": str(self.head)}}
        raw = bytes.fromhex(data)
        assert raw[0] == 0x0A and raw[1] == len(raw) - 2, raw  # field 1, a short name
        height = self.applied_plans.get(raw[2:].decode(), 0)
        value = b""
        if height:
            value, n = b"\x08", height
            while n >= 0x80:
                value += bytes([(n & 0x7F) | 0x80])
                n >>= 7
            value += bytes([n])
        return {"response": {"code": 0, "log": "", "info": "", "index": "0", "key": None,
                             "value": base64.b64encode(value).decode() if value else None,
                             "proofOps": None, "height": str(self.head), "codespace": ""}}

    def rpc_block_results(self, height: str) -> dict[str, Any]:
        return self._result(int(height))

    # --- the kv indexer -----------------------------------------------------------------------
    def _search(self, query: str, page: str, per_page: str, order_by: str, block: bool
                ) -> tuple[list[int | tuple[int, int]], int]:
        if not self.tx_index:
            raise RpcFault(-32603, "transaction indexing is disabled")
        conds, lo, hi = _parse(query, "block.height" if block else "tx.height")
        lo, hi = max(lo, self.earliest), min(hi, self.head)
        # the same query's pages are answered from one scan (the chain is fixed here)
        ckey = (repr((conds, lo, hi)), block)
        if ckey not in self._hits:
            self._hits[ckey] = self._scan(conds, lo, hi, block)
        hits = list(self._hits[ckey])
        if order_by == "desc":
            hits.reverse()
        n, size = int(page), min(int(per_page), 100)
        if n < 1 or (hits and (n - 1) * size >= len(hits)):
            raise RpcFault(-32603, f"page should be within [1, {max(1, -(-len(hits) // size))}]"
                                   f" range, given {n}")
        return hits[(n - 1) * size : n * size], len(hits)

    def _scan(self, conds: list[tuple[str, str, str | None]], lo: int, hi: int, block: bool
              ) -> list[int | tuple[int, int]]:
        hits: list[int | tuple[int, int]] = []
        for h in sorted(self.results):
            if not lo <= h <= hi:
                continue
            res = self.results[h]
            if block:
                evs = [*(res.get("begin_block_events") or []), *(res.get("end_block_events") or []),
                       *(res.get("finalize_block_events") or [])]
                if _matches(evs, conds):
                    hits.append(h)
            else:
                for i, tx in enumerate(res.get("txs_results") or []):
                    # CometBFT indexes failed transactions too (their events are dropped in
                    # newer versions; here they are kept, a superset the reader must cope with)
                    if _matches(tx.get("events") or [], conds):
                        hits.append((h, i))
        return hits

    def rpc_tx_search(self, query: str, prove: bool = False, page: str = "1",
                      per_page: str = "30", order_by: str = "asc") -> dict[str, Any]:
        hits, total = self._search(query, page, per_page, order_by, block=False)
        txs = []
        for hit in hits:
            assert isinstance(hit, tuple)
            h, i = hit
            raw = base64.b64decode(fake_tx(h, i))
            txs.append({"hash": hashlib.sha256(raw).hexdigest().upper(), "height": str(h),
                        "index": i, "tx_result": self.results[h]["txs_results"][i],
                        "tx": fake_tx(h, i)})
        return {"txs": txs, "total_count": str(total)}

    def rpc_block_search(self, query: str, page: str = "1", per_page: str = "30",
                         order_by: str = "asc") -> dict[str, Any]:
        hits, total = self._search(query, page, per_page, order_by, block=True)
        blocks = []
        for h in hits:
            assert isinstance(h, int)
            blocks.append(self.rpc_block(str(h)))
        return {"blocks": blocks, "total_count": str(total)}


_COND = re.compile(r"^\s*([\w.\-]+)\s*(=|>=|<=|>|<|EXISTS)\s*(?:'([^']*)'|(\d+))?\s*$")


def _parse(query: str, height_key: str) -> tuple[list[tuple[str, str, str | None]], int, int]:
    conds: list[tuple[str, str, str | None]] = []
    lo, hi = 0, 2**63
    for part in query.split(" AND "):
        m = _COND.match(part)
        if m is None:
            raise RpcFault(-32602, f"failed to parse query: {query!r}")
        key, op, text, num = m.groups()
        if key == height_key:
            v = int(num)
            lo = max(lo, v + (op == ">")) if op in (">=", ">") else lo
            hi = min(hi, v - (op == "<")) if op in ("<=", "<") else hi
            if op == "=":
                lo, hi = max(lo, v), min(hi, v)
            continue
        conds.append((key, op, text))
    return conds, lo, hi


def _text(s: str | None) -> str | None:
    """An attribute key or value as text: base64 (older chains) decoded when it decodes to a
    plain token, else as given."""
    if s is None or len(s) % 4:
        return s
    try:
        out = base64.b64decode(s, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return s
    return out if re.fullmatch(r"[\w.\-/,:]+", out) else s


def _matches(events: list[dict[str, Any]], conds: list[tuple[str, str, str | None]]) -> bool:
    pairs = set()
    keys = set()
    for ev in events:
        for a in ev.get("attributes") or []:
            k = f"{ev.get('type')}.{_text(a.get('key'))}"
            keys.add(k)
            pairs.add((k, _text(a.get("value"))))
    for key, op, value in conds:
        if op == "EXISTS":
            if key not in keys:
                return False
        elif op == "=":
            if (key, value) not in pairs:
                return False
        else:
            raise RpcFault(-32602, f"operator {op} on {key} is not supported here")
    return bool(conds)
