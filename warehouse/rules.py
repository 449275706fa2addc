"""The network configuration, flattened into the tables the warehouse and dbt read.

Revenue rules live in the YAML file, never as SQL constants: before dbt runs, `load_config_tables`
writes them (and networks, tokens, sources) into the `config` schema, and dbt declares those
tables as sources. A share is kept as an exact fraction (numerator, denominator). Each rule row
also carries the rule's split (the sum of its split labels' shares, as a fraction) and the label
that takes each event's rounding remainder, so that dbt can put every base unit in a label
(intermediate/int_revenue_events_labelled). Labels a network declares unobservable go to
config.unobservable with their reasons; the marts show them NULL.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import duckdb

from depinrev.catalogue import dataset_of
from depinrev.config import Config, RevenueRule, SourceKind


def source_tokens(config: Config, network: str, source: str) -> list[str]:
    """The tokens a source's lake rows can carry, sorted.

    Most readers stamp every row with the source's `token`. The Akash reader stamps each row
    with the token of its coin's denom (config.denom_tokens: AKT, USDC, ACT...), so an
    akash_escrow source's rows carry any token declared with a denom on its chain; revenue is
    always attributed to the row's own token, never to the source's.
    """
    src = next(s for s in config.network(network).sources if s.name == source)
    if src.kind is SourceKind.akash_escrow:
        return sorted(set(config.denom_tokens(src.chain).values()) | {src.token})
    return [src.token]


@dataclass(frozen=True)
class RuleRow:
    """One (rule, label) pair: an event field counted toward a label with an exact share."""

    rule_id: str
    network: str
    source: str
    chain: str
    chain_id: int
    dataset: str
    event: str
    field: str
    label: str
    share_numerator: int
    share_denominator: int
    share_text: str
    split_numerator: int
    split_denominator: int
    remainder_to: str | None
    token: str
    note: str | None
    # Runtime spec versions the rule covers (substrate): [spec_from, spec_to], open-ended when
    # spec_to is None; 0 and None for every other rule.
    spec_from: int = 0
    spec_to: int | None = None


def spec_ranges(rules: list[RevenueRule]) -> list[tuple[int, int | None]]:
    """Each rule's spec-version range: from its from_spec_version (0 if none) up to one below
    the next higher from_spec_version of a rule of the same source, event and field."""
    out: list[tuple[int, int | None]] = []
    for rule in rules:
        lo = rule.from_spec_version or 0
        later = [
            r.from_spec_version or 0
            for r in rules
            if (r.source, r.event, r.field) == (rule.source, rule.event, rule.field)
            and (r.from_spec_version or 0) > lo
        ]
        out.append((lo, min(later) - 1 if later else None))
    return out


def expand_rules(config: Config) -> list[RuleRow]:
    """Every (rule, label) of every network, in config order, shares reduced to lowest terms."""
    out: list[RuleRow] = []
    for nname in sorted(config.networks):
        net = config.networks[nname]
        sources = {s.name: s for s in net.sources}
        ranges = spec_ranges(net.revenue_rules)
        for i, rule in enumerate(net.revenue_rules):
            src = sources[rule.source]
            split = rule.split_share
            remainder = rule.remainder_label
            for label in rule.labels:
                share = Fraction(str(rule.labels[label]))
                out.append(
                    RuleRow(
                        rule_id=f"{nname}#{i}",
                        network=nname,
                        source=src.name,
                        chain=src.chain,
                        chain_id=config.chains[src.chain].chain_id,
                        dataset=dataset_of(src.kind, rule.event),
                        event=rule.event,
                        field=rule.field,
                        label=label.value,
                        share_numerator=share.numerator,
                        share_denominator=share.denominator,
                        share_text=str(rule.labels[label]),
                        split_numerator=split.numerator,
                        split_denominator=split.denominator,
                        remainder_to=None if remainder is None else remainder.value,
                        token=src.token,
                        note=rule.note,
                        spec_from=ranges[i][0],
                        spec_to=ranges[i][1],
                    )
                )
    return out


_DDL = """
create schema if not exists config;
create or replace table config.networks (
    network varchar primary key, display_name varchar not null, devnet boolean not null,
    description varchar, chains varchar not null);
