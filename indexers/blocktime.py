"""Moved to chains.blocktime (chain access used by readers, the audit and the pipelines)."""

from chains.blocktime import BlockClock, final_block

__all__ = ["BlockClock", "final_block"]
