"""The code location of the cluster: the same assets, jobs, schedules and sensors as
`pipelines.definitions`, with every step sent to the Celery workers.

    dagster-webserver -m pipelines.cluster.definitions    (`depinrev cluster up` starts it)

The executor finds the broker and the result backend in DEPINREV_CELERY_BROKER and
DEPINREV_CELERY_BACKEND when a run starts; the workers read the same URLs from their own
`dagster_celery_config.py` (written by `depinrev cluster up`). Nothing is read at import time.
"""

from __future__ import annotations

import dagster as dg
from dagster_celery import celery_executor

from pipelines import definitions as single_process

CELERY = celery_executor.configured(
    {
        "broker": {"env": "DEPINREV_CELERY_BROKER"},
        "backend": {"env": "DEPINREV_CELERY_BACKEND"},
    },
    name="depinrev_celery",
)

defs = dg.Definitions.merge(single_process.defs, dg.Definitions(executor=CELERY))
