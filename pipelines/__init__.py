"""pipelines: the Dagster definitions (`pipelines.definitions` is the code location).

Dagster's code server, daemon and run workers import this package before any asset module:
they get the process settings the CLI's `main` gives its own process (depinrev.process.start:
Arrow's C++ pool on the system allocator, one BLAS thread), before pyarrow or numpy load. An
already set variable wins, and in a process that imported pyarrow first (a test session)
only its children see the pool setting.
"""

from depinrev import process

process.start()
