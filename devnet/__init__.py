"""Local anvil devnet: four DePIN stand-in networks with a year of simulated 2025 history.

`devnet_up` starts the nodes, deploys the contracts and replays the history (or restores it from
a cache); the simulator's own bookkeeping is written as the ground-truth ledger the indexer and
warehouse are checked against.

The names below come from devnet.api on first use, not at import: `depinrev --help` mounts
devnet.commands, and importing the simulator (web3, the scenario) would cost it half a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devnet.api import (
        ChainState,
        DevnetError,
        DevnetState,
        devnet_down,
        devnet_status,
        devnet_up,
        read_state,
        running_devnet,
    )

__all__ = [
    "ChainState",
    "DevnetError",
    "DevnetState",
    "devnet_down",
    "devnet_status",
    "devnet_up",
    "read_state",
    "running_devnet",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("devnet.api"), name)
    raise AttributeError(f"module 'devnet' has no attribute {name!r}")
