"""Quarter partitions (UTC): keys are the quarter's first day, e.g. 2025-07-01 for 2025Q3."""

from datetime import datetime

import dagster as dg

quarters = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1,4,7,10 *", start="2025-01-01", fmt="%Y-%m-%d", timezone="UTC"
)


def quarter_label(key: str) -> str:
    """2025-07-01 -> 2025Q3."""
    d = datetime.strptime(key, "%Y-%m-%d")
    if d.day != 1 or d.month not in (1, 4, 7, 10):
        raise ValueError(f"{key!r} is not the first day of a quarter")
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def quarter_key(label: str) -> str:
    """2025Q3 -> 2025-07-01."""
    year, q = label.upper().split("Q")
    return f"{int(year):04d}-{3 * (int(q) - 1) + 1:02d}-01"
