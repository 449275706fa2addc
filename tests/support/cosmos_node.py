"""A CometBFT RPC stand-in (for JsonRpcServer): /status, /block, /block_results by height.

block_results are served as recorded or constructed; /block responses are built in the real
shape from each height's tx count (tx bytes made up, so tx hashes are reproducible here).
Header times are minutes and seconds of 2024-03-01 00:00 by default (they repeat after 3600
heights); pass `time_of(height) -> unix seconds` for blocks spanning days or quarters.
"""

from __future__ import annotations

import base64
import hashlib
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
    ) -> None:
        self.time_of = time_of
        self.network = network
        self.results = results
        self.head = head
        self.earliest = earliest

    def rpc_status(self) -> dict[str, Any]:
        return {
            "node_info": {"network": self.network, "version": "0.38.12"},
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

    def rpc_block_results(self, height: str) -> dict[str, Any]:
        return self._result(int(height))
