"""Reading dbt's JSON log as it streams: node counts for progress, error messages kept."""

from __future__ import annotations

import json

from warehouse.dbt_run import _DbtLog


def _event(name: str, level: str = "info", msg: str = "", **data: object) -> str:
    return json.dumps({"info": {"name": name, "level": level, "msg": msg}, "data": data}) + "\n"


def _node(uid: str) -> dict[str, str]:
    return {"unique_id": uid, "node_status": "started", "node_finished_at": ""}


def test_finished_nodes_are_counted_once_against_the_selection():
    seen: list[tuple[int, int]] = []
    log = _DbtLog(lambda done, total: seen.append((done, total)))
    for line in [
        _event("FoundStats", msg="Found 2 models, 1 data test"),
        _event("LogStartLine", index=1, total=3, node_info=_node("model.p.a")),
        _event("LogModelResult", index=1, total=3, status="success",
               node_info=_node("model.p.a")),
        _event("LogStartLine", index=2, total=3, node_info=_node("model.p.b")),
        _event("LogTestResult", index=3, num_models=3, status="fail",
               node_info=_node("test.p.t")),
        _event("LogModelResult", index=1, total=3, status="success",
               node_info=_node("model.p.a")),  # the same node again: not counted twice
        _event("MainEncounteredError", level="error", msg="Database Error in model b"),
        "Traceback (most recent call last):\n",
    ]:
        log.read(line)
    assert seen == [(1, 3), (2, 3)]
    assert log.errors == ["Database Error in model b", "Traceback (most recent call last):"]

