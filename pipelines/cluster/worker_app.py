"""The Celery app the cluster's workers run (`celery -A pipelines.cluster.worker_app worker`):
dagster-celery's app and tasks, and a heartbeat on the steps a worker holds.

A worker acknowledges a step when it ends (`task_acks_late`), so a worker killed in a step
leaves it unacknowledged, and Redis hands it to another worker once it looks older than the
visibility timeout. Without more, a step that simply runs longer than that timeout would be
handed out a second time while it still runs. The heartbeat keeps the steps of a live worker
young: every few seconds it stamps their entries in the broker's index of unacknowledged
messages with the current time, so only the steps of a dead worker ever age past the timeout.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import redis
from celery import signals
from dagster_celery.app import app, execute_job, execute_plan, resume_job

__all__ = ["app", "execute_job", "execute_plan", "resume_job"]

HEARTBEAT_SECONDS = 3.0
# kombu's Redis transport keeps unacknowledged deliveries in this sorted set, scored by the
# time of delivery (the transport option `unacked_index_key`, left at its default).
UNACKED_INDEX = "unacked_index"

_held: dict[str, str] = {}  # task id -> delivery tag, while this worker holds the step
_lock = threading.Lock()


@signals.task_received.connect
def _received(request: Any = None, **_: Any) -> None:
    tag = getattr(getattr(request, "message", None), "delivery_tag", None)
    if request is not None and tag:
        with _lock:
            _held[request.id] = str(tag)


@signals.task_postrun.connect
def _done(task_id: str | None = None, **_: Any) -> None:
    with _lock:
        _held.pop(task_id or "", None)


def _beat() -> None:
    client = redis.Redis.from_url(app.conf.broker_url)
    while True:
        with _lock:
            tags = list(_held.values())
        if tags:
            now = time.time()
            with contextlib.suppress(redis.exceptions.RedisError):
                client.zadd(UNACKED_INDEX, dict.fromkeys(tags, now), xx=True)
        time.sleep(HEARTBEAT_SECONDS)


@signals.worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    threading.Thread(target=_beat, name="depinrev-step-heartbeat", daemon=True).start()
