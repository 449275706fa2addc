"""Local anvil devnet: four DePIN stand-in networks with a year of simulated 2025 history.

`devnet_up` starts the nodes, deploys the contracts and replays the history (or restores it from
a cache); the simulator's own bookkeeping is written as the ground-truth ledger the indexer and
warehouse are checked against.
"""

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
