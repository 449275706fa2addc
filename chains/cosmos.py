"""A Cosmos SDK chain over CometBFT's JSON-RPC (POST routes status, block, block_results),
through the one transport; block numbers are heights.

Identity (/status node_info.network must be the configured chain name), the latest height,
the lowest height the node keeps (sync_info.earliest_block_height: pruned nodes drop old
ones), headers, and block / block_results checked to be for the height asked.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from chains.base import BlockHeader, ChainHandle, Header, Pruned
from chains.blocktime import BlockClock
from chains.transport import BadResponse, ChainMismatch, JsonRpcClient, RpcError
from depinrev.config import CosmosChainConfig


def parse_time(text: str) -> int:
    """RFC 3339 with up to nanoseconds ("2024-01-02T03:04:05.123456789Z") to Unix seconds."""
    head, _, rest = text.partition(".")
    if not rest:
        head = text.rstrip("Z")
        rest = "Z"
    tz = rest.lstrip("0123456789")
    tz = "+00:00" if tz in ("Z", "") else tz
    return int(datetime.fromisoformat(head.rstrip("Z") + tz).astimezone(UTC).timestamp())


def header_of(block: dict[str, Any]) -> Header:
    h = block["block"]["header"]
    return Header(
        int(h["height"]),
        block["block_id"]["hash"],
        (h.get("last_block_id") or {}).get("hash") or "",
        parse_time(h["time"]),
    )


def _check_block(raw: Any, height: int) -> None:
    try:
        got = int(raw["block"]["header"]["height"])
        if not isinstance(raw["block_id"]["hash"], str):
            raise TypeError
        parse_time(raw["block"]["header"]["time"])
    except (KeyError, TypeError, ValueError):
        raise BadResponse(f"block {height}: answer is not a CometBFT block") from None
    if got != height:
        raise BadResponse(f"asked for block {height}, the answer is block {got}")


def _check_results(raw: Any, height: int) -> None:
    try:
        got = int(raw["height"])
    except (KeyError, TypeError, ValueError):
        raise BadResponse(f"block_results {height}: answer lacks its height") from None
    if got != height:
        raise BadResponse(f"asked for block_results {height}, the answer is for {got}")


# x/upgrade's gRPC query, reachable through CometBFT's abci_query (Cosmos SDK v0.46+ route
# the gRPC query paths; REST: /cosmos/upgrade/v1beta1/applied_plan/{name}).
APPLIED_PLAN_PATH = "/cosmos.upgrade.v1beta1.Query/AppliedPlan"


def applied_plan_request(name: str) -> str:
    """QueryAppliedPlanRequest{name} as protobuf bytes in hex (abci_query's `data`): field 1,
    length-delimited."""
    raw = name.encode()
    return (bytes([0x0A]) + _varint(len(raw)) + raw).hex()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def applied_plan_height_of(value: bytes) -> int:
    """QueryAppliedPlanResponse{height} from protobuf bytes: field 1 varint (int64); empty
    bytes are the default, 0 (not applied). Anything else is a BadResponse."""
    if not value:
        return 0
    if value[0] != 0x08:
        raise BadResponse(f"AppliedPlan answer starts with tag {value[0]:#x}, not field 1 varint")
    height, shift = 0, 0
    for i, b in enumerate(value[1:], start=1):
        height |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if i + 1 != len(value):
                raise BadResponse("AppliedPlan answer has bytes after its height")
            return height
    raise BadResponse("AppliedPlan answer's height is cut")


class TendermintRpc:
    """The CometBFT routes readers and the audit need, each answer checked for its height."""

    def __init__(self, url: str) -> None:
        self.client = JsonRpcClient(url)

    @property
    def host(self) -> str:
        return self.client.host

    def close(self) -> None:
        self.client.close()

    def status(self) -> dict[str, Any]:
        def check(raw: Any) -> None:
            sync = raw.get("sync_info")
            if not isinstance(sync, dict) or "latest_block_height" not in sync:
                raise BadResponse("status: answer lacks sync_info.latest_block_height")

        return dict(self.client.call("status", expect=dict, check=check))

    def _height_call(self, method: str, height: int, check: Any) -> dict[str, Any]:
        try:
            # CometBFT's int64 params are JSON strings.
            return dict(
                self.client.call(method, [str(height)], expect=dict, check=check,
                                 where=f"height {height}")
            )
        except RpcError as exc:
            low = _lowest_in(exc.message)
            if low is not None and height < low:
                raise Pruned(
                    f"height {height} is no longer kept by the node at {self.host} (pruned: "
                    f"lowest height {low}); use an archive node", low) from None
            raise

    def block(self, height: int) -> dict[str, Any]:
        return self._height_call("block", height, lambda r: _check_block(r, height))

    def block_results(self, height: int) -> dict[str, Any]:
        return self._height_call("block_results", height, lambda r: _check_results(r, height))

    def applied_plan_height(self, name: str) -> int | None:
        """The height at which the chain applied the software upgrade `name` (x/upgrade's
        AppliedPlan query over CometBFT abci_query, at the latest height: state every node
        keeps, pruned or not); None if the node says it was not applied (height 0).
        RpcError if the node cannot answer the query (an app without x/upgrade)."""

        def check(raw: Any) -> None:
            resp = raw.get("response")
            if not isinstance(resp, dict):
                raise BadResponse("abci_query: answer lacks its response")
            if not isinstance(resp.get("value") or "", str):
                raise BadResponse("abci_query: response value is not base64 text")

        raw = self.client.call(
            "abci_query", [APPLIED_PLAN_PATH, applied_plan_request(name), "0", False],
            expect=dict, check=check, where=f"upgrade {name}",
        )
        resp = raw["response"]
        code = resp.get("code") or 0
        if code != 0:
            raise RpcError("abci_query", code, f"{APPLIED_PLAN_PATH} {name}: "
                           f"{resp.get('log') or resp.get('info') or 'refused'}", host=self.host)
        try:
            value = base64.b64decode(resp.get("value") or "", validate=True)
        except binascii.Error:
            raise BadResponse("abci_query: response value is not base64") from None
        height = applied_plan_height_of(value)
        return height or None

    def search_heights(self, method: str, query: str, lo: int, hi: int) -> set[int]:
        """The heights in [lo, hi] holding a match of `query`: `tx_search` (transactions'
        events) or `block_search` (begin/end/finalize-block events), every page of
        SEARCH_PAGE (CometBFT's maximum per_page), ordered ascending. Each answer is checked:
        its heights inside the range, its count consistent across pages."""
        assert method in ("tx_search", "block_search")
        field = "tx.height" if method == "tx_search" else "block.height"
        q = f"{query} AND {field} >= {lo} AND {field} <= {hi}"
        items_key = "txs" if method == "tx_search" else "blocks"
        heights: set[int] = set()
        seen, page = 0, 1
        while True:
            # positional params: tx_search(query, prove, page, per_page, order_by),
            # block_search(query, page, per_page, order_by)
            params: list[Any] = [q, False, str(page), str(SEARCH_PAGE), "asc"]
            if method == "block_search":
                params = [q, str(page), str(SEARCH_PAGE), "asc"]

            def check(raw: Any) -> None:
                if not isinstance(raw.get(items_key), list) or "total_count" not in raw:
                    raise BadResponse(f"{method}: answer lacks {items_key} or total_count")

            raw = self.client.call(method, params, expect=dict, check=check,
                                   where=f"heights {lo}-{hi}")
            items = raw[items_key]
            for item in items:
                h = int(item["height"] if method == "tx_search"
                        else item["block"]["header"]["height"])
                if not lo <= h <= hi:
                    raise BadResponse(f"{method}: height {h} outside the range {lo}-{hi} asked")
                heights.add(h)
            seen += len(items)
            total = int(raw["total_count"])
            if not items or seen >= total:
                return heights
            page += 1


SEARCH_PAGE = 100  # CometBFT's maximum per_page for tx_search / block_search


def tx_index_on(status: dict[str, Any]) -> bool:
    """Whether the node indexes transactions (/status node_info.other.tx_index "on");
    block_search and tx_search need it."""
    other = (status.get("node_info") or {}).get("other") or {}
    return other.get("tx_index") == "on"


def _lowest_in(message: str) -> int | None:
    """The lowest height named in CometBFT's 'height N is not available, lowest height is M'."""
    m = re.search(r"lowest height is (\d+)", message)
    return int(m.group(1)) if m else None


def connect(name: str, config: CosmosChainConfig) -> tuple[TendermintRpc, dict[str, Any]]:
    """A client for the chain and its /status, refused unless /status names the configured
    chain."""
    rpc = TendermintRpc(config.rpc_url())
    try:
        status = rpc.status()
    except Exception:
        rpc.close()
        raise
    got = (status.get("node_info") or {}).get("network")
    if got != config.chain_name:
        rpc.close()
        raise ChainMismatch(
            f"chains.{name}: the RPC at {rpc.host} serves chain {got!r}, "
            f"but the configuration says chain_name {config.chain_name!r}; refusing to index"
        )
    return rpc, status


def latest_height(status: dict[str, Any]) -> int:
    return int(status["sync_info"]["latest_block_height"])


def earliest_height(status: dict[str, Any]) -> int:
    return int((status.get("sync_info") or {}).get("earliest_block_height") or 1)


class CosmosChain(ChainHandle):
    """A Cosmos chain as the audit and the partition clock see it; headers are cached."""

    kind = "cosmos"

    def __init__(
        self, rpc: TendermintRpc, status: dict[str, Any], name: str, config: CosmosChainConfig
    ) -> None:
        super().__init__(rpc, name, config)
        self.rpc = rpc
        self._status = status
        self._blocks: dict[int, BlockHeader] = {}

    @classmethod
    def connect(cls, name: str, config: CosmosChainConfig) -> CosmosChain:
        rpc, status = connect(name, config)
        return cls(rpc, status, name, config)





    def head(self) -> int:
        self._status = self.rpc.status()
        return latest_height(self._status)


    def earliest(self) -> int:
        """The lowest height the node keeps (earliest_block_height; 1 on an archive node)."""
        return earliest_height(self._status)

    def block(self, number: int) -> BlockHeader:
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        h = header_of(self.rpc.block(number))
        header = BlockHeader(h.number, h.hash, h.timestamp)
        self._blocks[number] = header
        return header

    def block_time(self, number: int) -> int:
        return self.block(number).timestamp

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        return (start, end)  # every height has a block

    def clock(self) -> BlockClock:
        return BlockClock(self.block_time)
