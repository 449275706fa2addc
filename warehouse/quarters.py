"""Calendar quarters in UTC: parsing "2025Q3", their time bounds, and the quarter of a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_QUARTER_RE = re.compile(r"^(?P<year>\d{4})[-_ ]?[Qq](?P<q>[1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER_RE.match(text.strip())
        if m is None:
            raise ValueError(f"{text!r} is not a quarter; write it like 2025Q3")
        return cls(int(m["year"]), int(m["q"]))

    @classmethod
    def of_timestamp(cls, ts: int) -> Quarter:
        d = datetime.fromtimestamp(ts, UTC)
        return cls(d.year, (d.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    def __str__(self) -> str:
        return self.label

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * (self.q - 1) + 1, 1, tzinfo=UTC)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    @property
    def start_ts(self) -> int:
        """First second of the quarter (inclusive), Unix time."""
        return int(self.start.timestamp())

    @property
    def end_ts(self) -> int:
        """First second of the next quarter (exclusive), Unix time."""
        return self.next().start_ts


def quarters_between(first_ts: int, last_ts: int) -> list[Quarter]:
    """Every quarter that overlaps [first_ts, last_ts], in order."""
    out: list[Quarter] = []
    q = Quarter.of_timestamp(first_ts)
    last = Quarter.of_timestamp(last_ts)
    while q <= last:
        out.append(q)
        q = q.next()
    return out
