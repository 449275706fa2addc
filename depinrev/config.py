"""The network configuration file: chains, tokens, networks, their sources and revenue rules.

One YAML file declares everything the indexer and the warehouse need to know about a network,
so that a user adds a network or a token without touching code. It is validated by pydantic at
load time; a mistake is refused with a message that names the field and what is wrong.
See docs/networks.md for the format.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
FRACTION_RE = re.compile(r"^-?\d+(\.\d+)?(/\d+)?$")

Name = Annotated[str, Field(pattern=NAME_RE.pattern, min_length=1, max_length=64)]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the field and the problem."""


class Label(StrEnum):
    """Revenue labels, following the DefiLlama / Token Terminal vocabulary."""

    fees = "fees"
    supply_side_revenue = "supply_side_revenue"
    protocol_revenue = "protocol_revenue"
    holders_revenue = "holders_revenue"


class SourceKind(StrEnum):
    """What a contract is; each kind feeds fixed lake datasets with fixed events."""

    erc20 = "erc20"  # token_burns (Transfer to 0x0) and token_mints (Transfer from 0x0)
    service_fee = "service_fee"  # service_fees: DepositServiceFee / WithdrawServiceFee
    lease_escrow = "lease_escrow"  # lease_payments: lease lifecycle, withdrawals, refunds
    price_feed = "price_feed"  # token_prices: Chainlink-style AnswerUpdated


# Which dataset and which events (with their amount fields) each source kind produces.
KIND_EVENTS: dict[SourceKind, dict[str, tuple[str, ...]]] = {
    SourceKind.erc20: {"burn": ("amount",), "mint": ("amount",), "transfer": ("amount",)},
    SourceKind.service_fee: {"deposit": ("amount",), "withdraw": ("amount",)},
    SourceKind.lease_escrow: {
        "lease_created": ("amount",),
        "deposit": ("amount",),
        "payment_withdrawn": ("amount", "take_amount"),
        "lease_closed": (),
        "refund": ("amount",),
    },
    SourceKind.price_feed: {"answer_updated": ("answer",)},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainConfig(_Strict):
    """An EVM chain: where to reach it and how deep a block must be buried to count."""

    chain_id: int = Field(gt=0)
    kind: Literal["evm"] = "evm"
    rpc_url_env: str = Field(description="environment variable holding the RPC URL")
    rpc_url_default: str | None = Field(
        default=None, description="used when the variable is unset (devnets only)"
    )
    finality_depth: int = Field(ge=0, le=100_000)
    chunk_size: int = Field(default=2_000, ge=1, le=10_000_000, description="blocks per file")
    max_logs_per_request: int = Field(default=10_000, ge=1)
    max_blocks_per_request: int = Field(default=10_000, ge=1)
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


class TokenConfig(_Strict):
    """A token whose amounts the warehouse reports; raw amounts are scaled by `decimals`."""

    symbol: str = Field(min_length=1, max_length=16)
    decimals: int = Field(ge=0, le=36)
    chain: Name | None = Field(default=None, description="chain of the contract, if any")
    address: str | None = None
    stablecoin: bool = Field(default=False, description="priced at 1 USD")
    coingecko_id: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        return None if v is None else _check_address(v)


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

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v)

    @model_validator(mode="after")
    def _feed_decimals(self) -> SourceConfig:
        if self.kind is SourceKind.price_feed and self.answer_decimals is None:
            raise ValueError("a price_feed source needs answer_decimals (e.g. 8)")
        if self.kind is not SourceKind.price_feed and self.answer_decimals is not None:
            raise ValueError("answer_decimals is only for price_feed sources")
        if self.kind is not SourceKind.erc20 and self.index_transfers:
            raise ValueError("index_transfers is only for erc20 sources")
        return self


class RevenueRule(_Strict):
    """Which event amount counts toward which labels, and with what share.

    A share is an exact fraction ("1", "0.8", "-4/5", "100/95"); a negative share subtracts
    (e.g. Aethir's service-fee withdrawals). Amounts stay exact: no float ever touches them.
    """

    source: Name
    event: str
    field: str = "amount"
    labels: dict[Label, str] = Field(min_length=1)
    note: str | None = None

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

    def share(self, label: Label) -> Fraction:
        return Fraction(str(self.labels[label]))


class NetworkConfig(_Strict):
    display_name: str
    devnet: bool = Field(description="a local stand-in, never shown as mainnet figures")
    description: str | None = None
    sources: list[SourceConfig] = Field(min_length=1)
    revenue_rules: list[RevenueRule] = Field(default_factory=list)

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
            events = KIND_EVENTS[src.kind]
            if rule.event not in events:
                raise ValueError(
                    f"revenue_rules[{i}].event {rule.event!r} is not an event of a {src.kind.value}"
                    f" source; choose one of {sorted(events)}"
                )
            if rule.field not in events[rule.event]:
                raise ValueError(
                    f"revenue_rules[{i}].field {rule.field!r} is not an amount of "
                    f"{rule.event!r}; choose one of {list(events[rule.event])}"
                )
        return self


class Config(_Strict):
    """The whole file."""

    version: Literal[1] = 1
    chains: dict[Name, ChainConfig]
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

    # --- lookups -----------------------------------------------------------------------------
    def network(self, name: str) -> NetworkConfig:
        try:
            return self.networks[name]
        except KeyError:
            raise ConfigError(
                f"unknown network {name!r}; configured: {', '.join(sorted(self.networks))}"
            ) from None

    def chain(self, name: str) -> ChainConfig:
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


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid network configuration ({err.error_count()} problem(s))"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
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
