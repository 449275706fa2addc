"""Local models of the devnet contracts: they build each transaction with the logs it emits.

Every model mirrors its Solidity contract exactly (same integer arithmetic, same log order), so
balances, supplies and log positions are known without asking the node. The end-of-replay check
compares these models with the chain and refuses a replay that drifted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devnet.abi import calldata
from devnet.chain import ChainSender, LogSpec, Tx

ZERO_ADDRESS = "0x" + "00" * 20
MAX_UINT256 = 2**256 - 1

LEDGER_FIELDS: tuple[str, ...] = (
    "network",
    "chain_id",
    "dataset",
    "event",
    "contract",
    "block_number",
    "block_timestamp",
    "transaction_hash",
    "log_index",
    "token",
    "amount",
    "take_amount",
    "from_address",
    "to_address",
    "developer",
    "nonce",
    "lease_id",
    "tenant",
    "provider",
    "price_per_block",
    "answer",
    "round_id",
    "updated_at",
)


def record(**fields: Any) -> dict[str, Any]:
    """A ledger row with every field present (None where the event does not carry it)."""
    row: dict[str, Any] = dict.fromkeys(LEDGER_FIELDS)
    unknown = set(fields) - set(LEDGER_FIELDS)
    if unknown:
        raise KeyError(f"not ledger fields: {sorted(unknown)}")
    row.update(fields)
    return row


def _plain() -> LogSpec:
    return LogSpec(record=None)


@dataclass
class TokenModel:
    key: str
    address: str
    decimals: int
    owner: str
    # The network whose erc20 source this token is; None when no source reads it (its mints
    # and burns are then not revenue data and stay out of the ledger).
    network: str | None
    total_supply: int = 0
    balances: dict[str, int] = field(default_factory=dict)

    def balance(self, who: str) -> int:
        return self.balances.get(who, 0)

    def _move(self, frm: str, to: str, amount: int) -> None:
        have = self.balance(frm)
        if have < amount:
            raise ValueError(f"{self.key}: {frm} has {have}, needs {amount}")
        self.balances[frm] = have - amount
        self.balances[to] = self.balance(to) + amount

    def _erc20_record(self, event: str, frm: str, to: str, amount: int) -> LogSpec:
        if self.network is None:
            return _plain()
        return LogSpec(
            record(
                network=self.network,
                dataset="token_mints" if event == "mint" else "token_burns",
                event=event,
                contract=self.address,
                token=self.key,
                amount=str(amount),
                from_address=frm,
                to_address=to,
            )
        )

    def transfer_log(self) -> LogSpec:
        """The Transfer a contract's token movement emits; ordinary transfers are not revenue."""
        return _plain()

    def mint(self, sender: ChainSender, to: str, amount: int) -> None:
        self.total_supply += amount
        self.balances[to] = self.balance(to) + amount
        sender.add(
            Tx(
                self.owner,
                self.address,
                calldata("mint(address,uint256)", to, amount),
                [self._erc20_record("mint", ZERO_ADDRESS, to, amount)],
            )
        )

    def burn(self, sender: ChainSender, frm: str, amount: int) -> None:
        have = self.balance(frm)
        if have < amount:
            raise ValueError(f"{self.key}: {frm} burns {amount} but has {have}")
        self.balances[frm] = have - amount
        self.total_supply -= amount
        sender.add(
            Tx(
                frm,
                self.address,
                calldata("burn(uint256)", amount),
                [self._erc20_record("burn", frm, ZERO_ADDRESS, amount)],
            )
        )

    def transfer(self, sender: ChainSender, frm: str, to: str, amount: int) -> None:
        self._move(frm, to, amount)
        sender.add(
            Tx(frm, self.address, calldata("transfer(address,uint256)", to, amount), [_plain()])
        )

    def approve(self, sender: ChainSender, owner: str, spender: str) -> None:
        sender.add(
            Tx(
                owner,
                self.address,
                calldata("approve(address,uint256)", spender, MAX_UINT256),
                [_plain()],
            )
        )


@dataclass
class Lease:
    lease_id: int
    tenant: str
    provider: str
    price_per_block: int
    balance: int
    settled_block: int
    open: bool = True


