"""getTransaction goes in JSON-RPC batches (`transactions_per_batch`): the same lake and the
same calls as one call each, far fewer HTTP requests; a provider refusing batches is read one
call at a time after one refused batch, with a warning (docs/readers.md, Solana reader)."""

from __future__ import annotations

import logging
import math

import pytest

from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.indexers.solana.test_seek_then_page import (
    ENV,
    RANGE_HI,
    RANGE_LO,
    _cluster,
    _config,
)
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.lake_read import read_dataset

IN_RANGE = 200  # the mint's signatures in [RANGE_LO, RANGE_HI], one every 50 slots


def _run(tmp_path, monkeypatch, name: str, batch: int, refuse: bool = False
         ) -> tuple[dict[str, int], int, list[dict[str, object]]]:
    doc = _config().model_dump()
    doc["chains"]["solana"]["transactions_per_batch"] = batch
    config = type(_config()).model_validate(doc)
    lake = Lake(tmp_path / name)
    with JsonRpcServer(_cluster(40_000), refuse_batches=refuse) as server:
        monkeypatch.setenv(ENV, server.url)
        index_network(config, "render", lake, from_block=RANGE_LO, to_block=RANGE_HI)
        calls, http = dict(server.calls), server.http_requests
    return calls, http, read_dataset(lake, "token_burns", "render").to_pylist()


def test_batched_transactions_give_the_same_lake_in_fewer_http_requests(
        tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    one, http_one, rows_one = _run(tmp_path, monkeypatch, "one", 1)
    batched, http_batched, rows_batched = _run(tmp_path, monkeypatch, "batched", 50)
    refused, http_refused, rows_refused = _run(tmp_path, monkeypatch, "refused", 50, True)
    assert rows_one == rows_batched == rows_refused and len(rows_one) == 1
    assert one["getTransaction"] == batched["getTransaction"] == IN_RANGE
    # 200 calls in 4 batches of 50 instead of 200 requests
    assert http_one - http_batched == IN_RANGE - math.ceil(IN_RANGE / 50)
    # refused: one batch is answered with an error (its calls never reach the node), then
    # every transaction is read one call at a time
    assert refused == one and http_refused == http_one + 1
    assert "JSON-RPC batches refused" in caplog.text


@pytest.mark.parametrize("batch", [0, 1001])
def test_batch_size_outside_1_to_1000_is_refused(batch):
    from pydantic import ValidationError

    doc = _config().model_dump()
    doc["chains"]["solana"]["transactions_per_batch"] = batch
    with pytest.raises(ValidationError, match="transactions_per_batch"):
        type(_config()).model_validate(doc)
