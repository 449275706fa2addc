"""Contract artifacts and call encoding for the devnet contracts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_DIR = REPO_ROOT / "contracts" / "build"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str

    def deploy_data(self, *args: Any) -> str:
        ctor = next((e for e in self.abi if e["type"] == "constructor"), None)
        types = [i["type"] for i in ctor["inputs"]] if ctor else []
        return self.bytecode + encode(types, list(args)).hex()


@cache
def load_artifact(name: str, directory: Path = ARTIFACT_DIR) -> Artifact:
    path = directory / f"{name}.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: build the contracts with `node contracts/build.mjs`"
        ) from None
    return Artifact(name=raw["contractName"], abi=raw["abi"], bytecode=raw["bytecode"])


@cache
def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def calldata(signature: str, *args: Any) -> str:
    """ABI-encode a call; `signature` is canonical, e.g. "transfer(address,uint256)"."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = [t for t in types.split(",") if t]
    return "0x" + (selector(signature) + encode(type_list, list(args))).hex()


def topic0(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


TRANSFER = topic0("Transfer(address,address,uint256)")
APPROVAL = topic0("Approval(address,address,uint256)")
DEPOSIT_SERVICE_FEE = topic0("DepositServiceFee(address,uint64,uint256)")
WITHDRAW_SERVICE_FEE = topic0("WithdrawServiceFee(address,uint64,uint256)")
LEASE_CREATED = topic0("LeaseCreated(uint64,address,address,uint256,uint256)")
LEASE_DEPOSIT = topic0("LeaseDeposit(uint64,address,uint256)")
PAYMENT_WITHDRAWN = topic0("PaymentWithdrawn(uint64,address,uint256,uint256)")
LEASE_CLOSED = topic0("LeaseClosed(uint64,address,address)")
LEASE_REFUND = topic0("LeaseRefund(uint64,address,uint256)")
ANSWER_UPDATED = topic0("AnswerUpdated(int256,uint256,uint256)")