@dataclass
class EscrowModel:
    name: str
    network: str
    address: str
    token: TokenModel
    community_pool: str
    take_bps: int
    leases: dict[int, Lease] = field(default_factory=dict)
    next_id: int = 1

    @property
    def balance(self) -> int:
        return self.token.balance(self.address)

    def _rec(self, event: str, lease: Lease, **fields: Any) -> LogSpec:
        return LogSpec(
            record(
                network=self.network,
                dataset="lease_payments",
                event=event,
                contract=self.address,
                token=self.token.key,
                lease_id=lease.lease_id,
                **fields,
            )
        )

    def create(
        self, sender: ChainSender, tenant: str, provider: str, price: int, deposit: int
    ) -> Lease:
        lease = Lease(self.next_id, tenant, provider, price, deposit, sender.next_block)
        self.next_id += 1
        self.leases[lease.lease_id] = lease
        logs: list[LogSpec] = []
        if deposit > 0:
            self.token._move(tenant, self.address, deposit)
            logs.append(self.token.transfer_log())
        logs.append(
            self._rec(
                "lease_created",
                lease,
                tenant=tenant,
                provider=provider,
                price_per_block=str(price),
                amount=str(deposit),
            )
        )
        data = calldata("createLease(address,uint256,uint256)", provider, price, deposit)
        sender.add(Tx(tenant, self.address, data, logs))
        return lease

    def deposit(self, sender: ChainSender, lease: Lease, amount: int) -> None:
        lease.balance += amount
        logs: list[LogSpec] = []
        if amount > 0:
            self.token._move(lease.tenant, self.address, amount)
            logs.append(self.token.transfer_log())
        logs.append(self._rec("deposit", lease, tenant=lease.tenant, amount=str(amount)))
        data = calldata("deposit(uint64,uint256)", lease.lease_id, amount)
        sender.add(Tx(lease.tenant, self.address, data, logs))

    def _settle(self, block: int, lease: Lease) -> list[LogSpec]:
        owed = lease.price_per_block * (block - lease.settled_block)
        accrued = min(owed, lease.balance)
        lease.settled_block = block
        if accrued == 0:
            return []
        lease.balance -= accrued
        take = accrued * self.take_bps // 10_000
        to_provider = accrued - take
        logs: list[LogSpec] = []
        if take > 0:
            self.token._move(self.address, self.community_pool, take)
            logs.append(self.token.transfer_log())
        if to_provider > 0:
            self.token._move(self.address, lease.provider, to_provider)
            logs.append(self.token.transfer_log())
        logs.append(
            self._rec(
                "payment_withdrawn",
                lease,
                provider=lease.provider,
                amount=str(to_provider),
                take_amount=str(take),
            )
        )
        return logs

    def withdraw(self, sender: ChainSender, lease: Lease) -> None:
        logs = self._settle(sender.next_block, lease)
        data = calldata("withdraw(uint64)", lease.lease_id)
        sender.add(Tx(lease.provider, self.address, data, logs))

    def close(self, sender: ChainSender, lease: Lease, by: str) -> None:
        logs = self._settle(sender.next_block, lease)
        lease.open = False
        rest, lease.balance = lease.balance, 0
        if rest > 0:
            self.token._move(self.address, lease.tenant, rest)
            logs.append(self.token.transfer_log())
            logs.append(self._rec("refund", lease, tenant=lease.tenant, amount=str(rest)))
        logs.append(self._rec("lease_closed", lease, tenant=lease.tenant, provider=lease.provider))
        data = calldata("closeLease(uint64)", lease.lease_id)
        sender.add(Tx(by, self.address, data, logs))


@dataclass
class ServiceFeeModel:
    name: str
    network: str
    address: str
    token: TokenModel
    balances: dict[str, int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)

    def _next_nonce(self, dev: str) -> int:
        n = self.nonces.get(dev, 0)
        self.nonces[dev] = n + 1
        return n

    def _rec(self, event: str, dev: str, nonce: int, amount: int) -> LogSpec:
        return LogSpec(
            record(
                network=self.network,
                dataset="service_fees",
                event=event,
                contract=self.address,
                token=self.token.key,
                developer=dev,
                nonce=nonce,
                amount=str(amount),
            )
        )

    def deposit(self, sender: ChainSender, dev: str, amount: int) -> None:
        if amount <= 0:
            raise ValueError("a service-fee deposit must be positive")
        self.token._move(dev, self.address, amount)
        self.balances[dev] = self.balances.get(dev, 0) + amount
        nonce = self._next_nonce(dev)
        logs = [self.token.transfer_log(), self._rec("deposit", dev, nonce, amount)]
        data = calldata("depositServiceFee(uint256)", amount)
        sender.add(Tx(dev, self.address, data, logs))

    def withdraw(self, sender: ChainSender, dev: str, amount: int) -> None:
        have = self.balances.get(dev, 0)
        if not 0 < amount <= have:
            raise ValueError(f"withdrawal {amount} outside (0, {have}]")
        self.balances[dev] = have - amount
        nonce = self._next_nonce(dev)
        self.token._move(self.address, dev, amount)
        logs = [self.token.transfer_log(), self._rec("withdraw", dev, nonce, amount)]
        data = calldata("withdrawServiceFee(uint256)", amount)
        sender.add(Tx(dev, self.address, data, logs))


@dataclass
class FeedModel:
    name: str
    network: str
    address: str
    token_key: str
    owner: str
    round_id: int = 0
    latest_answer: int = 0

    def submit(self, sender: ChainSender, answer: int, updated_at: int) -> None:
        self.round_id += 1
        self.latest_answer = answer
        spec = LogSpec(
            record(
                network=self.network,
                dataset="token_prices",
                event="answer_updated",
                contract=self.address,
                token=self.token_key,
                amount=str(answer),
                answer=str(answer),
                round_id=self.round_id,
                updated_at=updated_at,
            )
        )
        data = calldata("submit(int256,uint256)", answer, updated_at)
        sender.add(Tx(self.owner, self.address, data, [spec]))
