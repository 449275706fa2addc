from datetime import UTC, date, datetime

import pytest

from depinrev.quarters import Quarter, quarters_between


def test_quarter_labels_and_partition_keys_round_trip():
    assert Quarter.from_key("2025-07-01").label == "2025Q3"
    assert Quarter.parse("2025Q4").key == "2025-10-01"
    for key in ("2025-01-01", "2025-04-01", "2026-10-01"):
        assert Quarter.from_key(key).key == key
    with pytest.raises(ValueError, match="not the first day of a quarter"):
        Quarter.from_key("2025-07-02")
    with pytest.raises(ValueError, match="not the first day of a quarter"):
        Quarter.from_key("2025Q3")


def test_previous_quarter_for_the_close_schedule():
    assert Quarter.of_date(datetime(2025, 10, 15, tzinfo=UTC)).previous().label == "2025Q3"
    assert Quarter.of_date(date(2026, 1, 15)).previous().label == "2025Q4"


def test_quarter_bounds_are_utc_and_half_open():
    q = Quarter.parse("2025Q1")
    assert q.start_ts == int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    assert q.end_ts == int(datetime(2025, 4, 1, tzinfo=UTC).timestamp())
    assert Quarter.of_timestamp(q.end_ts - 1) == q
    assert Quarter.of_timestamp(q.end_ts) == q.next()
    assert [x.label for x in quarters_between(q.start_ts, q.next().next().start_ts)] == [
        "2025Q1", "2025Q2", "2025Q3"]