create or replace table config.chains (
    chain varchar primary key, chain_id bigint not null, finality_depth integer not null,
    chunk_size integer not null);
create or replace table config.tokens (
    token varchar primary key, symbol varchar not null, decimals integer not null,
    chain varchar, chain_id bigint, address varchar, stablecoin boolean not null,
    coingecko_id varchar, usd_peg_from_block bigint);
create or replace table config.sources (
    network varchar not null, source varchar not null, kind varchar not null,
    chain varchar not null, chain_id bigint not null, address varchar not null,
    start_block bigint not null, token varchar not null, answer_decimals integer,
    primary key (network, source));
create or replace table config.revenue_rules (
    rule_id varchar not null, network varchar not null, source varchar not null,
    chain varchar not null, chain_id bigint not null, dataset varchar not null,
    event varchar not null, field varchar not null, label varchar not null,
    share_numerator bigint not null, share_denominator bigint not null,
    share_text varchar not null, split_numerator bigint not null,
    split_denominator bigint not null, remainder_to varchar, token varchar not null,
    note varchar, spec_from integer not null, spec_to integer,
    primary key (rule_id, label));
create or replace table config.unobservable (
    network varchar not null, label varchar not null, reason varchar not null,
    primary key (network, label));
create or replace table config.network_measures (
    network varchar primary key, onchain_measure varchar not null, offchain varchar,
    differences varchar not null, why_they_differ varchar not null);
create or replace table config.source_tokens (
    network varchar not null, source varchar not null, chain_id bigint not null,
    token varchar not null, primary key (network, source, token));
"""


def load_config_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Replace the `config` schema tables with the content of `config`."""
    con.execute(_DDL)
    for name in sorted(config.networks):
        net = config.networks[name]
        con.execute(
            "insert into config.networks values (?, ?, ?, ?, ?)",
            [name, net.display_name, net.devnet, net.description,
             ",".join(config.chains_of(name))],
        )
    for name in sorted(config.networks):
        m = config.networks[name].measure
        if m is not None:
            con.execute(
                "insert into config.network_measures values (?, ?, ?, ?, ?)",
                [name, m.onchain.value, m.offchain, ",".join(d.value for d in m.differences),
                 m.why_they_differ()],
            )
    for name in sorted(config.chains):
        ch = config.chains[name]
        con.execute(
            "insert into config.chains values (?, ?, ?, ?)",
            [name, ch.chain_id, ch.finality_depth, ch.chunk_size],
        )
    for name in sorted(config.tokens):
        t = config.tokens[name]
        chain_id = config.chains[t.chain].chain_id if t.chain else None
        con.execute(
            "insert into config.tokens values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, t.symbol, t.decimals, t.chain, chain_id, t.address, t.stablecoin,
             t.coingecko_id, t.usd_peg_from_block],
        )
    for nname in sorted(config.networks):
        for s in config.networks[nname].sources:
            con.execute(
                "insert into config.sources values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [nname, s.name, s.kind.value, s.chain, config.chains[s.chain].chain_id,
                 s.address, s.start_block, s.token, s.answer_decimals],
            )
            for token in source_tokens(config, nname, s.name):
                con.execute(
                    "insert into config.source_tokens values (?, ?, ?, ?)",
                    [nname, s.name, config.chains[s.chain].chain_id, token],
                )
    for r in expand_rules(config):
        con.execute(
            "insert into config.revenue_rules values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [r.rule_id, r.network, r.source, r.chain, r.chain_id, r.dataset, r.event, r.field,
             r.label, r.share_numerator, r.share_denominator, r.share_text, r.split_numerator,
             r.split_denominator, r.remainder_to, r.token, r.note, r.spec_from, r.spec_to],
        )
    for nname in sorted(config.networks):
        for label, reason in sorted(config.networks[nname].unobservable.items()):
            con.execute("insert into config.unobservable values (?, ?, ?)",
                        [nname, label.value, reason])
