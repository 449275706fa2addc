"""The catalogue of source kinds: the one table that says what each kind of source is.

A source kind (an ERC-20 token, a service-fee contract, a lease escrow, a price feed, SPL burns
of a Solana mint, the Akash escrow module account) is read from one chain kind, writes fixed
lake datasets with fixed events, each event with fixed amount fields, and is reconciled against
chain state in one default way. Everything else reads those facts from here: the configuration
(which events and fields a revenue rule may name), the readers (which datasets a chunk writes),
the warehouse (which dataset a rule's event lives in), the audit (which flows move the
reconciled balance), the Dagster ingest assets and the dbt sources (one per lake dataset).

Adding a source kind: a row here, one decoder in its chain kind's reader, one staging model
(see docs/architecture.md). This module imports nothing of the project: it is the ground floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    """What a contract (or account) is; each kind feeds fixed lake datasets with fixed events."""

    erc20 = "erc20"
    service_fee = "service_fee"
    lease_escrow = "lease_escrow"
    price_feed = "price_feed"
    spl_burns = "spl_burns"
    akash_escrow = "akash_escrow"
    subtensor = "subtensor"


class ChainKind(StrEnum):
    evm = "evm"
    solana = "solana"
    cosmos = "cosmos"
    substrate = "substrate"


class Reconciliation(StrEnum):
    """How a source's quarter is checked against independent chain state (docs/networks.md)."""

    total_supply = "total_supply"  # token totalSupply change = mints - burns
    balance_of = "balance_of"  # the holder's token balance change = the source's net flows
    second_endpoint = "second_endpoint"  # the rows fetched again from another RPC are equal
    counter = "counter"  # a chain storage counter diffed at the quarter's boundary blocks
    none = "none"  # not reconciled, with a reason (reported not_applicable, never pass)


@dataclass(frozen=True)
class EventKind:
    """One lake event of a source kind: its dataset and its amount fields."""

    name: str
    dataset: str
    amounts: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    """An event amount that moves the reconciled quantity (supply or balance), with its sign."""

    event: str
    field: str
    sign: int


@dataclass(frozen=True)
class SourceKindSpec:
    kind: SourceKind
    chain_kind: ChainKind
    description: str
    events: tuple[EventKind, ...]
    reconciliation: Reconciliation
    # The events whose amounts move the measured quantity, for total_supply / balance_of.
    flows: tuple[Flow, ...] = ()
    # Why the default is `none`: the chain's standard API cannot show the state to compare.
    not_reconciled_reason: str | None = None
    # Datasets written only on request (erc20 index_transfers): not in every chunk.
    optional_datasets: tuple[str, ...] = ()

    @property
    def datasets(self) -> tuple[str, ...]:
        """Every dataset a source of this kind may write, sorted."""
        return tuple(sorted({e.dataset for e in self.events}))

    def event(self, name: str) -> EventKind | None:
        return next((e for e in self.events if e.name == name), None)

    @property
    def event_amounts(self) -> dict[str, tuple[str, ...]]:
        return {e.name: e.amounts for e in self.events}


def _events(dataset: str, *events: tuple[str, tuple[str, ...]]) -> tuple[EventKind, ...]:
    return tuple(EventKind(name, dataset, amounts) for name, amounts in events)


_ERC20_EVENTS = (
    EventKind("burn", "token_burns", ("amount",)),
    EventKind("mint", "token_mints", ("amount",)),
    EventKind("transfer", "token_transfers", ("amount",)),
)

