"""The bench's dense single-event chain: one ERC-20 emitting many Transfer logs in every block.

`bench/run.py` builds it (or restores it from `bench/.cache/dense/`) beside the multi-event
devnet: on one anvil (config `bench/dense.yaml`), account 0 deploys two DevTokens (the
indexed token A at the config's address, then token B), mints each a supply, then mines
`other_blocks` blocks of B's transfers (`per_block` each; no source asks for them, so the
filters must skip them) and `blocks` blocks of A's transfers (`per_block` each, to a cycle of
1,000 recipients). At the bench's shape (3,000 blocks x 80, after 600 blocks) the indexed
token holds 240,000 Transfer logs, and so does the chain's range the indexer covers.

Only the latest state is cached (anvil_dumpState keeps the blocks and their logs, which is
all eth_getLogs reads); the cache key is the shape and the anvil build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devnet import api as devnet_api
from devnet.abi import calldata, load_artifact
from devnet.api import (
    anvil_args,
    anvil_binary,
    dump_latest_state,
    start_anvil,
    stop_pid,
)
from devnet.rpc import Rpc
from devnet.scenario import GENESIS_TIMESTAMP

CHAIN_ID = 1337
DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"  # anvil's first dev account
TOKEN_A = "0x5fbdb2315678afecb367f032d93f642f64180aa3"  # CREATE at nonce 0 (bench/dense.yaml)
RECIPIENTS = 1_000
VERSION = 1  # bump when the chain built here changes
RESTORE_TIMEOUT = 600.0
BLOCK_SECONDS = 12


@dataclass
class DenseChain:
    pid: int
    url: str
    head: int
    source: str  # "built" or "cache"
    logs_a: int  # Transfer logs of the indexed token


def _key(blocks: int, per_block: int, other_blocks: int) -> str:
    h = hashlib.sha256()
    h.update(f"{VERSION}:{blocks}:{per_block}:{other_blocks}:{RECIPIENTS}".encode())
    h.update(" ".join(anvil_args(0, 0, None)).encode())
    h.update(str(anvil_binary().stat().st_size).encode())
    return h.hexdigest()[:16]


def dense_up(
    data_dir: Path, port: int, *, blocks: int = 3_000, per_block: int = 80, other_blocks: int = 600
) -> DenseChain:
    """Start the dense chain on 127.0.0.1:`port`, restored from the cache or built (and cached)."""
    data_dir = data_dir.resolve()  # anvil runs in it: a relative state path would miss
    data_dir.mkdir(parents=True, exist_ok=True)
    key = _key(blocks, per_block, other_blocks)
    state = data_dir / f"dense-{key}.json"
    meta = data_dir / f"dense-{key}.meta.json"
    url = f"http://127.0.0.1:{port}"
    if state.exists() and meta.exists():
        # anvil reads the whole dump (~0.9 GB of JSON at the bench's shape) before it answers:
        # a minute or more on a loaded machine, past start_anvil's usual wait.
        saved, devnet_api.START_TIMEOUT = devnet_api.START_TIMEOUT, RESTORE_TIMEOUT
        try:
            pid, _ = start_anvil("dense-devnet", port, CHAIN_ID, data_dir, state)
        finally:
            devnet_api.START_TIMEOUT = saved
        m = json.loads(meta.read_text())
        with Rpc(url) as rpc:
            head = int(rpc.call("eth_blockNumber"), 16)
        if head != m["head"]:
            stop_pid(pid)
            raise RuntimeError(f"dense chain cache {state}: block {head}, not {m['head']}")
        return DenseChain(pid, url, head, "cache", m["logs_a"])
    pid, _ = start_anvil("dense-devnet", port, CHAIN_ID, data_dir, None)
    try:
        head, logs_a = _build(url, blocks, per_block, other_blocks)
        dump_latest_state(url, state)
    except BaseException:
        stop_pid(pid)
        raise
    meta.write_text(json.dumps({"head": head, "logs_a": logs_a}))
    return DenseChain(pid, url, head, "built", logs_a)


def _build(url: str, blocks: int, per_block: int, other_blocks: int) -> tuple[int, int]:
    token = load_artifact("DevToken")
    nonce = 0
    ts = GENESIS_TIMESTAMP

    def tx(to: str | None, data: str, gas: int = 100_000) -> dict[str, Any]:
        nonlocal nonce
        t = {"from": DEPLOYER, "data": data, "gas": hex(gas), "gasPrice": "0x1",
             "nonce": hex(nonce)}  # fmt: skip
        if to is not None:
            t["to"] = to
        nonce += 1
        return t

    with Rpc(url) as rpc:
        rpc.call("evm_setAutomine", False)

        def mine(txs: list[dict[str, Any]]) -> None:
            nonlocal ts
            for i in range(0, len(txs), 400):
                rpc.batch([("eth_sendTransaction", [t]) for t in txs[i : i + 400]])
            ts += BLOCK_SECONDS
            rpc.call("evm_mine", ts)

        deploy_a = tx(None, token.deploy_data("Dense A", "DNSA", 18), 5_000_000)
        deploy_b = tx(None, token.deploy_data("Dense B", "DNSB", 18), 5_000_000)
        mine([deploy_a, deploy_b])
        receipt = rpc.call("eth_getTransactionReceipt", rpc.call(
            "eth_getBlockByNumber", "latest", False)["transactions"][1])
        token_b = receipt["contractAddress"]
        supply = 10**30
        mine([tx(TOKEN_A, calldata("mint(address,uint256)", DEPLOYER, supply)),
              tx(token_b, calldata("mint(address,uint256)", DEPLOYER, supply))])

        def transfers(to: str, block: int) -> list[dict[str, Any]]:
            out = []
            for i in range(per_block):
                r = (block * per_block + i) % RECIPIENTS + 1
                who = "0x" + (0xD0 << 152 | r).to_bytes(20, "big").hex()
                out.append(tx(to, calldata("transfer(address,uint256)", who, 10**18 + i)))
            return out

        for b in range(other_blocks):
            mine(transfers(token_b, b))
        for b in range(blocks):
            mine(transfers(TOKEN_A, b))
        head = int(rpc.call("eth_blockNumber"), 16)
        got = rpc.call("eth_getLogs", {"address": TOKEN_A, "fromBlock": hex(head),
                                       "toBlock": hex(head)})
        if len(got) != per_block:
            raise RuntimeError(f"dense chain: block {head} holds {len(got)} logs of token A")
    return head, blocks * per_block + 1  # + the mint
