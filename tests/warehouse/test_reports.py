"""How reports show text: as it is, never read as console markup."""

from __future__ import annotations

from warehouse.reports import render


def test_a_table_shows_brackets_as_they_are():
    rows = [{"network": "[bold]x[/bold]", "issues": "pattern '^[a-z0-9][a-z0-9_-]*$'",
             "fees": "1.006"}]
    text = render(rows, "table", "[red]title")
    assert "[bold]x[/bold]" in text
    assert "pattern '^[a-z0-9][a-z0-9_-]*$'" in text
    assert "[red]title" in text
    assert "1.01" in text  # a label column: rounded for display, and the caption says so
    assert "amounts rounded for display" in text
    assert "amounts rounded" not in render(rows, "table", "t", caption=None)
