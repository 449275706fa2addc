"""The catalogue is the one table of source kinds: everything that lists kinds, events or
datasets elsewhere must agree with it."""

from pathlib import Path

import yaml

from depinrev.catalogue import BLOCKS_DATASET, CATALOGUE, EVENT_DATASETS, ChainKind, Reconciliation
from depinrev.config import SourceKind
from depinrev.lake import DATASETS
from indexers.evm.events import EVENTS

REPO = Path(__file__).resolve().parents[2]


def test_every_lake_dataset_is_a_catalogue_dataset_and_a_dbt_source():
    assert set(EVENT_DATASETS) == set(DATASETS)
    sources = yaml.safe_load((REPO / "dbt/models/staging/_sources.yml").read_text())["sources"]
    lake = next(s for s in sources if s["schema"] == "raw")
    assert {t["name"] for t in lake["tables"]} == {*EVENT_DATASETS, BLOCKS_DATASET}


def test_every_event_amount_is_a_column_of_its_dataset():
    for spec in CATALOGUE.values():
        for event in spec.events:
            names = DATASETS[event.dataset].names
            for amount in event.amounts:
                assert amount in names and f"{amount}_str" in names, (spec.kind, event)


def test_evm_decoder_events_are_the_catalogues():
    for kind, specs in EVENTS.items():
        assert CATALOGUE[kind].chain_kind is ChainKind.evm
        for _, event in specs:
            assert CATALOGUE[kind].event(event) is not None, (kind, event)


def test_reconciled_kinds_name_their_flows_and_the_others_say_why():
    for spec in CATALOGUE.values():
        if spec.reconciliation is Reconciliation.none:
            assert spec.not_reconciled_reason, spec.kind
        else:
            assert spec.flows, spec.kind
        for flow in spec.flows:
            event = spec.event(flow.event)
            assert event is not None and flow.field in event.amounts and flow.sign in (1, -1)


def test_ingest_assets_are_one_per_dataset():
    from pipelines.ingest.assets import INGEST_DATASETS

    assert set(INGEST_DATASETS) == {*EVENT_DATASETS, BLOCKS_DATASET}
    assert set(SourceKind) == set(CATALOGUE)
