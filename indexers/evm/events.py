"""The events each source kind emits, as the indexer decodes them.

An event spec says where each parameter sits (which topic, which data word), its ABI type
and the lake column it lands in. topic0 is the keccak of the canonical signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eth_hash.auto import keccak  # eth_utils' keccak, without eth_utils' ~0.3 s import

from depinrev.config import SourceKind

AbiType = Literal["address", "uint64", "uint256", "int256"]


@dataclass(frozen=True)
class Param:
    column: str
    type: AbiType
    indexed: bool


@dataclass(frozen=True)
class EventSpec:
    kind: SourceKind
    name: str  # the ABI event name
    signature: str
    params: tuple[Param, ...]

    @property
    def topic0(self) -> str:
        return "0x" + keccak(self.signature.encode()).hex()

    @property
    def n_topics(self) -> int:
        return 1 + sum(p.indexed for p in self.params)

    @property
    def n_words(self) -> int:
        return sum(not p.indexed for p in self.params)

    def located(self) -> list[tuple[Param, str, int]]:
        """(param, "topic"|"data", position) for each parameter."""
        out: list[tuple[Param, str, int]] = []
        t, w = 1, 0
        for p in self.params:
            if p.indexed:
                out.append((p, "topic", t))
                t += 1
            else:
                out.append((p, "data", w))
                w += 1
        return out


def _spec(kind: SourceKind, sig: str, *params: tuple[str, AbiType, bool]) -> EventSpec:
    return EventSpec(kind, sig.split("(")[0], sig, tuple(Param(*p) for p in params))


TRANSFER = _spec(
    SourceKind.erc20,
    "Transfer(address,address,uint256)",
    ("from_address", "address", True),
    ("to_address", "address", True),
    ("amount", "uint256", False),
)

# (kind) -> list of (ABI spec, lake event name); the event's dataset is the catalogue's
# (depinrev.catalogue). Transfer is routed to mints, burns and transfers by its from/to address
# (see decode.py), so it is listed once.
EVENTS: dict[SourceKind, list[tuple[EventSpec, str]]] = {
    SourceKind.erc20: [(TRANSFER, "transfer")],
    SourceKind.service_fee: [
        (
            _spec(
                SourceKind.service_fee,
                "DepositServiceFee(address,uint64,uint256)",
                ("developer", "address", True),
                ("nonce", "uint64", False),
                ("amount", "uint256", False),
            ),
            "deposit",
        ),
        (
            _spec(
                SourceKind.service_fee,
                "WithdrawServiceFee(address,uint64,uint256)",
                ("developer", "address", True),
                ("nonce", "uint64", False),
                ("amount", "uint256", False),
            ),
            "withdraw",
        ),
    ],
    SourceKind.lease_escrow: [
        (
            _spec(
                SourceKind.lease_escrow,
                "LeaseCreated(uint64,address,address,uint256,uint256)",
                ("lease_id", "uint64", True),
                ("tenant", "address", True),
                ("provider", "address", True),
                ("price_per_block", "uint256", False),
                ("amount", "uint256", False),
            ),
            "lease_created",
        ),
        (
            _spec(
                SourceKind.lease_escrow,
                "LeaseDeposit(uint64,address,uint256)",
                ("lease_id", "uint64", True),
                ("tenant", "address", True),
                ("amount", "uint256", False),
            ),
            "deposit",
        ),
        (
            _spec(
                SourceKind.lease_escrow,
                "PaymentWithdrawn(uint64,address,uint256,uint256)",
                ("lease_id", "uint64", True),
                ("provider", "address", True),
                ("amount", "uint256", False),
                ("take_amount", "uint256", False),
            ),
            "payment_withdrawn",
        ),
        (
            _spec(
                SourceKind.lease_escrow,
                "LeaseClosed(uint64,address,address)",
                ("lease_id", "uint64", True),
                ("tenant", "address", True),
                ("provider", "address", True),
            ),
            "lease_closed",
        ),
        (
            _spec(
                SourceKind.lease_escrow,
                "LeaseRefund(uint64,address,uint256)",
                ("lease_id", "uint64", True),
                ("tenant", "address", True),
                ("amount", "uint256", False),
            ),
            "refund",
        ),
    ],
    SourceKind.price_feed: [
        (
            _spec(
                SourceKind.price_feed,
                "AnswerUpdated(int256,uint256,uint256)",
                ("answer", "int256", True),
                ("round_id", "uint256", True),
                ("updated_at", "uint256", False),
            ),
            "answer_updated",
        )
    ],
}

ZERO_TOPIC = "0x" + "00" * 32
