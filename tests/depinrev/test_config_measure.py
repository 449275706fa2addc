"""A network's `measure` block: what its on-chain figure is, and why reported ones differ."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depinrev.config import ConfigError, Difference, OnchainMeasure, load_config
from tests.support.paths import REPO

CONFIGS = (REPO / "config" / "networks.devnet.yaml", REPO / "config" / "networks.mainnet.yaml")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_network_declares_its_measure(path: Path) -> None:
    for name, net in load_config(path).networks.items():
        assert net.measure is not None, name
    burns = load_config(CONFIGS[0]).networks["render-devnet"].measure
    assert burns is not None and burns.onchain is OnchainMeasure.burns
    assert burns.differences == [Difference.burns_lag_revenue]
    assert burns.why_they_differ() == (
        "burns follow payments with a delay (buy-and-burn or burn-and-mint batches)")


@pytest.mark.parametrize(("measure", "message"), [
    ({"onchain": "invoices"}, r"networks\.render-devnet\.measure\.onchain"),
    ({"onchain": "burns", "differences": ["vibes"]},
     r"networks\.render-devnet\.measure\.differences\.0"),
    ({"onchain": "burns", "differences": ["burns_lag_revenue", "burns_lag_revenue"]},
     r"repeated: \['burns_lag_revenue'\]"),
    ({"onchain": "burns", "colour": "red"}, r"networks\.render-devnet\.measure\.colour"),
])
def test_a_wrong_measure_is_refused_by_name(tmp_path: Path, measure: dict, message: str) -> None:
    doc = yaml.safe_load(CONFIGS[0].read_text())
    doc["networks"]["render-devnet"]["measure"] = measure
    p = tmp_path / "networks.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_measure_is_optional(tmp_path: Path) -> None:
    doc = yaml.safe_load(CONFIGS[0].read_text())
    del doc["networks"]["render-devnet"]["measure"]
    p = tmp_path / "networks.yaml"
    p.write_text(yaml.safe_dump(doc))
    assert load_config(p).networks["render-devnet"].measure is None
