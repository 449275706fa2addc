"""Block-by-block transaction sender with local bookkeeping of every log it causes.

Each transaction is declared together with the logs it will emit (in emission order). The
ledger is built from that declaration and the block the transaction was mined in, never from
logs read back from the node, so the tests' comparison with eth_getLogs is an independent check.

Ordering inside a block: anvil orders its pool by priority fee. With the base fee pinned at 0,
the i-th of n transactions gets gas price n - i + 1 wei, so the block holds them in exactly the
order they were declared (nonces are assigned locally in that same order, so they agree).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devnet.rpc import Rpc

TX_GAS = 400_000
DEPLOY_GAS = 5_000_000
# Largest number of transactions sent in one HTTP batch; bigger blocks are split.
SEND_BATCH = 400


@dataclass
class LogSpec:
    """One log a transaction will emit; `record` is its ledger row (None if not in the ledger)."""

    record: dict[str, Any] | None


@dataclass
class Tx:
    sender: str
    to: str | None
    data: str
    logs: list[LogSpec]
    gas: int = TX_GAS


@dataclass
class MinedBlock:
    number: int
    timestamp: int
    tx_hashes: list[str]


@dataclass
class ChainSender:
    """Sends one block's transactions at a time and assigns ledger coordinates."""

    rpc: Rpc
    chain_name: str
    chain_id: int
    head: int = 0
    nonces: dict[str, int] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    pending: list[Tx] = field(default_factory=list)
    logs_emitted: int = 0
    txs_sent: int = 0
    on_mined: Callable[[MinedBlock], None] | None = None
    send_seconds: float = 0.0
    mine_seconds: float = 0.0

    @property
    def next_block(self) -> int:
        return self.head + 1

    def add(self, tx: Tx) -> None:
        self.pending.append(tx)

    def mine(self, timestamp: int) -> MinedBlock:
        txs, self.pending = self.pending, []
        n = len(txs)
        calls: list[tuple[str, list[Any]]] = []
        for i, tx in enumerate(txs):
            nonce = self.nonces.get(tx.sender, 0)
            self.nonces[tx.sender] = nonce + 1
            req: dict[str, Any] = {
                "from": tx.sender,
                "data": tx.data,
                "gas": hex(tx.gas),
                "gasPrice": hex(n - i + 1),
                "nonce": hex(nonce),
            }
            if tx.to is not None:
                req["to"] = tx.to
            calls.append(("eth_sendTransaction", [req]))
        hashes: list[str] = []
        t0 = time.perf_counter()
        for start in range(0, n, SEND_BATCH):
            hashes.extend(str(h).lower() for h in self.rpc.batch(calls[start : start + SEND_BATCH]))
        t1 = time.perf_counter()
        self.rpc.call("evm_mine", timestamp)
        self.send_seconds += t1 - t0
        self.mine_seconds += time.perf_counter() - t1
        self.head += 1
        number = self.head
        log_index = 0
        for tx, tx_hash in zip(txs, hashes, strict=True):
            for spec in tx.logs:
                if spec.record is not None:
                    rec = spec.record
                    rec["chain_id"] = self.chain_id
                    rec["block_number"] = number
                    rec["block_timestamp"] = timestamp
                    rec["transaction_hash"] = tx_hash
                    rec["log_index"] = log_index
                    self.ledger.append(rec)
                log_index += 1
        self.logs_emitted += log_index
        self.txs_sent += n
        block = MinedBlock(number=number, timestamp=timestamp, tx_hashes=hashes)
        if self.on_mined is not None:
            self.on_mined(block)
        return block
