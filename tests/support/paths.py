"""Where the repository and the shared real-chain fixtures are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_fixtures() -> Path:
    """../shared/fixtures beside the checkout (CI clones main with shared/ beside it)."""
    root = Path(os.environ.get("DEPINREV_SHARED", REPO.parent / "shared"))
    path = root / "fixtures"
    if not path.is_dir():
        pytest.skip(f"shared fixtures not found at {path} (set DEPINREV_SHARED)")
    return path
