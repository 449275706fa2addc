"""Chain access: one JSON-RPC transport and one client per chain kind (EVM, Solana, Cosmos).

Readers, the audit and the Dagster partition clocks reach a chain only through this package,
so a fault is handled once and identically. See docs/architecture.md.
"""
