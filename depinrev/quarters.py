"""Calendar quarters in UTC: the codebase's one quarter module.

Parsing "2025Q3", the partition key form "2025-07-01" (a quarter's first day), time bounds,
the quarter of a time, the previous quarter. The dbt `quarter_label` macro is dbt's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

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
        return cls.of_date(datetime.fromtimestamp(ts, UTC))

    @classmethod
    def of_date(cls, d: date) -> Quarter:
        """The quarter a date (or a datetime, read in its own zone) falls in."""
        return cls(d.year, (d.month - 1) // 3 + 1)

    @classmethod
    def from_key(cls, key: str) -> Quarter:
        """A partition key, the quarter's first day: 2025-07-01 -> 2025Q3."""
        try:
            d = datetime.strptime(key, "%Y-%m-%d")
        except ValueError:
            d = None
        if d is None or d.day != 1 or d.month not in (1, 4, 7, 10):
            raise ValueError(f"{key!r} is not the first day of a quarter (e.g. 2025-07-01)")
        return cls.of_date(d)

    @property
    def key(self) -> str:
        """The partition key: the quarter's first day, 2025Q3 -> 2025-07-01."""
        return self.start.strftime("%Y-%m-%d")

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

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

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
