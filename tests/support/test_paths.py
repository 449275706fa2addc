"""Tests on real fixtures skip where ../shared is absent, but fail under CI."""

from __future__ import annotations

import pytest

from tests.support.paths import shared_fixtures


def test_missing_fixtures_fail_under_ci_naming_the_path_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPINREV_SHARED", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        shared_fixtures()
    msg = str(failed.value)
    assert str(tmp_path / "nowhere" / "fixtures") in msg
    assert "ln -s" in msg and "DEPINREV_SHARED" in msg


def test_missing_fixtures_skip_outside_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPINREV_SHARED", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        shared_fixtures()
    assert str(tmp_path / "nowhere" / "fixtures") in str(skipped.value)


def test_present_fixtures_are_returned_under_ci(tmp_path, monkeypatch):
    (tmp_path / "fixtures").mkdir()
    monkeypatch.setenv("DEPINREV_SHARED", str(tmp_path))
    monkeypatch.setenv("CI", "1")
    assert shared_fixtures() == tmp_path / "fixtures"
