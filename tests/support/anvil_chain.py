"""A small dedicated anvil chain for fault tests: one DevToken with a few hundred mints and
burns spread over several chunks, and the expected (independent) event list.

Built with the devnet's own start_anvil (a free port, its own data dir); the token is deployed
by anvil's first dev account at a deterministic address; mints and burns go out with
automine off and one evm_mine per transaction at a fixed timestamp, so the chain (and so the
lake) is the same in every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_abi import encode
from eth_utils import keccak

from devnet.api import start_anvil, stop_pid
from devnet.rpc import Rpc
from tests.support.devnet import _free_port
from tests.support.paths import REPO

CHAIN_ID = 31337
DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"  # anvil's first dev account
HOLDER = "0x70997970c51812dc3a010c7d01d50e5bb3ef2af8"  # anvil's second dev account
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z


def _selector(sig: str) -> str:
    return "0x" + keccak(text=sig)[:4].hex()


@dataclass
class SmallChain:
    url: str
    token: str
    head: int
    # (block, event, amount): every mint and burn the chain holds, from the script below
    events: list[tuple[int, str, int]]


@contextmanager
def small_chain(data_dir: Path, *, n_events: int = 240, blocks: int = 600) -> Iterator[SmallChain]:
    """A running anvil chain with `n_events` mints/burns of one token over `blocks` blocks."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    pid, _ = start_anvil("faults", port, CHAIN_ID, data_dir, None)
    url = f"http://127.0.0.1:{port}"
    try:
        with Rpc(url) as rpc:
            rpc.call("evm_setAutomine", False)
            art = json.loads((REPO / "contracts" / "build" / "DevToken.json").read_text())
            ctor = encode(["string", "string", "uint8"], ["Fault Token", "FLT", 18]).hex()
            tx = rpc.call("eth_sendTransaction", {"from": DEV, "data": art["bytecode"] + ctor,
                                                  "gas": hex(3_000_000)})
            rpc.call("evm_mine", T0)
            token = rpc.call("eth_getTransactionReceipt", tx)["contractAddress"].lower()
            mint, burn = _selector("mint(address,uint256)"), _selector("burn(uint256)")
            events: list[tuple[int, str, int]] = []
            block = 1
            # events spread over the blocks: a gap pattern leaves some stretches empty
            at = sorted({2 + (i * 7919) % (blocks - 10) for i in range(n_events)})
            minted = 0
            for i, target in enumerate(at):
                while block < target - 1:  # empty blocks up to the next event
                    block += 1
                    rpc.call("evm_mine", T0 + 12 * block)
                amount = 10**18 + i * 1_000_003
                if i % 3 == 2 and minted > amount:
                    data = burn + encode(["uint256"], [amount]).hex()
                    kind = "burn"
                    minted -= amount
                else:
                    data = mint + encode(["address", "uint256"], [DEV, amount]).hex()
                    kind = "mint"
                    minted += amount
                rpc.call("eth_sendTransaction", {"from": DEV, "to": token, "data": data,
                                                 "gas": hex(200_000)})
                block += 1
                rpc.call("evm_mine", T0 + 12 * block)
                events.append((block, kind, amount))
            while block < blocks:
                block += 1
                rpc.call("evm_mine", T0 + 12 * block)
            head = int(rpc.call("eth_blockNumber"), 16)
        yield SmallChain(url, token, head, events)
    finally:
        stop_pid(pid)


def config_yaml(token: str, rpc_env: str, *, chunk_size: int = 100, finality: int = 2) -> str:
    """A configuration with one network indexing the token's mints and burns."""
    return f"""
version: 1
chains:
  fault-chain:
    chain_id: {CHAIN_ID}
    rpc_url_env: {rpc_env}
    finality_depth: {finality}
    chunk_size: {chunk_size}
    max_blocks_per_request: {chunk_size}
    concurrency: 2
tokens:
  flt: {{symbol: FLT, decimals: 18, chain: fault-chain, address: "{token}"}}
networks:
  fault-net:
    display_name: Fault test network
    devnet: true
    sources:
      - name: flt-token
        kind: erc20
        chain: fault-chain
        address: "{token}"
        start_block: 1
        token: flt
"""
