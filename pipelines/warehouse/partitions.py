"""Quarter partitions (UTC): keys are the quarter's first day, e.g. 2025-07-01 for 2025Q3
(depinrev.quarters.Quarter.from_key / .key convert)."""

import dagster as dg

quarters = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1,4,7,10 *", start="2025-01-01", fmt="%Y-%m-%d", timezone="UTC"
)
