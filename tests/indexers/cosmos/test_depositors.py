"""Akash depositors are tracked per escrow account where the chain names it: a deposit made
with a deployment's creation names its account (the deployment event's owner and dseq,
`deployment/<owner>/<dseq>`); a top-up (v0.24 MsgDepositDeployment, v1+ MsgAccountDeposit)
emits no event, so it is kept under the account's owner. A refund out of escrow in a
transaction closing a deployment goes to that account's depositors (x/escrow: an account
refunds its own deposits), so a granter who funded another deployment of the same owner is
not refunded by this one. Blocks in the real block_results shape (legacy `akash.v1` events,
as at node v0.24)."""

from __future__ import annotations

from typing import Any

from depinrev.config import module_account
from indexers.cosmos.akash import classify_block, deposits_in_block
from indexers.cosmos.events import decode_block_results
from indexers.cosmos.extract import Depositors

ESCROW, DIST = module_account("akash", "escrow"), module_account("akash", "distribution")
TENANT, GRANTER, GRANTER2, PROVIDER = (module_account("akash", n) for n in ("t", "g", "g2", "p"))


def _ev(type_: str, **attrs: str) -> dict[str, Any]:
    return {"type": type_, "attributes": [{"key": k.replace("_", "-"), "value": v,
                                           "index": True} for k, v in attrs.items()]}


def _transfer(sender: str, recipient: str, amount: str) -> dict[str, Any]:
    return _ev("transfer", recipient=recipient, sender=sender, amount=amount)


def _deployment(action: str, dseq: int) -> dict[str, Any]:
    return _ev("akash.v1", module="deployment", action=action, owner=TENANT, dseq=str(dseq),
               version="00")


def _tx(action: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "events": [_ev("message", action=action, sender=TENANT), *events]}


def _block(height: int, *txs: dict[str, Any]) -> Any:
    return decode_block_results({"height": str(height), "txs_results": list(txs),
                                 "begin_block_events": [], "end_block_events": []})


CREATE = "/akash.deployment.v1beta3.MsgCreateDeployment"
DEPOSIT = "/akash.deployment.v1beta3.MsgDepositDeployment"
CLOSE = "/akash.deployment.v1beta3.MsgCloseDeployment"


def test_a_refund_goes_to_the_depositors_of_the_account_it_closes():
    blocks = [
        # GRANTER funds deployment 1 at its creation; the tenant funds deployment 2 itself
        _block(100, _tx(CREATE, _deployment("deployment-created", 1),
                        _transfer(GRANTER, ESCROW, "5uakt")),
               _tx(CREATE, _deployment("deployment-created", 2),
                   _transfer(TENANT, ESCROW, "6uakt"))),
        # GRANTER2 tops up the tenant's deployment: no event names which
        _block(150, _tx(DEPOSIT, _transfer(GRANTER2, ESCROW, "7uakt"))),
        # deployment 2 closes: an outflow to GRANTER (who funded only deployment 1) and one
        # to GRANTER2 (an unnamed top-up of this tenant); then deployment 1 closes
        _block(200, _tx(CLOSE, _deployment("deployment-closed", 2),
                        _transfer(ESCROW, GRANTER, "3uakt"),
                        _transfer(ESCROW, GRANTER2, "2uakt")),
               _tx(CLOSE, _deployment("deployment-closed", 1),
                   _transfer(ESCROW, GRANTER, "4uakt"))),
    ]
    depositors = Depositors()
    deposits = []
    for be in blocks:
        for d in deposits_in_block(be.events, ESCROW):
            deposits.append((be.height, d.owner, d.account, d.transfer.sender))
            depositors.add(d.owner, d.transfer.sender, be.height, d.account)
    assert deposits == [(100, TENANT, f"deployment/{TENANT}/1", GRANTER),
                        (100, TENANT, f"deployment/{TENANT}/2", TENANT),
                        (150, TENANT, None, GRANTER2)]
    got = [(c.kind, c.transfer.recipient, c.transfer.coin.amount)
           for c in classify_block(blocks[2].events, ESCROW, DIST, None, 200, depositors)
           if c.transfer is not None]
    assert got == [("provider_payment", GRANTER, 3),  # not deployment 2's depositor
                   ("depositor_refund", GRANTER2, 2),
                   ("depositor_refund", GRANTER, 4)]
    # keyed by owner alone, GRANTER's outflow from deployment 2 would be a refund too; before
    # the deposits' height nothing is a refund
    assert depositors({TENANT}, set(), GRANTER, 200)
    assert not depositors({TENANT}, {f"deployment/{TENANT}/1"}, GRANTER, 99)
