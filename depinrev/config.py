"""The network configuration file: chains, tokens, networks, their sources and revenue rules.

One YAML file declares everything the indexer and the warehouse need to know about a network,
so that a user adds a network or a token without touching code. It is validated by pydantic at
load time; a mistake is refused with a message that names the field and what is wrong.
See docs/networks.md for the format.
"""

from __future__ import annotations

import hashlib
import os
import re
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from depinrev.catalogue import CATALOGUE, ChainKind, Reconciliation, SourceKind

ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
FRACTION_RE = re.compile(r"^-?\d+(\.\d+)?(/\d+)?$")
# Cosmos SDK denom rule (x/bank: a letter, then 2-127 of letters, digits, / : . _ -).
DENOM_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$")
# Cosmos chain ids ("akashnet-2", "osmosis-1") as /status reports them in node_info.network.
COSMOS_CHAIN_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,47}$")

Name = Annotated[str, Field(pattern=NAME_RE.pattern, min_length=1, max_length=64)]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the field and the problem."""


class Label(StrEnum):
    """Revenue labels, following the DefiLlama / Token Terminal vocabulary."""

    fees = "fees"
    supply_side_revenue = "supply_side_revenue"
    protocol_revenue = "protocol_revenue"
    holders_revenue = "holders_revenue"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _RpcChain(_Strict):
    """What every chain has: a lake partition number, an RPC URL from the environment."""

    chain_id: int = Field(gt=0)
    rpc_url_env: str = Field(description="environment variable holding the RPC URL")
    rpc_url_default: str | None = Field(
        default=None, description="used when the variable is unset (devnets only)"
    )
    concurrency: int = Field(default=4, ge=1, le=64)

    @field_validator("rpc_url_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not ENV_RE.match(v):
            raise ValueError(f"{v!r} is not an environment variable name (use A-Z, 0-9, _)")
        return v

    @field_validator("rpc_url_default")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    def rpc_url(self) -> str:
        """The RPC URL, read from the environment when called (never at import time)."""
        url = os.environ.get(self.rpc_url_env) or self.rpc_url_default
        if not url:
            raise ConfigError(
                f"environment variable {self.rpc_url_env} is not set and the chain has no "
                "rpc_url_default: set it to the chain's JSON-RPC URL"
            )
        return url


class ChainConfig(_RpcChain):
    """An EVM chain: where to reach it and how deep a block must be buried to count."""

    kind: Literal["evm"] = "evm"
    finality_depth: int = Field(ge=0, le=100_000)
    chunk_size: int = Field(default=2_000, ge=1, le=10_000_000, description="blocks per file")
    max_logs_per_request: int = Field(default=10_000, ge=1)
    max_blocks_per_request: int = Field(default=10_000, ge=1)
    memory_budget_mib: int = Field(
        default=128, ge=1, le=1_000_000,
        description="memory for chunks in flight: admits chunks by their rows, not their count",
    )


class SolanaChainConfig(_RpcChain):
    """A Solana cluster. `chain_id` is only the lake's partition number (Solana has none):
    by convention 101 for mainnet-beta, as in the Solana token list. Block numbers are slots.
    """

    kind: Literal["solana"]
    genesis_hash: str | None = Field(
        default=None, description="checked against getGenesisHash before anything is read"
    )
    # Reads use commitment "finalized", so 0 is safe; a margin only delays the range.
    finality_depth: int = Field(default=0, ge=0, le=1_000_000)
    # 216,000 slots is about a day at 400 ms a slot: a file per day of burns.
    chunk_size: int = Field(default=216_000, ge=1, le=100_000_000, description="slots per file")
    signatures_per_request: int = Field(
        default=1_000, ge=1, le=1_000, description="getSignaturesForAddress page (node max 1000)"
    )
    # Solana RPC (Agave's jsonrpc) and the providers built on it take JSON-RPC batches; each
    # call is still billed and checked one by one. 1 turns batching off; a provider refusing
    # batches is detected and read one call at a time.
    transactions_per_batch: int = Field(
        default=50, ge=1, le=1_000, description="getTransaction calls per JSON-RPC batch"
    )

    @field_validator("genesis_hash")
    @classmethod
    def _genesis(cls, v: str | None) -> str | None:
        if v is not None and _b58decode(v) is None:
            raise ValueError(f"{v!r} is not a base58 hash")
        return v


class CosmosChainConfig(_RpcChain):
    """A Cosmos SDK chain read over Tendermint/CometBFT RPC. `chain_id` is only the lake's
    partition number (Cosmos chain ids are names); the name is `chain_name`, checked against
    /status node_info.network before anything is read. Block numbers are heights.
    """

    kind: Literal["cosmos"]
    chain_name: str = Field(description="e.g. akashnet-2, as /status node_info.network says")
    bech32_prefix: str = Field(pattern=r"^[a-z]{1,20}$", description="account prefix, e.g. akash")
    # CometBFT has instant finality: a committed height never changes.
    finality_depth: int = Field(default=0, ge=0, le=100_000)
    chunk_size: int = Field(default=10_000, ge=1, le=10_000_000, description="heights per file")
    concurrency: int = Field(default=8, ge=1, le=64, description="heights fetched at once")

    @field_validator("chain_name")
    @classmethod
    def _chain_name(cls, v: str) -> str:
        if not COSMOS_CHAIN_NAME_RE.match(v):
            raise ValueError(f"{v!r} is not a Cosmos chain id like akashnet-2")
        return v


class SubstrateChainConfig(_RpcChain):
    """A Substrate chain (Bittensor's Subtensor) read over plain JSON-RPC. `chain_id` is only
    the lake's partition number; the chain's identity is its genesis hash, checked against
    chain_getBlockHash(0) before anything is read. Block numbers are block heights.
    """

    kind: Literal["substrate"]
    genesis_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$", description="chain_getBlockHash(0)")
    genesis_hash_unconfirmed: bool = Field(
        default=False,
        description="the pinned hash was not yet checked against a node: the first run checks "
        "it and says so",
    )
    # Reads follow chain_getFinalizedHead (GRANDPA finality): 0 is safe.
    finality_depth: int = Field(default=0, ge=0, le=100_000)
    # 7,200 blocks is a day at 12 s a block: a file per day.
    chunk_size: int = Field(default=7_200, ge=1, le=10_000_000, description="blocks per file")
    concurrency: int = Field(default=8, ge=1, le=64, description="batches fetched at once")
    blocks_per_request: int = Field(
        default=100, ge=1, le=1_000,
        description="blocks per JSON-RPC batch (1: one request per call, for a local node)",
    )
    slot_seconds: int = Field(default=12, ge=1, le=600, description="Aura slot duration")
    metadata_cache: str = Field(
        default="data/cache/substrate-metadata",
        description="folder of runtime metadata, one file per spec version",
    )


def _chain_kind(v: Any) -> str | None:
    # EVM chains predate `kind`: a chain without it is EVM, so existing files stay valid.
    if isinstance(v, dict):
        kind = v.get("kind", "evm")
        return kind if isinstance(kind, str) else None
    return getattr(v, "kind", None)


CHAIN_KINDS = ("evm", "solana", "cosmos", "substrate")

AnyChain = Annotated[
    Annotated[ChainConfig, Tag("evm")]
    | Annotated[SolanaChainConfig, Tag("solana")]
    | Annotated[CosmosChainConfig, Tag("cosmos")]
    | Annotated[SubstrateChainConfig, Tag("substrate")],
    Discriminator(
        _chain_kind,
        custom_error_type="chain_kind",
        custom_error_message="kind must be one of evm (the default), solana, cosmos or substrate",
    ),
]


class TokenConfig(_Strict):
    """A token whose amounts the warehouse reports; raw amounts are scaled by `decimals`."""

    symbol: str = Field(min_length=1, max_length=16)
    decimals: int = Field(ge=0, le=36)
    chain: Name | None = Field(default=None, description="chain of the contract, if any")
    address: str | None = None
    mint: str | None = Field(default=None, description="Solana SPL mint (base58)")
    denom: str | None = Field(default=None, description="Cosmos bank denom, e.g. uakt")
    stablecoin: bool = Field(default=False, description="priced at 1 USD")
    usd_peg_from_block: int | None = Field(
        default=None, ge=0,
        description="priced at 1 USD from this block of the token's chain on (a peg its chain "
        "keeps, e.g. Akash ACT from node v2.0.0); price_source 'peg'",
    )
    coingecko_id: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        return None if v is None else _check_address(v)

    @field_validator("mint")
    @classmethod
    def _mint(cls, v: str | None) -> str | None:
        return None if v is None else _check_pubkey(v)

    @field_validator("denom")
    @classmethod
    def _denom(cls, v: str | None) -> str | None:
        if v is not None and not DENOM_RE.match(v):
            raise ValueError(f"{v!r} is not a Cosmos denom (e.g. uakt or ibc/<64 hex>)")
        return v

    @model_validator(mode="after")
    def _one_location(self) -> TokenConfig:
        given = [k for k in ("address", "mint", "denom") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"a token has one of address, mint or denom; got {given}")
        if self.usd_peg_from_block is not None and self.stablecoin:
            raise ValueError("a token is a stablecoin or pegged from a block, not both")
        if self.usd_peg_from_block is not None and self.chain is None:
            raise ValueError("usd_peg_from_block needs the token's chain (whose block it is)")
        return self


class ReconciliationConfig(_Strict):
    """How a source's quarter is reconciled against independent chain state (docs/networks.md).

    total_supply: the token's totalSupply change = mints - burns (erc20 sources);
    balance_of: the holder's balance of the source's token changes by the source's net flows
    (an escrow or a fee contract holding the funds; holder defaults to the source address);
    second_endpoint: every chunk's rows fetched again from the RPC in `rpc_url_env` have the
    same digest as the lake's (event-only contracts: catches a lying or lagging provider);
    counter: a chain storage counter diffed at the quarter's boundary blocks (subtensor
    sources: RAORecycledForRegistration(netuid) = the lake's registration burns);
    none: not reconciled, with a required `reason` (reported not_applicable, never pass).
    """

    method: Reconciliation
    holder: str | None = Field(default=None, description="balance_of only: whose balance")
    rpc_url_env: str | None = Field(
        default=None, description="second_endpoint only: variable holding the second RPC URL"
    )
    reason: str | None = Field(
        default=None, description="why this method; required for none (shown in the audit)"
    )

    @field_validator("holder")
    @classmethod
    def _holder(cls, v: str | None) -> str | None:
        return None if v is None else _check_address(v)

    @field_validator("rpc_url_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not ENV_RE.match(v):
            raise ValueError(f"{v!r} is not an environment variable name (use A-Z, 0-9, _)")
        return v

    @model_validator(mode="after")
    def _fields_of_method(self) -> ReconciliationConfig:
        m = self.method
        if m is Reconciliation.none and not (self.reason or "").strip():
            raise ValueError("reconciliation method none needs a reason (why it cannot be done)")
        if m is Reconciliation.second_endpoint and self.rpc_url_env is None:
            raise ValueError(
                "reconciliation method second_endpoint needs rpc_url_env (the environment "
                "variable holding the second RPC URL)"
            )
        if m is not Reconciliation.second_endpoint and self.rpc_url_env is not None:
            raise ValueError("reconciliation rpc_url_env is only for method second_endpoint")
        if m is not Reconciliation.balance_of and self.holder is not None:
            raise ValueError("reconciliation holder is only for method balance_of")
        return self


class SourceConfig(_Strict):
    """One contract the indexer reads for a network."""

    name: Name
    kind: SourceKind
    chain: Name
    address: str
    start_block: int = Field(ge=0)
    token: Name = Field(description="token of the amounts (the feed's token for price feeds)")
    answer_decimals: int | None = Field(
        default=None, ge=0, le=36, description="price_feed only: decimals of the answer"
    )
    index_transfers: bool = Field(
        default=False, description="erc20 only: also keep every Transfer in token_transfers"
    )
    burn_owners: list[str] = Field(
        default_factory=list,
        description="spl_burns only: count only burns whose authority or account owner is one",
    )
    distribution_account: str | None = Field(
        default=None,
        description="akash_escrow only: module account receiving the take-rate share",
    )
    bme_account: str | None = Field(
        default=None,
        description="akash_escrow only: the BME module account (node v2.0.0+); escrow outflows "
        "to it are conversions, AKT into and out of it the net AKT burn",
    )
    bme_height: int | None = Field(
        default=None, ge=1,
        description="akash_escrow only: height of the node v2.0.0 upgrade (BME flows counted "
        "from it on)",
    )
    reconciliation: ReconciliationConfig | None = Field(
        default=None, description="how the audit reconciles the source (default: by kind)"
    )

    @property
    def datasets(self) -> tuple[str, ...]:
        """The lake datasets this source writes in every chunk (depinrev.catalogue)."""
        kind = CATALOGUE[self.kind]
        skip = set() if self.index_transfers else set(kind.optional_datasets)
        return tuple(d for d in kind.datasets if d not in skip)

    @property
    def reconciliation_plan(self) -> ReconciliationConfig:
        """The declared reconciliation, or the kind's default from the catalogue."""
        if self.reconciliation is not None:
            return self.reconciliation
        kind = CATALOGUE[self.kind]
        return ReconciliationConfig(
            method=kind.reconciliation, reason=kind.not_reconciled_reason)

    @property
    def reconciliation_holder(self) -> str:
        """balance_of: the address whose token balance is read (default: the source)."""
        plan = self.reconciliation_plan
        return plan.holder if plan.holder is not None else self.address

    @field_validator("address")
    @classmethod
    def _address(cls, v: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is SourceKind.spl_burns:
            return _check_pubkey(v)
        if kind is SourceKind.akash_escrow:
            return _check_bech32(v)
        if kind is SourceKind.subtensor:
            if v != "runtime":
                raise ValueError(
                    f"{v!r}: a subtensor source reads the chain's runtime events; its address "
                    "is the word runtime"
                )
            return v
        return _check_address(v)

    @field_validator("burn_owners")
    @classmethod
    def _owners(cls, v: list[str]) -> list[str]:
        return [_check_pubkey(a) for a in v]

    @field_validator("distribution_account", "bme_account")
    @classmethod
    def _module_account(cls, v: str | None) -> str | None:
        return None if v is None else _check_bech32(v)

    @model_validator(mode="after")
    def _feed_decimals(self) -> SourceConfig:
        if self.kind is SourceKind.price_feed and self.answer_decimals is None:
            raise ValueError("a price_feed source needs answer_decimals (e.g. 8)")
        if self.kind is not SourceKind.price_feed and self.answer_decimals is not None:
            raise ValueError("answer_decimals is only for price_feed sources")
        if self.kind is not SourceKind.erc20 and self.index_transfers:
            raise ValueError("index_transfers is only for erc20 sources")
        if self.kind is not SourceKind.spl_burns and self.burn_owners:
            raise ValueError("burn_owners is only for spl_burns sources")
        if self.kind is SourceKind.akash_escrow and self.distribution_account is None:
            raise ValueError(
                "an akash_escrow source needs distribution_account (the distribution module "
                "account that receives the take rate)"
            )
        if self.kind is not SourceKind.akash_escrow and self.distribution_account is not None:
            raise ValueError("distribution_account is only for akash_escrow sources")
        for attr in ("bme_account", "bme_height"):
            if self.kind is not SourceKind.akash_escrow and getattr(self, attr) is not None:
                raise ValueError(f"{attr} is only for akash_escrow sources")
        if (self.bme_account is None) != (self.bme_height is None):
            raise ValueError(
                "bme_account and bme_height go together (the BME module account and the node "
                "v2.0.0 upgrade height from which it exists)"
            )
        return self

    @model_validator(mode="after")
    def _reconciliation_fits_kind(self) -> SourceConfig:
        if self.reconciliation is None:
            return self
        method, kind = self.reconciliation.method, CATALOGUE[self.kind]
        if method is Reconciliation.none:
            return self
        if (method is Reconciliation.counter) != (self.kind is SourceKind.subtensor):
            raise ValueError(
                "reconciliation counter reads Subtensor's RAORecycledForRegistration and is "
                "only for subtensor sources"
                if method is Reconciliation.counter
                else f"reconciliation {method.value} cannot check a subtensor source: use "
                "counter (its default) or none (with its reason)"
            )
        if method is Reconciliation.counter:
            return self
        if kind.chain_kind is not ChainKind.evm:
            raise ValueError(
                f"reconciliation {method.value} reads an EVM chain; a {self.kind.value} source "
                "can only declare method none (with its reason)"
            )
        if method is Reconciliation.total_supply and self.kind is not SourceKind.erc20:
            raise ValueError(
                f"reconciliation total_supply is for erc20 (token) sources; a {self.kind.value} "
                "source is not a token: use balance_of, second_endpoint or none"
            )
        if method is Reconciliation.balance_of and (
            self.kind is SourceKind.erc20 or not kind.flows
        ):
            raise ValueError(
                f"reconciliation balance_of needs a source whose events move a balance "
                f"(service_fee, lease_escrow); a {self.kind.value} source has none: "
                + ("use total_supply" if self.kind is SourceKind.erc20 else "use none")
            )
        return self


SPLIT_LABELS = (Label.supply_side_revenue, Label.protocol_revenue, Label.holders_revenue)


class RevenueRule(_Strict):
    """Which event amount counts toward which labels, and with what share.

    A share is an exact fraction ("1", "0.8", "-4/5", "100/95"); a negative share subtracts
    (e.g. Aethir's service-fee withdrawals). Amounts stay exact: no float ever touches them.

    Every base unit of fees lands in exactly one of the split labels (supply_side_revenue,
    protocol_revenue, holders_revenue): per event, each split label gets its share truncated
    toward zero, and the base units truncation left over (the whole, the event amount x the
    sum of the split shares, truncated, minus those parts) go to `remainder_to`. By default
    that is the split label with the largest share in absolute value (the first of
    supply_side_revenue, protocol_revenue, holders_revenue on a tie). See docs/networks.md.
    """

    source: Name
    event: str
    field: str = "amount"
    labels: dict[Label, str] = Field(
        default_factory=dict,
        description="at least one, except for a rule that only ends an earlier one from its "
        "from_spec_version (the event is no revenue from that runtime on)",
    )
    remainder_to: Label | None = Field(
        default=None, description="split label receiving each event's rounding remainder"
    )
    note: str | None = None
    from_spec_version: int | None = Field(
        default=None,
        ge=0,
        description="substrate sources only: the rule applies from this runtime spec version "
        "until the next rule of the same source, event and field with a higher one (versions "
        "between the listed ones follow the nearest earlier rule)",
    )

    @field_validator("labels")
    @classmethod
    def _shares(cls, v: dict[Label, str]) -> dict[Label, str]:
        for label, share in v.items():
            if not FRACTION_RE.match(str(share)):
                raise ValueError(
                    f"share for {label.value} is {share!r}: write a fraction like 1, 0.8 or 5/95"
                )
            if Fraction(str(share)) == 0:
                raise ValueError(f"share for {label.value} is zero: leave the label out instead")
        return v

    @model_validator(mode="after")
    def _labelled(self) -> RevenueRule:
        if not self.labels and self.from_spec_version is None:
            raise ValueError(
                "labels: give at least one label (a rule without labels only ends an earlier "
                "rule, from its from_spec_version)"
            )
        return self

    @model_validator(mode="after")
    def _remainder(self) -> RevenueRule:
        split = self.split_labels
        if self.remainder_to is not None and self.remainder_to not in split:
            raise ValueError(
                f"remainder_to {self.remainder_to.value} is not one of the rule's split labels "
                f"{[lbl.value for lbl in split]}: name one of them (or leave remainder_to out)"
            )
        return self

    def share(self, label: Label) -> Fraction:
        return Fraction(str(self.labels[label]))

    @property
    def split_labels(self) -> tuple[Label, ...]:
        """The rule's labels among supply_side_revenue, protocol_revenue, holders_revenue."""
        return tuple(lbl for lbl in SPLIT_LABELS if lbl in self.labels)

    @property
    def split_share(self) -> Fraction:
        """Sum of the split labels' shares: the part of the event amount they divide."""
        return sum((self.share(lbl) for lbl in self.split_labels), Fraction(0))

    @property
    def remainder_label(self) -> Label | None:
        """The split label that takes each event's rounding remainder (None without one)."""
        if self.remainder_to is not None:
            return self.remainder_to
        split = self.split_labels
        if not split:
            return None
        return max(split, key=lambda lbl: (abs(self.share(lbl)), -SPLIT_LABELS.index(lbl)))


def _unobservable_keys(v: Any) -> Any:
    if isinstance(v, dict) and "revenue" in v:
        raise ValueError(
            "revenue is derived (fees - supply_side_revenue): declare fees or "
            "supply_side_revenue unobservable instead"
        )
    return v


class OnchainMeasure(StrEnum):
    """What a network's on-chain figure is."""

    settled_payments = "settled_payments"  # escrow payouts when providers withdraw
    burns = "burns"  # tokens burned (burn-and-mint, buy-and-burn)
    fee_events = "fee_events"  # service-fee deposits and withdrawals of a fee contract


class Difference(StrEnum):
    """Why a public figure can differ from the chain's: each has one stated reason."""

    offchain_fiat_settlement = "offchain_fiat_settlement"
    accrued_vs_settled = "accrued_vs_settled"
    burns_lag_revenue = "burns_lag_revenue"
    sources_not_indexed = "sources_not_indexed"


DIFFERENCE_REASONS: dict[Difference, str] = {
    Difference.offchain_fiat_settlement:
        "part of the revenue is settled off chain (fiat or card payments, invoices)",
    Difference.accrued_vs_settled:
        "public figures count revenue as it accrues; the chain shows it when it settles",
    Difference.burns_lag_revenue:
        "burns follow payments with a delay (buy-and-burn or burn-and-mint batches)",
    Difference.sources_not_indexed:
        "some revenue sources of the network are not indexed (other contracts or chains)",
}


class MeasureConfig(_Strict):
    """What the on-chain figure of a network measures, and what it cannot see.

    `differences` are the reasons a reported figure can differ from it; the reported-vs-on-chain
    mart states them beside every gap (docs/networks.md).
    """

    onchain: OnchainMeasure
    offchain: str | None = Field(
        default=None, min_length=3, description="what the network earns that no chain shows"
    )
    differences: list[Difference] = Field(default_factory=list)

    @field_validator("differences")
    @classmethod
    def _unique(cls, v: list[Difference]) -> list[Difference]:
        dupes = sorted({d.value for d in v if v.count(d) > 1})
        if dupes:
            raise ValueError(f"differences are listed once each; repeated: {dupes}")
        return v

    def why_they_differ(self) -> str:
        """The declared reasons as one sentence per line (empty if none is declared)."""
        return "\n".join(DIFFERENCE_REASONS[d] for d in self.differences)


class NetworkConfig(_Strict):
    display_name: str
    devnet: bool = Field(description="a local stand-in, never shown as mainnet figures")
    description: str | None = None
    measure: MeasureConfig | None = Field(
        default=None, description="what the on-chain figure measures (reported vs on-chain)"
    )
    sources: list[SourceConfig] = Field(min_length=1)
    revenue_rules: list[RevenueRule] = Field(default_factory=list)
    unobservable: dict[Label, Annotated[str, Field(min_length=3)]] = Field(
        default_factory=dict,
        description="label -> why it cannot be read on chain: the marts show NULL, never 0",
    )

    @field_validator("unobservable", mode="before")
    @classmethod
    def _unobservable(cls, v: Any) -> Any:
        return _unobservable_keys(v)

    @model_validator(mode="after")
    def _consistent(self) -> NetworkConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique within a network; repeated: {dupes}")
        by_name = {s.name: s for s in self.sources}
        for i, rule in enumerate(self.revenue_rules):
            src = by_name.get(rule.source)
            if src is None:
                raise ValueError(
                    f"revenue_rules[{i}].source {rule.source!r} is not one of the sources {names}"
                )
            events = CATALOGUE[src.kind].event_amounts
            if rule.event not in events:
                raise ValueError(
                    f"revenue_rules[{i}].event {rule.event!r} is not an event of a {src.kind.value}"
                    f" source; choose one of {sorted(events)}"
                )
            if rule.from_spec_version is not None and src.kind is not SourceKind.subtensor:
                raise ValueError(
                    f"revenue_rules[{i}].from_spec_version is only for subtensor sources "
                    "(runtime spec versions)"
                )
            if rule.field not in events[rule.event]:
                raise ValueError(
                    f"revenue_rules[{i}].field {rule.field!r} is not an amount of "
                    f"{rule.event!r}; choose one of {list(events[rule.event])}"
                )
            self._check_shares(i, rule)
        return self

    def _check_shares(self, i: int, rule: RevenueRule) -> None:
        """Every base unit of fees is split: fees share = sum of the split labels' shares."""
        where = f"revenue_rules[{i}] ({rule.source} {rule.event}.{rule.field})"
        hidden = [lbl.value for lbl in rule.labels if lbl in self.unobservable]
        if hidden:
            raise ValueError(
                f"{where} gives a share to {', '.join(hidden)}, which the network declares "
                "unobservable: remove the label from the rule or from unobservable"
            )
        split = " + ".join(lbl.value for lbl in SPLIT_LABELS)
        if Label.fees not in rule.labels:
            # A rule whose split shares add up to zero moves amounts between labels and none
            # into fees (Akash's BME burn: holders +1, supply side -1): fees are 0 by definition.
            if Label.fees not in self.unobservable and rule.split_share != 0:
                raise ValueError(
                    f"{where} has no fees share: every labelled amount is part of fees; add "
                    f"fees (= {split}, here {_fraction_text(rule.split_share)}) or declare "
                    "fees unobservable on the network with a reason"
                )
            return
        if any(lbl in self.unobservable for lbl in SPLIT_LABELS):
            return  # part of the split is unknown: the shares cannot be checked to add up
        fees = rule.share(Label.fees)
        if fees != rule.split_share:
            raise ValueError(
                f"{where}: the fees share is {rule.labels[Label.fees]} but {split} shares add up "
                f"to {_fraction_text(rule.split_share)}; every base unit of fees must land in "
                "one of them: make them add up to the fees share, or declare the label that "
                "cannot be observed in the network's unobservable with a reason"
            )


def _fraction_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


class Config(_Strict):
    """The whole file."""

    version: Literal[1] = 1
    chains: dict[Name, AnyChain]
    tokens: dict[Name, TokenConfig]
    networks: dict[Name, NetworkConfig]

    @model_validator(mode="after")
    def _references(self) -> Config:
        ids = [c.chain_id for c in self.chains.values()]
        if len(set(ids)) != len(ids):
            raise ValueError(f"chain ids must be unique across chains; got {ids}")
        for tname, token in self.tokens.items():
            if token.chain is not None and token.chain not in self.chains:
                raise ValueError(
                    f"tokens.{tname}.chain {token.chain!r} is not a declared chain "
                    f"{sorted(self.chains)}"
                )
            for attr, kind in (("address", "evm"), ("mint", "solana"), ("denom", "cosmos")):
                if getattr(token, attr) is None:
                    continue
                if token.chain is None:
                    raise ValueError(f"tokens.{tname}.{attr} needs tokens.{tname}.chain")
                if self.chains[token.chain].kind != kind:
                    raise ValueError(
                        f"tokens.{tname}.{attr}: chain {token.chain!r} is a "
                        f"{self.chains[token.chain].kind} chain; a {attr} belongs on a {kind} chain"
                    )
        for nname, net in self.networks.items():
            for i, src in enumerate(net.sources):
                where = f"networks.{nname}.sources[{i}]"
                if src.chain not in self.chains:
                    raise ValueError(
                        f"{where}.chain {src.chain!r} is not a declared chain {sorted(self.chains)}"
                    )
                if src.token not in self.tokens:
                    raise ValueError(
                        f"{where}.token {src.token!r} is not a declared token {sorted(self.tokens)}"
                    )
                token = self.tokens[src.token]
                self._check_source_chain(where, src, token)
                if (
                    src.kind is SourceKind.erc20
                    and token.address is not None
                    and (token.address != src.address or token.chain != src.chain)
                ):
                    raise ValueError(
                        f"{where}: an erc20 source must be its token's contract; "
                        f"tokens.{src.token} is {token.address} on {token.chain}"
                    )
        return self

    def _check_source_chain(self, where: str, src: SourceConfig, token: TokenConfig) -> None:
        """A source kind reads one chain kind, with that kind's address form."""
        chain = self.chains[src.chain]
        want = CATALOGUE[src.kind].chain_kind.value
        if chain.kind != want:
            raise ValueError(
                f"{where}.chain {src.chain!r} is a {chain.kind} chain; a {src.kind.value} "
                f"source reads a {want} chain"
            )
        plan = src.reconciliation
        if plan is not None and plan.method is Reconciliation.balance_of and (
            token.address is None or token.chain != src.chain
        ):
            raise ValueError(
                f"{where}.reconciliation: balance_of reads tokens.{src.token}'s contract on "
                f"{src.chain!r}, but that token has no address on that chain"
            )
        if src.kind is SourceKind.spl_burns and token.mint != src.address:
            raise ValueError(
                f"{where}: an spl_burns source's address is its token's mint; "
                f"tokens.{src.token}.mint is {token.mint}"
            )
        if src.kind is SourceKind.akash_escrow:
            assert isinstance(chain, CosmosChainConfig)
            for attr in ("address", "distribution_account", "bme_account"):
                value = getattr(src, attr)
                if value is None:
                    continue
                if value.split("1", 1)[0] != chain.bech32_prefix:
                    raise ValueError(
                        f"{where}.{attr} {value!r} does not have the chain's bech32 prefix "
                        f"{chain.bech32_prefix!r}"
                    )
            if token.denom is None:
                raise ValueError(
                    f"{where}.token {src.token!r} has no denom: an akash_escrow source's token "
                    "is a bank denom of its chain"
                )

    def denom_tokens(self, chain_name: str) -> dict[str, str]:
        """Bank denom -> token name for the tokens declared on a Cosmos chain."""
        return {
            t.denom: name
            for name, t in sorted(self.tokens.items())
            if t.denom is not None and t.chain == chain_name
        }

    # --- lookups -----------------------------------------------------------------------------
    def network(self, name: str) -> NetworkConfig:
        try:
            return self.networks[name]
        except KeyError:
            raise ConfigError(
                f"unknown network {name!r}; configured: {', '.join(sorted(self.networks))}"
            ) from None

    def chain(self, name: str) -> ChainConfig:
        """An EVM chain by name (the EVM reader's view; other kinds: `any_chain`)."""
        chain = self.any_chain(name)
        if not isinstance(chain, ChainConfig):
            raise ConfigError(f"chain {name!r} is a {chain.kind} chain, not an EVM chain")
        return chain

    def any_chain(
        self, name: str
    ) -> ChainConfig | SolanaChainConfig | CosmosChainConfig | SubstrateChainConfig:
        try:
            return self.chains[name]
        except KeyError:
            raise ConfigError(
                f"unknown chain {name!r}; configured: {', '.join(sorted(self.chains))}"
            ) from None

    def chains_of(self, network: str) -> list[str]:
        """The chains a network has sources on, in a stable order."""
        return sorted({s.chain for s in self.network(network).sources})


def _check_address(v: str) -> str:
    if not ADDRESS_RE.match(v):
        raise ValueError(f"{v!r} is not a 0x-prefixed 20-byte hex address")
    return v.lower()


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def _b58decode(v: str) -> bytes | None:
    """Base58 (Bitcoin alphabet, as Solana uses) to bytes; None if not base58."""
    if not v or any(c not in _B58_INDEX for c in v):
        return None
    n = 0
    for c in v:
        n = n * 58 + _B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(v) - len(v.lstrip("1"))) + body


def _check_pubkey(v: str) -> str:
    decoded = _b58decode(v)
    if decoded is None or len(decoded) != 32:
        raise ValueError(f"{v!r} is not a base58 Solana address (32 bytes)")
    return v  # base58 is case-sensitive: kept exactly as given


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _check_bech32(v: str) -> str:
    """A bech32 account address (BIP-173 checksum); stored lowercase like the chain prints it."""
    low = v.lower()
    hrp, sep, data = low.rpartition("1")
    ok = (
        v in (low, v.upper())
        and sep == "1"
        and bool(hrp)
        and len(data) >= 6
        and all(c in _BECH32 for c in data)
    )
    if ok:
        expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
        ok = _bech32_polymod(expanded + [_BECH32.index(c) for c in data]) == 1
    if not ok:
        raise ValueError(f"{v!r} is not a bech32 address (e.g. akash1...)")
    return low


def bech32_encode(hrp: str, payload: bytes) -> str:
    """Bech32 address of a byte payload (used for module accounts: sha256(name)[:20])."""
    acc, bits, data = 0, 0, []
    for b in payload:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _bech32_polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in data + checksum)


def module_account(prefix: str, module: str) -> str:
    """A Cosmos SDK module account's address: bech32 of the first 20 bytes of sha256 of the
    module name (x/auth `NewModuleAddress`), e.g. escrow, distribution, bme on Akash."""
    return bech32_encode(prefix, hashlib.sha256(module.encode()).digest()[:20])


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid network configuration ({err.error_count()} problem(s))"]
    for e in err.errors():
        parts = list(e["loc"])
        # The chain-kind tag pydantic puts in the path is noise: name the chain's own field.
        if len(parts) > 2 and parts[0] == "chains" and parts[2] in CHAIN_KINDS:
            del parts[2]
        loc = ".".join(str(p) for p in parts) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Load and validate a configuration file; raise ConfigError naming every problem."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration file: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping with chains, tokens and networks")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(p, exc)) from exc


DEFAULT_CONFIG_ENV = "DEPINREV_CONFIG"


def default_config_path() -> Path:
    """The configuration in use: $DEPINREV_CONFIG, else the devnet file of this checkout."""
    env = os.environ.get(DEFAULT_CONFIG_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "config" / "networks.devnet.yaml"