CATALOGUE: dict[SourceKind, SourceKindSpec] = {
    s.kind: s
    for s in (
        SourceKindSpec(
            SourceKind.erc20,
            ChainKind.evm,
            "an ERC-20 token: burns (Transfer to 0x0), mints (Transfer from 0x0), and every "
            "Transfer when index_transfers is set",
            _ERC20_EVENTS,
            Reconciliation.total_supply,
            flows=(Flow("mint", "amount", 1), Flow("burn", "amount", -1)),
            optional_datasets=("token_transfers",),
        ),
        SourceKindSpec(
            SourceKind.service_fee,
            ChainKind.evm,
            "an AethirCore-style fee contract: DepositServiceFee / WithdrawServiceFee",
            _events("service_fees", ("deposit", ("amount",)), ("withdraw", ("amount",))),
            Reconciliation.balance_of,
            flows=(Flow("deposit", "amount", 1), Flow("withdraw", "amount", -1)),
        ),
        SourceKindSpec(
            SourceKind.lease_escrow,
            ChainKind.evm,
            "a lease escrow contract: leases, deposits, withdrawals with take, refunds",
            _events(
                "lease_payments",
                ("lease_created", ("amount",)),
                ("deposit", ("amount",)),
                ("payment_withdrawn", ("amount", "take_amount")),
                ("lease_closed", ()),
                ("refund", ("amount",)),
            ),
            Reconciliation.balance_of,
            flows=(
                Flow("lease_created", "amount", 1),
                Flow("deposit", "amount", 1),
                Flow("payment_withdrawn", "amount", -1),
                Flow("payment_withdrawn", "take_amount", -1),
                Flow("refund", "amount", -1),
            ),
        ),
        SourceKindSpec(
            SourceKind.price_feed,
            ChainKind.evm,
            "a Chainlink-style price feed: AnswerUpdated rounds",
            _events("token_prices", ("answer_updated", ("answer",))),
            Reconciliation.none,
            not_reconciled_reason="a price feed holds no funds: its rounds are prices, not flows",
        ),
        SourceKindSpec(
            SourceKind.spl_burns,
            ChainKind.solana,
            "SPL burn / burnChecked instructions of a Solana mint",
            _events("token_burns", ("burn", ("amount",))),
            Reconciliation.none,
            not_reconciled_reason=(
                "not reconciled: Solana's standard RPC answers getTokenSupply for the current "
                "slot only (no supply at a past slot), and a burn_owners filter keeps only some "
                "of the mint's burns; the burns are checked by coverage (every slot of the "
                "quarter indexed, boundary hashes equal to the cluster's) only"
            ),
        ),
        SourceKindSpec(
            SourceKind.akash_escrow,
            ChainKind.cosmos,
            "the Akash escrow module account: settled payouts and the lease lifecycle",
            # Settled cash out of the escrow module account (docs/readers.md): payments to
            # providers, the take-rate share to the distribution module, and the outflows that
            # are not revenue (tenant refunds, returned bid deposits), kept so outflows add up.
            _events(
                "lease_payments",
                ("lease_created", ("price_per_block",)),
                ("lease_closed", ()),
                ("provider_payment", ("amount",)),
                ("take_payment", ("amount",)),
                ("tenant_refund", ("amount",)),
                ("deposit_returned", ("amount",)),
                # unspent escrow returned to a depositor who is not the tenant (authz
                # deposit grants: the granter), known from escrow_deposits (not revenue)
                ("depositor_refund", ("amount",)),
                # escrow balances moved to the BME module by node v2.0.0's upgrade and the
                # deployment EndBlocker: conversions to ACT, not payments (not revenue)
                ("bme_conversion", ("amount",)),
            )
            + _events("escrow_deposits", ("deposit", ("amount",)))
            # node v2.0.0 burn-mint equilibrium: AKT into / out of the BME module account
            + _events("bme_flows", ("akt_burned", ("amount",)), ("akt_reminted", ("amount",))),
            Reconciliation.none,
            not_reconciled_reason=(
                "not reconciled: the lake keeps the escrow account's outflows (provider and "
                "take payments, refunds, returned deposits) and the tenant deposits flowing "
                "into it only in the denoms the configuration maps (and not the BME module's "
                "conversions back into it), and its bank balance at a height is readable only "
                "from an archive node (abci_query /cosmos.bank.v1beta1.Query/Balance), which "
                "the audit does not read; the payments are checked by coverage (every height "
                "of the quarter indexed, boundary hashes equal to the chain's) only"
            ),
        ),
        SourceKindSpec(
            SourceKind.subtensor,
            ChainKind.substrate,
            "Bittensor's Subtensor runtime: transaction fees, registration burns, network "
            "locks, stake and unstake swap fees and key swap costs from System.Events (amounts "
            "in rao; an unstake fee in the subnet's alpha, token `alpha`)",
            _events(
                "tao_events",
                # the tip is inside actual_fee (the amount): in the lake, not a rule's field
                ("transaction_fee", ("amount",)),
                ("registration_burn", ("amount",)),
                ("network_lock", ("amount", "min_lock")),
                ("stake_fee", ("amount",)),
                ("unstake_fee", ("amount",)),
                ("key_swap_cost", ("amount",)),
            ),
            Reconciliation.counter,
            flows=(Flow("registration_burn", "amount", 1),),
            # What the counter leaves out: the chain keeps no counter of the other events.
            not_reconciled_reason=(
                "transaction fees, stake fees, network locks and key swap costs are not "
                "reconciled: the chain keeps no counter of them, and TotalIssuance also moves "
                "with the quarter's emissions, which the lake does not hold; they are checked "
                "by coverage (every block of the quarter indexed, boundary hashes equal to the "
                "chain's) only"
            ),
        ),
    )
}

# Every lake dataset of events, with what it holds (the Dagster ingest assets and the dbt
# sources are one per dataset; tests check both against this table).
EVENT_DATASETS: dict[str, str] = {
    "lease_payments": "Lease escrow events: leases, deposits, withdrawals with take, refunds; "
    "Akash escrow payouts per coin (block_number = height).",
    "service_fees": "Service-fee deposits and withdrawals (AethirCore-style).",
    "token_burns": "ERC-20 burns (Transfer to 0x0) and SPL burns of Solana mints "
    "(block_number = slot).",
    "token_mints": "ERC-20 mints: Transfer(0x0, to, value); used for supply reconciliation.",
    "token_transfers": "Every ERC-20 Transfer of tokens with index_transfers set.",
    "token_prices": "Chainlink-style AnswerUpdated price-feed rounds.",
    "escrow_deposits": "Akash: transfers into the escrow module account, one per coin, with "
    "the escrow account's owner and the depositor (the authz granter for granted deposits).",
    "bme_flows": "Akash node v2.0.0+: AKT sent to the BME module account (akt_burned) and sent "
    "out of it (akt_reminted), one per coin; their difference is the net AKT burn.",
    "tao_events": "Bittensor revenue events from System.Events, one row per event (block_number "
    "= height, log_index = event index, transaction_index = extrinsic index or -1).",
}
BLOCKS_DATASET = "blocks"
BLOCKS_DESCRIPTION = "Block headers of chunk boundaries and of every block holding a row."

assert {d for s in CATALOGUE.values() for d in s.datasets} == set(EVENT_DATASETS)


def spec(kind: SourceKind | str) -> SourceKindSpec:
    return CATALOGUE[SourceKind(kind)]


def kinds_of_chain(chain_kind: ChainKind | str) -> list[SourceKind]:
    return [k for k, s in CATALOGUE.items() if s.chain_kind == ChainKind(chain_kind)]


def dataset_of(kind: SourceKind, event: str) -> str:
    """The lake dataset an event of a source kind is written to."""
    ev = CATALOGUE[kind].event(event)
    if ev is None:
        raise KeyError(f"{event!r} is not an event of a {kind.value} source")
    return ev.dataset
