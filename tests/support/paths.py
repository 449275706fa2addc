"""Where the repository and the shared real-chain fixtures are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_fixtures() -> Path:
    """../shared/fixtures beside the checkout (CI clones main with shared/ beside it).

    Missing fixtures skip the test on a developer's machine, but FAIL it when the environment
    variable CI is set: a CI run that silently skipped the real-mainnet tests would report
    green on less than it claims."""
    root = Path(os.environ.get("DEPINREV_SHARED", REPO.parent / "shared"))
    path = root / "fixtures"
    if not path.is_dir():
        how = (
            f"shared fixtures not found at {path}: link them beside the checkout "
            f"(ln -s /path/to/shared {REPO.parent / 'shared'}) or set DEPINREV_SHARED "
            "to the directory holding fixtures/"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{how} (CI is set, so this fails instead of skipping)")
        pytest.skip(how)
    return path
